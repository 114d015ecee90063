"""The prices the cache economics use: the AWS Price List's for the cluster's or table's
region (stored by the ``prices`` app) first; else the offline figures (``DaxNodePrice`` rows,
then ``cachemetrics.pricing``), labelled as such."""

from __future__ import annotations

from dataclasses import dataclass

from cachemetrics import pricing
from cachemetrics.models import DaxNodePrice
from prices import lookup


@dataclass(frozen=True)
class NodePrice:
    hourly_usd: float | None
    source: str = ""  # a URL for the offline figures, "" for the Price List
    as_of: str = ""
    note: str = ""
    label: str = ""  # "prices as of DATE (AWS Price List)" or the offline table's label


def node_price(node_type: str, region: str) -> NodePrice:
    stored = lookup.region_prices("AmazonDAX", region)
    hourly = stored.last("node_hour", node_type) if stored else None
    if hourly is not None:
        as_of = stored.effective_date.isoformat()
        return NodePrice(float(hourly), "", as_of, "", pricing.price_list_label(as_of))
    row = (
        DaxNodePrice.objects.filter(node_type=node_type, region=region).first()
        or DaxNodePrice.objects.filter(node_type=node_type, region="us-east-1").first()
    )
    if row:
        note = "" if row.region == region else f"{row.region} price used"
        as_of = row.as_of.isoformat()
        return NodePrice(
            float(row.hourly_usd), row.source, as_of, note, pricing.offline_label(as_of)
        )
    hourly = pricing.node_hourly_usd(node_type)
    if hourly is None:
        return NodePrice(None, note=f"no price known for {node_type}")
    as_of = pricing.DAX_PRICE_AS_OF.isoformat()
    note = "" if region == "us-east-1" else "us-east-1 price used"
    return NodePrice(hourly, pricing.DAX_PRICE_SOURCE, as_of, note, pricing.offline_label(as_of))


def read_prices(region: str) -> pricing.ReadPrices:
    """DynamoDB read prices of ``region``: on-demand per read request unit and provisioned per
    RCU-hour past the free tier (the open-ended tier)."""
    stored = lookup.region_prices("AmazonDynamoDB", region)
    rru = stored.last("read_request_unit") if stored else None
    rcu_hour = stored.last("rcu_hour") if stored else None
    if rru is None or rcu_hour is None:
        return pricing.ReadPrices()
    return pricing.ReadPrices(
        on_demand_per_million_rru=float(rru) * 1_000_000,
        provisioned_per_rcu_hour=float(rcu_hour),
        label=pricing.price_list_label(stored.effective_date.isoformat()),
    )
