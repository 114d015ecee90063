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


def regions(service: str) -> list[str]:
    """The regions with stored prices of ``service``."""
    return list(Price.objects.filter(service=service).values_list("region", flat=True).distinct())


def last_refresh() -> PriceRefresh | None:
    return PriceRefresh.objects.first()


def last_good_refresh() -> PriceRefresh | None:
    return PriceRefresh.objects.filter(status=RefreshStatus.SUCCEEDED).first()


def overview() -> dict[str, list[dict]]:
    """Every stored price for the prices page: per service, one row per region (Lambda,
    DynamoDB) or per region and node type (DAX), with its effective and fetch dates."""
    rows = Price.objects.order_by("service", "region", "item", "variant", "begin_range")
    grouped: dict[tuple[str, str], list[Price]] = defaultdict(list)
    for row in rows:
        grouped[(row.service, row.region)].append(row)
    out: dict[str, list[dict]] = {"AWSLambda": [], "AmazonDAX": [], "AmazonDynamoDB": []}
    for (service, region), prices in grouped.items():
        first: dict[tuple[str, str], Price] = {}
        last: dict[tuple[str, str], Price] = {}
        for p in prices:
            first.setdefault((p.item, p.variant), p)
            last[(p.item, p.variant)] = p
        dates = {
            "effective_date": max(p.effective_date for p in prices),
            "fetched_at": max(p.fetched_at for p in prices),
        }
        if service == "AmazonDAX":
            for (_, node_type), p in sorted(last.items()):
                out[service].append(
                    {"region": region, "node_type": node_type, "usd": p.usd,
                     "effective_date": p.effective_date, "fetched_at": p.fetched_at}
                )  # fmt: skip
            continue

        def usd(item, variant="", table=last):
            p = table.get((item, variant))
            return None if p is None else p.usd

        if service == "AWSLambda":
            values = {
                "x86_gb_second": usd("duration", "x86_64", first),
                "arm_gb_second": usd("duration", "arm64", first),
                "request": usd("request", "x86_64"),
                "storage": usd("ephemeral_storage", "x86_64"),
                "snapstart_restore": usd("snapstart_restore", "x86_64"),
            }
        else:
            values = {"read_request_unit": usd("read_request_unit"), "rcu_hour": usd("rcu_hour")}
        out.setdefault(service, []).append({"region": region, **values, **dates})
    return out
