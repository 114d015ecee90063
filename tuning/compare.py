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
    return f"{run.function_name} · {run.created_at:%Y-%m-%d %H:%M} · {str(run.id)[:8]}"


def percent_change(new, old) -> float | None:
    if new is None or old in (None, 0):
        return None
    return (float(new) - float(old)) / float(old) * 100


def comparison_table(labelled) -> list[dict]:
    """One row per memory size: the baseline's result and, for every other run, its result
    with the duration and cost change against the baseline in percent."""
    _label, baseline_results = labelled[0]
    base = {r.memory_mb: r for r in baseline_results if r.avg_duration_ms is not None}
    sizes = sorted({r.memory_mb for _label, results in labelled for r in results})
    table = []
    for size in sizes:
        row = {"memory_mb": size, "baseline": base.get(size), "others": []}
        for _label, results in labelled[1:]:
            other = next((r for r in results if r.memory_mb == size), None)
            b = base.get(size)
            both = other is not None and b is not None
            row["others"].append(
                {
                    "result": other,
                    "duration_pct": percent_change(other.avg_duration_ms, b.avg_duration_ms)
                    if both
                    else None,
                    "cost_pct": percent_change(other.avg_cost_usd, b.avg_cost_usd)
                    if both
                    else None,
                }
            )
        table.append(row)
    return table
