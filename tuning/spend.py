"""What a sweep actually spent in Lambda charges: the sum over every invocation it made.

Pure: the recorded costs in, a total out. Each recorded cost is one invocation's bill as
Lambda reported it (billed duration, cold start included, at the function's memory, ephemeral
storage and architecture, request fee included). An invocation without a REPORT line still
paid its request; its duration is unknown, so only the fee is counted (and said so).
"""

from __future__ import annotations

from decimal import Decimal


def sweep_cost(costs, request_price: Decimal | None, *, errors: int = 0, cold_starts: int = 0):
    """``{"usd", "invocations", "unmeasured", "errors", "cold_starts"}`` for the recorded
    invocation ``costs`` (None where no REPORT came back, or no price was known). ``usd`` is a
    plain decimal string, or None when an invocation has no cost and the region's request
    price is unknown too."""
    costs = list(costs)
    measured = [Decimal(c) for c in costs if c is not None]
    unmeasured = len(costs) - len(measured)
    total: Decimal | None = sum(measured, Decimal(0))
    if unmeasured:
        total = None if request_price is None else total + unmeasured * request_price
    return {
        "usd": format(total, "f") if total is not None else None,
        "invocations": len(costs),
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
