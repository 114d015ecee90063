"""Comparing runs: which runs were asked for, and per memory size how much faster or cheaper
each run is than the first (the baseline). Pure over result objects."""

from __future__ import annotations

import uuid


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


def label(run) -> str:
    """How a run is named in the legend and the table: function, start time, short id."""
    return f"{run.function_name} · {run.created_at:%Y-%m-%d %H:%M} · {str(run.id)[:8]}"


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
