"""What a sweep actually spent in Lambda charges: the sum over every invocation it made, and
over the calls of its pre-/post-processors, kept apart.

Pure: the recorded costs in, a total out. Each recorded cost is one invocation's bill as
Lambda reported it (billed duration, cold start included, at the function's memory, ephemeral
storage and architecture, request fee included). An invocation without a REPORT line still
paid its request; its duration is unknown, so only the fee is counted (and said so). The same
holds for processor calls, priced at the processor's own memory size and architecture.
"""

from __future__ import annotations

from decimal import Decimal


def sweep_cost(
    costs,
    request_price: Decimal | None,
    *,
    unmeasured=0,
    errors=0,
    cold_starts=0,
    processors: tuple[int, int, Decimal] | None = None,
) -> dict:
    """``{"usd", "invocations", "unmeasured", "errors", "cold_starts"}`` of a sweep whose
    invocations with a REPORT line cost ``costs`` (None: no price known) and ``unmeasured``
    more returned none (their request fee only). ``usd`` is a plain decimal string, or None
    when the region has no known price. A sweep with processors passes ``processors`` (calls,
    how many of them count their request fee only, what the others cost): ``usd`` includes
    them, and ``"processors": {"invocations", "unpriced", "usd"}`` says what they cost."""
    costs = list(costs)
    total = _total(costs, unmeasured, request_price)
    spent = {
        "usd": _plain(total),
        "invocations": len(costs) + unmeasured,
        "unmeasured": unmeasured,
        "errors": errors,
        "cold_starts": cold_starts,
    }
    if processors is not None:
        calls, unpriced, usd = processors
        helpers = _total([Decimal(usd)], unpriced, request_price)
        if total is not None:
            spent["usd"] = _plain(None if helpers is None else total + helpers)
        spent["processors"] = {"invocations": calls, "unpriced": unpriced, "usd": _plain(helpers)}
    return spent


def _total(costs: list, fee_only: int, request_price: Decimal | None) -> Decimal | None:
    """``costs`` plus ``fee_only`` request fees; None when a price is missing."""
    if any(cost is None for cost in costs) or (fee_only and request_price is None):
        return None
    total = sum((Decimal(cost) for cost in costs), Decimal(0))
    return total + fee_only * request_price if fee_only else total


def _plain(usd: Decimal | None) -> str | None:
    return format(usd, "f") if usd is not None else None


def sentence(spent: dict | None, format_usd) -> str:
    """ "This sweep cost $0.0123 in Lambda charges (60 invocations, …)." for pages and the CLI
    ("" when nothing was stored); ``format_usd`` formats the dollars. With processors, what
    the function's invocations and what the processor calls cost are told apart."""
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
    helpers = spent.get("processors")
    calls = helpers and _calls(helpers["invocations"])
    if spent["usd"] is None:
        if helpers:
            made += f", and {calls}"
        return (
            f"This sweep made {made}; what they cost is unknown (no Lambda price for its region)."
        )
    total = format_usd(Decimal(spent["usd"]))
    if helpers:
        own = Decimal(spent["usd"]) - Decimal(helpers["usd"])
        text = (
            f"This sweep cost {total} in Lambda charges: {format_usd(own)} for its {made} "
            f"and {format_usd(Decimal(helpers['usd']))} for {calls} (pre-/post-processors, "
            "not measured)."
        )
    else:
        text = f"This sweep cost {total} in Lambda charges ({made})."
    unmeasured = spent.get("unmeasured", 0)
    if unmeasured:
        text += (
            f" {unmeasured:,} returned no REPORT line: only their request fee is counted, their "
            "duration being unknown."
        )
    if helpers and helpers["unpriced"]:
        text += (
            f" {_calls(helpers['unpriced'])} returned no REPORT line or the processor's "
            "configuration could not be read: only their request fee is counted."
        )
    return text


def _calls(count: int) -> str:
    return f"{count:,} processor call{'' if count == 1 else 's'}"
