"""What each measured size would cost a month at the function's traffic, and what moving from
its current size to the recommended one saves. Pure: results in, numbers and sentences out."""

from __future__ import annotations

import math
from decimal import Decimal

from tuning import costing

#: Traffic the monthly chart assumes when CloudWatch has none for the function.
ASSUMED_MONTHLY_INVOCATIONS = 1_000_000


def _measured(results) -> list:
    """Sizes with durations, sorted by memory (failed sizes are left out)."""
    return sorted(
        (r for r in results if r.status != "FAILED" and r.avg_duration_ms is not None),
        key=lambda r: r.memory_mb,
    )


def monthly_costs(
    results,
    *,
    invocations: int,
    region: str,
    architecture: str = "x86_64",
    ephemeral_storage_mb: int = 512,
    prices=None,
):
    """[(memory_mb, USD per month)] at ``invocations`` per month, at ``prices`` (a
    ``pricing.LambdaPrices``; default: the offline table's for the region).

    The free tier is not deducted: it is shared by every function of the account, so
    crediting it to one function would overstate what a size change saves. Ephemeral storage
    above 512 MB is charged as in the cost per call, so both agree.
    """
    rows = []
    for r in _measured(results):
        billed = r.avg_billed_duration_ms
        if billed is None:
            billed = math.ceil(r.avg_duration_ms)
        cost = costing.monthly_cost(
            r.memory_mb,
            Decimal(str(billed)),
            invocations,
            architecture,
            region,
            free_tier=False,
            prices=prices,
            ephemeral_storage_mb=ephemeral_storage_mb,
        )
        if cost is None and r.avg_cost_usd is not None:  # no prices here: the measured cost
            cost = Decimal(str(r.avg_cost_usd)) * invocations
        if cost is not None:  # else the price is unknown: no monthly figure
            rows.append((r.memory_mb, cost))
    return rows


def _explanation(traffic: int | None, problem: str | None) -> str:
    """Why the chart assumes a traffic level (empty when it shows the function's real one)."""
    assumed = f"the chart assumes {ASSUMED_MONTHLY_INVOCATIONS:,} invocations a month."
    if problem:
        return f"{problem}. The chart assumes {ASSUMED_MONTHLY_INVOCATIONS:,} invocations a month."
    if traffic is None:
        return (
            "CloudWatch has no AWS/Lambda Invocations datapoints for this function in the last "
            f"30 days, so {assumed}"
        )
    if traffic == 0:
        return f"The function was not invoked in the last 30 days; {assumed}"
    return ""


def monthly_summary(
    results,
    *,
    traffic: int | None,
    problem: str | None,
    current_mb: int | None,
    recommended_mb: int | None,
    region: str,
    architecture: str,
    ephemeral_storage_mb: int = 512,
    prices=None,
) -> dict:
    """Monthly cost per size (``rows``), the traffic used (``invocations``, ``assumed`` when
    CloudWatch had none), the ``saving`` of moving from the current to the recommended size
    (None when either was not measured) and an ``explanation`` of any assumption."""
    invocations = traffic or ASSUMED_MONTHLY_INVOCATIONS
    rows = monthly_costs(
        results,
        invocations=invocations,
        region=region,
        architecture=architecture,
        ephemeral_storage_mb=ephemeral_storage_mb,
        prices=prices,
    )
    costs = dict(rows)
    saving = None
    if current_mb in costs and recommended_mb in costs:
        delta = costs[current_mb] - costs[recommended_mb]
        share = (delta / costs[current_mb] * 100) if costs[current_mb] else Decimal(0)
        saving = {
            "from_mb": current_mb,
            "to_mb": recommended_mb,
            "amount": delta,
            "abs_amount": abs(delta),
            "percent": float(abs(share)),
            "positive": delta > 0,
            "same": current_mb == recommended_mb,
        }
    return {
        "rows": rows,
        # Sizes were measured but none has a cost: the page says "price unknown" and why.
        "price_unknown": costing.unknown_reason(region, architecture, prices)
        if not rows and _measured(results)
        else None,
        "invocations": invocations,
        "traffic": traffic,
        "assumed": not traffic,
        "explanation": _explanation(traffic, problem),
        "saving": saving,
        "current_mb": current_mb,
        "current_tested": current_mb in costs,
        "ephemeral_storage_mb": ephemeral_storage_mb,
    }
