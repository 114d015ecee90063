"""The Lambda prices a cost is computed with: the AWS Price List's (stored by the ``prices``
app) for the region, else the shipped offline table, labelled as such; ``UnknownRegion``
when neither has the region. A run records the prices it used (``TuningRun.prices``), so its
costs and the date they state never change afterwards."""

from __future__ import annotations

from prices import lookup
from tuning.pricing import (
    ARCHITECTURES,
    SOURCE_PRICE_LIST,
    LambdaPrices,
    UnknownRegion,
    known_regions,
    offline_prices,
)


def from_price_list(region: str) -> LambdaPrices | None:
    """The stored Price List prices of ``region``; None unless both architectures' duration
    and request prices are there."""
    stored = lookup.region_prices("AWSLambda", region)
    if stored is None:
        return None
    duration, request, storage, restore = {}, {}, {}, {}
    for arch in ARCHITECTURES:
        tiers = stored.get("duration", arch)
        if not tiers or stored.last("request", arch) is None:
            return None
        duration[arch] = tuple((t.end, t.usd) for t in tiers)
        request[arch] = stored.last("request", arch)
        storage[arch] = stored.last("ephemeral_storage", arch)
        if stored.last("snapstart_restore", arch) is not None:
            restore[arch] = stored.last("snapstart_restore", arch)
    if None in storage.values():  # not in this region's answer: the offline figure, if any
        try:
            fallback = offline_prices(region).ephemeral_storage
        except ValueError:
            return None
        storage = {arch: storage[arch] or fallback[arch] for arch in ARCHITECTURES}
    return LambdaPrices(
        region=region,
        duration=duration,
        request=request,
        ephemeral_storage=storage,
        source=SOURCE_PRICE_LIST,
        as_of=stored.effective_date.isoformat(),
        snapstart_restore=restore,
    )


def current(region: str) -> LambdaPrices:
    """Today's prices for ``region``: Price List first, offline table second (UnknownRegion)."""
    return from_price_list(region) or offline_prices(region)


def current_or_none(region: str) -> LambdaPrices | None:
    """:func:`current`, or None when the region is priced nowhere ("price unknown")."""
    try:
        return current(region)
    except UnknownRegion:
        return None


def priced_regions() -> set[str]:
    """Every region with Lambda prices: the Price List's and the offline table's."""
    return set(lookup.regions("AWSLambda")) | set(known_regions())


def for_run(run) -> LambdaPrices | None:
    """The prices ``run`` uses: those it recorded, or today's, recorded now (the first caller
    wins, so every executor of a run prices with the same table); None when its region is
    priced nowhere (nothing is recorded then)."""
    if run.prices:
        return LambdaPrices.from_json(run.prices)
    prices = current_or_none(run.region)
    if prices is None:
        return None
    type(run).objects.filter(pk=run.pk, prices={}).update(prices=prices.to_json())
    run.prices = type(run).objects.values_list("prices", flat=True).get(pk=run.pk)
    return LambdaPrices.from_json(run.prices)


def recorded(run) -> LambdaPrices | None:
    """The prices a run recorded (None for runs from before prices were recorded)."""
    return LambdaPrices.from_json(run.prices) if run.prices else None
