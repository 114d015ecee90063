"""Statistics over invocation figures, and the strategies that pick a memory size.

Pure functions, standard library only.

``trimmed_mean`` is the same computation as AWS Lambda Power Tuning's
``computeAverageDuration`` (lambda/utils.js) with the clamp its executor applies
to ``discardTopBottom`` (lambda/executor.js: ``Math.min(Math.max(x, 0), 0.4)``),
so averages are comparable with that tool. The strategies mirror its analyzer
(lambda/analyzer.js) with deterministic tie-breaks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from numbers import Real

__all__ = [
    "MAX_DISCARD",
    "NOISY_CI_RATIO",
    "STRATEGIES",
    "Candidate",
    "Stats",
    "pareto_frontier",
    "percentile",
    "pick_balanced",
    "pick_cost",
    "pick_speed",
    "recommend",
    "summarize",
    "t_critical_95",
    "trimmed_mean",
]

#: Power Tuning clamps ``discardTopBottom`` to [0, 0.4]; so do we.
MAX_DISCARD = 0.4
#: A result is "noisy" when the 95 % CI half-width exceeds this share of the mean.
NOISY_CI_RATIO = 0.10
STRATEGIES = ("cost", "speed", "balanced")


# --------------------------------------------------------------------------- statistics


def _check_values(values) -> list[float]:
    result = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, Real | Decimal):
            raise TypeError(f"values must be numbers, got {value!r}")
        number = float(value)
        if math.isnan(number):
            raise ValueError("values must not contain NaN")
        result.append(number)
    return result


def trimmed_mean(values, discard: float = 0.2) -> float:
    """Mean after dropping ``int(len(values) * discard)`` values from each end.

    Identical to AWS Lambda Power Tuning: 0 for no values; ``discard`` is
    clamped to [0, 0.4] as its executor does, which guarantees at least one
    value survives (2 * int(0.4 n) < n for every n >= 1).
    """
    numbers = sorted(_check_values(values))
    if not numbers:
        return 0.0
    discard = float(discard)
    if math.isnan(discard):
        raise ValueError("discard must be a number, got nan")
    discard = min(max(discard, 0.0), MAX_DISCARD)
    drop = int(len(numbers) * discard)
    kept = numbers[drop : len(numbers) - drop]
    return math.fsum(kept) / len(kept)


def percentile(values, p: float) -> float:
    """The ``p``-th percentile (0..100) with linear interpolation (numpy's default).

    Raises ``ValueError`` for no values or ``p`` outside [0, 100].
    """
    numbers = sorted(_check_values(values))
    if not numbers:
        raise ValueError("percentile of no values is undefined")
    if isinstance(p, bool) or not isinstance(p, Real) or not 0 <= p <= 100:
        raise ValueError(f"percentile p must be between 0 and 100, got {p!r}")
    rank = (len(numbers) - 1) * (p / 100)
    low = math.floor(rank)
    high = min(low + 1, len(numbers) - 1)
    fraction = rank - low
    return numbers[low] + (numbers[high] - numbers[low]) * fraction


# Two-sided 95 % critical values of Student's t (0.975 quantile) by degrees of freedom.
_T_975 = (
    (1, 12.7062),
    (2, 4.3027),
    (3, 3.1824),
    (4, 2.7764),
    (5, 2.5706),
    (6, 2.4469),
    (7, 2.3646),
    (8, 2.3060),
    (9, 2.2622),
    (10, 2.2281),
    (11, 2.2010),
    (12, 2.1788),
    (13, 2.1604),
    (14, 2.1448),
    (15, 2.1314),
    (16, 2.1199),
    (17, 2.1098),
    (18, 2.1009),
    (19, 2.0930),
    (20, 2.0860),
    (21, 2.0796),
    (22, 2.0739),
    (23, 2.0687),
    (24, 2.0639),
    (25, 2.0595),
    (26, 2.0555),
    (27, 2.0518),
    (28, 2.0484),
    (29, 2.0452),
    (30, 2.0423),
    (40, 2.0211),
    (50, 2.0086),
    (60, 2.0003),
    (80, 1.9901),
    (100, 1.9840),
    (120, 1.9799),
    (200, 1.9719),
    (500, 1.9647),
    (1000, 1.9623),
)
_Z_975 = 1.959964


def t_critical_95(df: int) -> float:
    """Student's t 0.975 quantile for ``df`` degrees of freedom.

    Tabulated for df 1..30 and at 40, 50, 60, 80, 100, 120, 200, 500, 1000;
    between entries, linear interpolation in 1/df (accurate to about 1e-4);
    beyond 1000, interpolation towards the normal quantile 1.959964.
    """
    if isinstance(df, bool) or not isinstance(df, int) or df < 1:
        raise ValueError(f"degrees of freedom must be a positive integer, got {df!r}")
    previous_df, previous_t = _T_975[0]
    for table_df, table_t in _T_975:
        if df == table_df:
            return table_t
        if df < table_df:
            share = (1 / previous_df - 1 / df) / (1 / previous_df - 1 / table_df)
            return previous_t + (table_t - previous_t) * share
        previous_df, previous_t = table_df, table_t
    # Beyond the table: interpolate in 1/df between the last entry and df = infinity.
    return _Z_975 + (previous_t - _Z_975) * (previous_df / df)


@dataclass(frozen=True)
class Stats:
    """Summary of one memory size's durations (or any sample)."""

    count: int
    mean: float
    trimmed_mean: float
    min: float
    max: float
    p50: float
    p95: float
    p99: float
    stdev: float
    ci95_low: float
    ci95_high: float
    noisy: bool
    noisy_reason: str | None


def summarize(values, discard: float = 0.2) -> Stats:
    """Count, means, extremes, percentiles, sample stdev and the 95 % CI of the mean.

    The confidence interval is ``mean ± t(0.975, n-1) · s / √n``. The result
    is flagged ``noisy`` when the half-width exceeds 10 % of the mean, or when
    a single value leaves the spread unknown. Raises ``ValueError`` for no values.
    """
    numbers = sorted(_check_values(values))
    count = len(numbers)
    if count == 0:
        raise ValueError("cannot summarize no values")
    mean = math.fsum(numbers) / count
    if count == 1:
        stdev = 0.0
        half_width = 0.0
        noisy = True
        reason = "only 1 value: the spread cannot be estimated; noisy: run more invocations"
    else:
        stdev = math.sqrt(math.fsum((x - mean) ** 2 for x in numbers) / (count - 1))
        half_width = t_critical_95(count - 1) * stdev / math.sqrt(count)
        limit = NOISY_CI_RATIO * abs(mean)
        noisy = half_width > limit
        reason = None
        if noisy:
            share = f"{half_width / abs(mean):.1%} of the mean" if mean else "the mean is 0"
            reason = (
                f"95% confidence interval ±{half_width:.4g} is {share} "
                f"(limit {NOISY_CI_RATIO:.0%}) over {count} values; noisy: run more invocations"
            )
    return Stats(
        count=count,
        mean=mean,
        trimmed_mean=trimmed_mean(numbers, discard),
        min=numbers[0],
        max=numbers[-1],
        p50=percentile(numbers, 50),
        p95=percentile(numbers, 95),
        p99=percentile(numbers, 99),
        stdev=stdev,
        ci95_low=mean - half_width,
        ci95_high=mean + half_width,
        noisy=noisy,
        noisy_reason=reason,
    )


# --------------------------------------------------------------------------- strategies


@dataclass(frozen=True)
class Candidate:
    """One memory size's averages. Any object with these attributes will do.

    ``avg_cost_usd`` may be any figure that orders sizes as their cost does: without a
    price, the caller passes GB-seconds per invocation (``tuning.costing`` says why).
    """

    memory_mb: int
    avg_cost_usd: Decimal | float
    avg_duration_ms: float
    failed: bool = False


def _exact(value) -> Fraction:
    """Exact rational of a Decimal/float/int, so mixed inputs compare and tie exactly."""
    return Fraction(value)


def _usable(candidates) -> list:
    return [c for c in candidates if not c.failed]


def pick_cost(candidates):
    """Lowest average cost; ties go to the faster, then to the smaller memory.

    Failed sizes are skipped; ``None`` when no size succeeded.
    """
    usable = _usable(candidates)
    if not usable:
        return None
    return min(
        usable,
        key=lambda c: (_exact(c.avg_cost_usd), _exact(c.avg_duration_ms), c.memory_mb),
    )


def pick_speed(candidates):
    """Lowest average duration; ties go to the cheaper, then to the smaller memory.

    Failed sizes are skipped; ``None`` when no size succeeded.
    """
    usable = _usable(candidates)
    if not usable:
        return None
    return min(
        usable,
        key=lambda c: (_exact(c.avg_duration_ms), _exact(c.avg_cost_usd), c.memory_mb),
    )


def _check_weight(weight) -> Fraction:
    if isinstance(weight, bool) or not isinstance(weight, Real | Decimal):
        raise ValueError(f"balanced weight must be a number between 0 and 1, got {weight!r}")
    if isinstance(weight, float) and math.isnan(weight):
        raise ValueError("balanced weight must be a number between 0 and 1, got nan")
    if not 0 <= weight <= 1:
        raise ValueError(f"balanced weight must be between 0 and 1, got {weight!r}")
    return _exact(weight)


def pick_balanced(candidates, weight: float = 0.5):
    """Minimise ``w·cost/max_cost + (1-w)·duration/max_duration`` (Power Tuning's formula).

    ``weight`` 1 means cost only, 0 speed only; outside [0, 1] is a ``ValueError``.
    The maxima are over the sizes that succeeded; ties go to the smaller memory.
    Failed sizes are skipped; ``None`` when no size succeeded.
    """
    w = _check_weight(weight)
    usable = _usable(candidates)
    if not usable:
        return None
    max_cost = max(_exact(c.avg_cost_usd) for c in usable)
    max_duration = max(_exact(c.avg_duration_ms) for c in usable)

    def score(c):
        cost_term = _exact(c.avg_cost_usd) / max_cost if max_cost else Fraction(0)
        time_term = _exact(c.avg_duration_ms) / max_duration if max_duration else Fraction(0)
        return (w * cost_term + (1 - w) * time_term, c.memory_mb)

    return min(usable, key=score)


def recommend(candidates, strategy: str, weight: float = 0.5):
    """Dispatch to :func:`pick_cost`, :func:`pick_speed` or :func:`pick_balanced`."""
    if strategy == "cost":
        return pick_cost(candidates)
    if strategy == "speed":
        return pick_speed(candidates)
    if strategy == "balanced":
        return pick_balanced(candidates, weight)
    raise ValueError(
        f"unknown strategy {strategy!r}: valid strategies are " + ", ".join(STRATEGIES)
    )


#: Positions of the balanced-weight slider on the run page: 0, 0.05, … 1.
BALANCED_WEIGHT_STEPS = 20


def balanced_by_weight(candidates, steps: int = BALANCED_WEIGHT_STEPS) -> dict[str, int | None]:
    """The balanced winner's memory size at each slider position: {"0.05": 512, ...}."""
    winners = {}
    for step in range(steps + 1):
        pick = pick_balanced(candidates, Fraction(step, steps))
        winners[f"{step / steps:.2f}"] = pick.memory_mb if pick else None
    return winners


def pareto_frontier(candidates) -> list:
    """Sizes no other size beats on both cost and duration, sorted by duration.

    A size is dominated when another is no slower and no dearer, and strictly
    better on one of the two. Failed sizes are left out. Ties in duration sort
    by cost, then memory.
    """
    usable = _usable(candidates)
    points = [(_exact(c.avg_duration_ms), _exact(c.avg_cost_usd), c) for c in usable]

    def dominated(duration, cost) -> bool:
        return any(d <= duration and k <= cost and (d < duration or k < cost) for d, k, _ in points)

    frontier = [(d, k, c) for d, k, c in points if not dominated(d, k)]
    frontier.sort(key=lambda item: (item[0], item[1], item[2].memory_mb))
    return [c for _, _, c in frontier]
