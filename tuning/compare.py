"""Comparing runs: which runs were asked for, and per memory size how much faster or cheaper
each run is than the first (the baseline). Pure over result objects.

Runs are compared like for like. A run imported from AWS Lambda Power Tuning carries Power
Tuning's figures: average *billed* durations (init included in its cold-starts mode) and
costs without the request fee. So when such a run is compared, every run's durations are its
average billed duration, and an imported run's cost per call is recomputed from its
durations with Tuneboard's prices for its memory, region and architecture, request fee
included — as Tuneboard prices its own runs. Power Tuning's own figure stays alongside.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from decimal import Decimal

from tuning import costing

SOURCE_IMPORTED = "imported from AWS Lambda Power Tuning"
SOURCE_MEASURED = "measured by Tuneboard"


def ids_from_query(values) -> list[uuid.UUID]:
    """Run ids from ``?ids=a,b&ids=c`` (order kept, duplicates and non-ids dropped)."""
    ids = []
    for value in values:
        for part in value.split(","):
            try:
                ids.append(uuid.UUID(part.strip()))
            except ValueError:
                continue
    return list(dict.fromkeys(ids))


def _imported(run) -> dict:
    """What an imported run kept from its import ({} for a run Tuneboard measured)."""
    if not getattr(run, "imported_from", ""):
        return {}
    return (run.analysis or {}).get("imported") or {}


def label(run) -> str:
    """How a run is named in the legend and the table: function, start time, short id (and
    the name an imported comparison link gave it)."""
    name = _imported(run).get("name")
    text = f"{run.function_name} · {run.created_at:%Y-%m-%d %H:%M} · {str(run.id)[:8]}"
    return f"{name} · {text}" if name else text


def run_facts(run) -> dict:
    """Where a run's figures come from and its architecture, as the compare page shows them:
    ``{"source", "imported", "architecture", "architecture_note"}``."""
    if not run.imported_from:
        return {
            "source": SOURCE_MEASURED,
            "imported": False,
            "architecture": run.architecture,
            "architecture_note": "",
        }
    inferred = _imported(run).get("architecture")
    return {
        "source": SOURCE_IMPORTED,
        "imported": True,
        "architecture": inferred or "unknown",
        "architecture_note": "inferred from its costs"
        if inferred
        else "its costs match no architecture's price: priced as x86_64",
    }


@dataclass(frozen=True)
class Figures:
    """One size of a run on the comparison's common basis (``reported_cost_usd``: the cost
    the run itself holds, Power Tuning's for an imported run)."""

    memory_mb: int
    status: str
    avg_duration_ms: float | None
    avg_cost_usd: Decimal | None
    reported_cost_usd: Decimal | None
    recomputed: bool = False

    @property
    def price_unknown(self) -> bool:
        """Measured, but without a cost: the region has no known price."""
        return self.avg_cost_usd is None and self.avg_duration_ms is not None


def like_for_like(run, results, *, billed: bool) -> list[Figures]:
    """A run's results on the comparison's basis: durations billed (``billed``, when an
    imported run is compared) or measured; costs per call at Tuneboard's prices with the
    request fee (an imported run's recomputed from its billed durations)."""
    figures = []
    for r in results:
        duration, cost, recomputed = r.avg_duration_ms, r.avg_cost_usd, False
        if run.imported_from:
            ours = None
            if duration is not None:
                ours = costing.invocation_cost(
                    r.memory_mb, math.ceil(duration), run.architecture, run.region
                )
            if ours is not None:  # else no price for the region: Power Tuning's figure stays
                cost, recomputed = ours, True
        elif billed and r.avg_billed_duration_ms is not None:
            duration = r.avg_billed_duration_ms
        figures.append(Figures(r.memory_mb, r.status, duration, cost, r.avg_cost_usd, recomputed))
    return figures


def percent_change(new, old) -> float | None:
    """``new`` against ``old`` in percent (negative: faster or cheaper); None without both."""
    if new is None or old in (None, 0):
        return None
    return (float(new) - float(old)) / float(old) * 100


def _change(result, baseline, field: str) -> float | None:
    if result is None or baseline is None:
        return None
    return percent_change(getattr(result, field), getattr(baseline, field))


def comparison_table(labelled) -> list[dict]:
    """One row per memory size tested by any run: the baseline's result (the first run's) and,
    for every other run, its result with the duration and cost change in percent.

    ``labelled`` is [(label, results)], results having memory_mb, avg_duration_ms and
    avg_cost_usd; a baseline size without figures has no changes."""
    _label, baseline_results = labelled[0]
    base = {r.memory_mb: r for r in baseline_results if r.avg_duration_ms is not None}
    sizes = sorted({r.memory_mb for _label, results in labelled for r in results})
    table = []
    for size in sizes:
        baseline = base.get(size)
        others = []
        for _label, results in labelled[1:]:
            result = next((r for r in results if r.memory_mb == size), None)
            others.append(
                {
                    "result": result,
                    "duration_pct": _change(result, baseline, "avg_duration_ms"),
                    "cost_pct": _change(result, baseline, "avg_cost_usd"),
                }
            )
        table.append({"memory_mb": size, "baseline": baseline, "others": others})
    return table
