"""Prices for the cache economics (stdlib only).

The source of truth is the AWS Price List (stored by the ``prices`` app, read through
``cachemetrics.price_table``): DAX node-hours per node type and DynamoDB read prices per
region. The figures below are the offline fallback, labelled as such wherever they are used:
the DAX node-hour prices seed the ``DaxNodePrice`` table (editable in the admin) through a data
migration; the DynamoDB read prices are us-east-1's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

HOURS_PER_MONTH = 730  # AWS's own convention in its price calculator

DAX_PRICE_SOURCE = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
DAX_PRICE_AS_OF = date(2026, 11, 26)
DAX_PRICE_NOTE = (
    "US East (N. Virginia) on-demand node-hour list prices, entered 2026-11-26 from the AWS "
    "price list (dax.t3.small $0.04 and dax.r5.large $0.269 cross-checked against a "
    "third-party summary dated April 2026). Verify against the source before relying on them."
)

# node type -> USD per node-hour, us-east-1
DAX_NODE_PRICES_US_EAST_1: dict[str, float] = {
    "dax.t2.small": 0.04,
    "dax.t2.medium": 0.08,
    "dax.t3.small": 0.04,
    "dax.t3.medium": 0.081,
    "dax.r4.large": 0.322,
    "dax.r4.xlarge": 0.644,
    "dax.r4.2xlarge": 1.288,
    "dax.r5.large": 0.269,
    "dax.r5.xlarge": 0.537,
    "dax.r5.2xlarge": 1.074,
    "dax.r5.4xlarge": 2.148,
    "dax.r5.8xlarge": 4.296,
    "dax.r5.12xlarge": 6.444,
    "dax.r5.16xlarge": 8.592,
    "dax.r5.24xlarge": 12.888,
}

# DynamoDB reads, us-east-1 (the figures the issue gives; AWS halved on-demand prices on
# 1 Nov 2024, these are the current ones).
READ_PRICE_SOURCE = "https://aws.amazon.com/dynamodb/pricing/"
ON_DEMAND_USD_PER_MILLION_RRU = 0.125
PROVISIONED_USD_PER_RCU_HOUR = 0.00013


READ_PRICE_AS_OF = date(2026, 11, 26)


def offline_label(as_of: str) -> str:
    return f"prices from the offline table, as of {as_of} (AWS Price List unavailable)"


def price_list_label(as_of: str) -> str:
    return f"prices as of {as_of} (AWS Price List)"


@dataclass(frozen=True)
class ReadPrices:
    on_demand_per_million_rru: float = ON_DEMAND_USD_PER_MILLION_RRU
    provisioned_per_rcu_hour: float = PROVISIONED_USD_PER_RCU_HOUR
    label: str = offline_label(READ_PRICE_AS_OF.isoformat()) + ", us-east-1"


def eventual_read_units(item_kb: float) -> float:
    """Read units of one eventually consistent read: 0.5 per started 4 KB (at least 0.5)."""
    return 0.5 * max(1, math.ceil(max(item_kb, 0.0) / 4.0 - 1e-9))


def strong_read_units(item_kb: float) -> float:
    """Read units of one strongly consistent read: 1 per started 4 KB."""
    return 2 * eventual_read_units(item_kb)


def node_hourly_usd(node_type: str, overrides: dict[str, float] | None = None) -> float | None:
    """Price of one node-hour: the admin-edited table first, then the built-in list."""
    if overrides and node_type in overrides:
        return overrides[node_type]
    return DAX_NODE_PRICES_US_EAST_1.get(node_type)


def cluster_monthly_usd(hourly_usd: float, node_count: int) -> float:
    return hourly_usd * node_count * HOURS_PER_MONTH
