"""What a sweep will cost in AWS charges and how long it will take, before it starts. Pure:
durations per size in, figures out. The caller finds the durations (the function's last run,
or its timeout as an upper bound) and formats the figures for display."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from tuning import costing, pricing

#: Lambda gives one full vCPU at 1769 MB; below that, CPU (and CPU-bound time) scales with memory.
ONE_VCPU_MB = 1769
#: A rough allowance for updating $LATEST and publishing one version, in seconds.
PUBLISH_S = 2.0
#: Cold-starts-only mode publishes a version per invocation: a rough allowance for each, in ms.
COLD_START_PUBLISH_MS = 1500


@dataclass(frozen=True)
class Estimate:
    """The figures of one estimate; ``basis`` says what the durations came from."""

    invocations: int
    cost_usd: Decimal | None  # None: no price is known for the region
    seconds: float
    basis: str
    upper_bound: bool


def durations_from_run(measured: dict[int, float], sizes) -> dict[int, float]:
    """Duration per size from a run's measured sizes: the nearest measured size (on a log
    scale), scaled by the CPU share for sizes it did not test."""
    durations = {}
    for size in sizes:
        nearest = min(measured, key=lambda m: abs(math.log(m / size)))
        factor = min(nearest, ONE_VCPU_MB) / min(size, ONE_VCPU_MB)
        durations[size] = measured[nearest] * factor
    return durations


def durations_from_timeout(timeout_s: float, sizes) -> dict[int, float]:
    """Every invocation running to the function's timeout: an upper bound."""
    return {size: timeout_s * 1000 for size in sizes}


def estimate(
    sizes,
    invocations_per_size: int,
    *,
    durations: dict[int, float],
    basis: str,
    upper_bound: bool,
    parallel: bool,
    concurrency: int,
    cold_starts_only: bool,
    architecture: str,
    region: str,
    prices: pricing.LambdaPrices | None = None,
) -> Estimate:
    """AWS charges and wall time of a sweep with these durations (ms) per size, at ``prices``
    (default: the offline table's for the region)."""
    total_cost = Decimal(0)
    wall_ms = 0.0
    for size in sizes:
        billed = math.ceil(durations[size])
        per_call = costing.invocation_cost(size, billed, architecture, region, prices=prices)
        if per_call is None or total_cost is None:
            total_cost = None  # no price for this region: the time is still estimated
        else:
            total_cost += per_call * invocations_per_size
        rounds = math.ceil(invocations_per_size / concurrency) if parallel else invocations_per_size
        wall_ms += rounds * durations[size]
    if cold_starts_only:
        wall_ms += invocations_per_size * len(sizes) * COLD_START_PUBLISH_MS
    return Estimate(
        invocations=invocations_per_size * len(sizes),
        cost_usd=total_cost,
        seconds=wall_ms / 1000 + PUBLISH_S * len(sizes),
        basis=basis,
        upper_bound=upper_bound,
    )
