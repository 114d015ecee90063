"""What a sweep actually spent in Lambda charges: the sum over every invocation it made.

Pure: the recorded costs in, a total out. Each recorded cost is one invocation's bill as
Lambda reported it (billed duration, cold start included, at the function's memory, ephemeral
storage and architecture, request fee included). An invocation without a REPORT line still
paid its request; its duration is unknown, so only the fee is counted (and said so).
"""

from __future__ import annotations

from decimal import Decimal


def sweep_cost(
    costs, request_price: Decimal | None, *, unmeasured=0, errors=0, cold_starts=0
) -> dict:
    """``{"usd", "invocations", "unmeasured", "errors", "cold_starts"}`` of a sweep whose
    invocations with a REPORT line cost ``costs`` (None: no price known) and ``unmeasured``
    more returned none (their request fee only). ``usd`` is a plain decimal string, or None
    when the region has no known price."""
    costs = list(costs)
    total = None
    if all(cost is not None for cost in costs) and (request_price is not None or not unmeasured):
        total = sum((Decimal(cost) for cost in costs), Decimal(0))
        if unmeasured:
            total += unmeasured * request_price
    return {
        "usd": format(total, "f") if total is not None else None,
        "invocations": len(costs) + unmeasured,
        "unmeasured": unmeasured,
        "errors": errors,
        "cold_starts": cold_starts,
    }


def sentence(spent: dict | None, format_usd) -> str:
    """ "This sweep cost $0.0123 in Lambda charges (60 invocations, …)." for pages and the CLI
    ("" when nothing was stored); ``format_usd`` formats the dollars."""
    if not spent:
        return ""
    count = spent["invocations"]
    made = f"{count:,} invocation{'' if count == 1 else 's'}"
    extras = [
        f"{n:,} {what}"
        for n, what in (
            (spent.get("errors", 0), "with errors"),
            (spent.get("cold_starts", 0), "cold starts"),
        )
        if n
    ]
    if extras:
        made += ", of which " + " and ".join(extras)
    if spent["usd"] is None:
        return (
            f"This sweep made {made}; what they cost is unknown (no Lambda price for its region)."
        )
    text = f"This sweep cost {format_usd(Decimal(spent['usd']))} in Lambda charges ({made})."
    unmeasured = spent.get("unmeasured", 0)
    if unmeasured:
        text += (
            f" {unmeasured:,} returned no REPORT line: only their request fee is counted, their "
            "duration being unknown."
        )
    return text
