"""Costs when a region may have no known price. Pure: standard library and ``tuning.pricing``.

The one place that catches ``pricing.UnknownRegion``: every page, the API, the CSV, the
CLI and the engine ask here, get ``None`` for a cost without a price and show
``PRICE_UNKNOWN`` (JSON: a null cost plus ``price_unknown`` saying why).

Ranking without a price. Within one region and architecture, one invocation costs
``GB-s × duration price + request fee + storage``: the request fee is the same at every
size, and ephemeral storage (above 512 MB) is the same for the whole run. So with the
default 512 MB of storage, the cost strategy's order is exactly the order of GB-seconds
per invocation, and it ranks by GB-seconds; balanced normalises GB-seconds as it would
normalise cost (without the request fee the cost term spreads more, so balanced leans more
towards cost: noticeable only for functions of a few ms). With more storage configured, its
cost (proportional to duration) is left out of that ranking.
"""

from __future__ import annotations

from decimal import Decimal

from tuning import pricing

#: What every page shows where a cost would be.
PRICE_UNKNOWN = "price unknown"


def unknown_reason(region: str, architecture: str = "x86_64", prices=None) -> str | None:
    """Why costs cannot be computed for ``region`` (None when its prices are known): from
    ``prices`` (a ``pricing.LambdaPrices``, see ``tuning.price_table``) or else the offline
    table."""
    try:
        pricing.price_per_gb_second(architecture, region, prices=prices)
    except pricing.UnknownRegion:
        return (
            f"No AWS Lambda price is known for {region} ({architecture}): durations are "
            "measured as usual, costs are not shown, and the cost strategy ranks sizes by "
            "GB-seconds per invocation."
        )
    except ValueError:  # an architecture without prices
        return f"No AWS Lambda price is known for the {architecture} architecture."
    return None


def invocation_cost(
    memory_mb, billed_duration_ms, architecture, region, ephemeral_storage_mb=512, prices=None
) -> Decimal | None:
    """``pricing.invocation_cost``, or None when the region has no known price."""
    if unknown_reason(region, architecture, prices):
        return None
    return pricing.invocation_cost(
        memory_mb, billed_duration_ms, architecture, region, ephemeral_storage_mb, prices=prices
    )


def billed_cost(
    report, memory_mb, architecture, region, ephemeral_storage_mb=512, prices=None
) -> Decimal | None:
    """What Lambda billed for one invocation by its REPORT line (a ``tuning.reports.Report``):
    its Billed Duration at ``memory_mb`` (the init of a cold start is in it, billed since
    2025-08-01), request fee and ephemeral storage included, plus a SnapStart restore, billed
    on its own line (Billed Restore Duration + a per-GB charge). None without a known price."""
    cost = invocation_cost(
        memory_mb, report.billed_duration_ms, architecture, region, ephemeral_storage_mb, prices
    )
    if cost is not None and report.billed_restore_duration_ms is not None:
        cost += pricing.restore_cost(
            memory_mb, report.billed_restore_duration_ms, architecture, region, prices=prices
        )
    return cost


def monthly_cost(
    memory_mb, billed_duration_ms, invocations, architecture, region, prices=None, **options
) -> Decimal | None:
    """``pricing.monthly_cost``, or None when the region has no known price."""
    if unknown_reason(region, architecture, prices):
        return None
    return pricing.monthly_cost(
        memory_mb, billed_duration_ms, invocations, architecture, region, prices=prices, **options
    )


def gb_seconds(memory_mb, billed_duration_ms) -> Decimal:
    """GB-seconds of an invocation of ``billed_duration_ms`` (or of an average of them)."""
    return pricing.gb_seconds(memory_mb, billed_duration_ms)
