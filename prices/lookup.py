"""Read stored Price List prices: what consumers (tuning, cachemetrics) ask, in one place."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from prices.models import Price, PriceRefresh, RefreshStatus


@dataclass(frozen=True)
class Tier:
    begin: Decimal
    end: Decimal | None
    usd: Decimal


@dataclass(frozen=True)
class RegionPrices:
    """One service's stored prices in one region: (item, variant) -> tiers in order."""

    service: str
    region: str
    tiers: dict[tuple[str, str], list[Tier]]
    effective_date: date  # the newest effective date among them
    fetched_at: datetime

    def get(self, item: str, variant: str = "") -> list[Tier]:
        return self.tiers.get((item, variant), [])

    def last(self, item: str, variant: str = "") -> Decimal | None:
        """The price of the open-ended (highest) tier: past any free tier."""
        tiers = self.get(item, variant)
        return tiers[-1].usd if tiers else None


def region_prices(service: str, region: str) -> RegionPrices | None:
    """Stored prices of ``service`` in ``region``; None when the Price List gave none."""
    rows = list(Price.objects.of(service, region))
    if not rows:
        return None
    tiers: dict[tuple[str, str], list[Tier]] = defaultdict(list)
    for row in rows:
        tiers[(row.item, row.variant)].append(Tier(row.begin_range, row.end_range, row.usd))
    return RegionPrices(
        service,
        region,
        dict(tiers),
        max(row.effective_date for row in rows),
        max(row.fetched_at for row in rows),
    )


def last_refresh() -> PriceRefresh | None:
    return PriceRefresh.objects.first()


def last_good_refresh() -> PriceRefresh | None:
    return PriceRefresh.objects.filter(status=RefreshStatus.SUCCEEDED).first()
