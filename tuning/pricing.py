"""AWS Lambda on-demand cost arithmetic, in ``Decimal`` US dollars.

Pure functions, standard library only; prices come from ``tuning.pricing_data``.

* :func:`invocation_cost` — one invocation at the first-tier price: duration
  (GB-seconds) + the request fee + ephemeral storage above 512 MB.
* :func:`monthly_cost` — a month of invocations with the free tier
  (400,000 GB-s and 1 M requests) and the monthly duration tiers.
* :func:`restore_cost` — what a SnapStart restore adds to its invocation: the Billed
  Restore Duration at the duration price + the per-GB restore charge.

Results are not rounded: round for display only.
"""

from __future__ import annotations

import math
from decimal import Decimal
from numbers import Real

from tuning import pricing_data

__all__ = [
    "ARCHITECTURES",
    "UnknownRegion",
    "duration_cost",
    "ephemeral_storage_price",
    "gb_seconds",
    "invocation_cost",
    "known_regions",
    "monthly_cost",
    "price_per_gb_second",
    "request_price",
    "restore_cost",
]

ARCHITECTURES = ("x86_64", "arm64")
_MB_PER_GB = Decimal(1024)
_MS_PER_S = Decimal(1000)
_MILLION = Decimal(1000000)


class UnknownRegion(ValueError):
    """No prices are known for this region (we never fall back to a default)."""


def known_regions() -> tuple[str, ...]:
    """The regions with prices, sorted."""
    return tuple(sorted(pricing_data.REGIONS))


def _region(region: str) -> dict:
    prices = pricing_data.REGIONS.get(region) if isinstance(region, str) else None
    if prices is None:
        raise UnknownRegion(
            f"no Lambda prices known for region {region!r}; known regions: "
            + ", ".join(known_regions())
            + f" (table in tuning/pricing_data.py, as of {pricing_data.PRICES_AS_OF})"
        )
    return prices


def _architecture(architecture: str) -> str:
    if architecture not in ARCHITECTURES:
        raise ValueError(
            f"unknown architecture {architecture!r}: expected one of " + ", ".join(ARCHITECTURES)
        )
    return architecture


def _decimal(value, name: str) -> Decimal:
    """Exact Decimal of a non-negative finite number (floats via their shortest repr)."""
    if isinstance(value, bool) or not isinstance(value, Real | Decimal):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    else:
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}")
        number = Decimal(repr(float(value)))
    if not number.is_finite() or number < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return number


def price_per_gb_second(architecture: str = "x86_64", region: str = "us-east-1") -> Decimal:
    """First-tier duration price per GB-second."""
    return _region(region)[_architecture(architecture)][0]


def request_price(region: str = "us-east-1") -> Decimal:
    """Price of one request (e.g. 0.0000002 for $0.20 per million)."""
    return _region(region)["request_per_million"] / _MILLION


def ephemeral_storage_price(region: str = "us-east-1") -> Decimal:
    """Price per GB-second of ephemeral storage configured above 512 MB."""
    return _region(region)["ephemeral_storage_gb_second"]


def gb_seconds(memory_mb, billed_duration_ms) -> Decimal:
    """``memory_mb / 1024 × billed_duration_ms / 1000``."""
    memory = _decimal(memory_mb, "memory_mb")
    duration = _decimal(billed_duration_ms, "billed_duration_ms")
    return memory / _MB_PER_GB * duration / _MS_PER_S


def _extra_storage_gb(ephemeral_storage_mb) -> Decimal:
    storage = _decimal(ephemeral_storage_mb, "ephemeral_storage_mb")
    if storage < pricing_data.FREE_EPHEMERAL_STORAGE_MB:
        raise ValueError(
            f"ephemeral_storage_mb must be at least {pricing_data.FREE_EPHEMERAL_STORAGE_MB} "
            f"(Lambda's minimum), got {ephemeral_storage_mb!r}"
        )
    return (storage - pricing_data.FREE_EPHEMERAL_STORAGE_MB) / _MB_PER_GB


def invocation_cost(
    memory_mb,
    billed_duration_ms,
    architecture: str = "x86_64",
    region: str = "us-east-1",
    ephemeral_storage_mb=512,
) -> Decimal:
    """Cost of one invocation at the first-tier price, request fee included."""
    prices = _region(region)
    arch = _architecture(architecture)
    seconds = _decimal(billed_duration_ms, "billed_duration_ms") / _MS_PER_S
    compute = gb_seconds(memory_mb, billed_duration_ms) * prices[arch][0]
    storage = _extra_storage_gb(ephemeral_storage_mb) * seconds
    return (
        compute
        + prices["request_per_million"] / _MILLION
        + storage * prices["ephemeral_storage_gb_second"]
    )


def restore_cost(
    memory_mb,
    billed_restore_duration_ms,
    architecture: str = "x86_64",
    region: str = "us-east-1",
) -> Decimal:
    """Cost of one SnapStart restore (a new environment resumed from the snapshot): its
    Billed Restore Duration in GB-seconds at the first-tier duration price, plus memory (GB)
    × ``pricing_data.SNAPSTART_RESTORE_PER_GB``."""
    price = _region(region)[_architecture(architecture)][0]
    memory_gb = _decimal(memory_mb, "memory_mb") / _MB_PER_GB
    restore = gb_seconds(memory_mb, billed_restore_duration_ms) * price
    return restore + memory_gb * pricing_data.SNAPSTART_RESTORE_PER_GB


def duration_cost(
    monthly_gb_seconds, architecture: str = "x86_64", region: str = "us-east-1"
) -> Decimal:
    """Cost of a month's (already free-tier-reduced) GB-seconds through the tiers."""
    prices = _region(region)[_architecture(architecture)]
    remaining = _decimal(monthly_gb_seconds, "monthly_gb_seconds")
    first_bound, second_bound = pricing_data.TIER_BOUNDS_GB_SECONDS[architecture]
    tier_sizes = (first_bound, second_bound - first_bound, None)
    total = Decimal(0)
    for size, price in zip(tier_sizes, prices, strict=True):
        in_tier = remaining if size is None else min(remaining, size)
        total += in_tier * price
        remaining -= in_tier
    return total


def monthly_cost(
    memory_mb,
    billed_duration_ms,
    invocations,
    architecture: str = "x86_64",
    region: str = "us-east-1",
    free_tier: bool = True,
    ephemeral_storage_mb=512,
) -> Decimal:
    """Monthly bill for ``invocations`` invocations of ``billed_duration_ms`` each.

    Duration: GB-seconds minus the 400,000 GB-s free tier (when ``free_tier``),
    priced through the monthly tiers of the architecture. Requests: minus the
    1 M free requests, at the region's request price. Ephemeral storage above
    512 MB: GB × seconds at the storage price (no free tier).
    """
    prices = _region(region)
    arch = _architecture(architecture)
    count = _decimal(invocations, "invocations")
    total_gb_seconds = gb_seconds(memory_mb, billed_duration_ms) * count
    billable_requests = count
    if free_tier:
        total_gb_seconds = max(Decimal(0), total_gb_seconds - pricing_data.FREE_TIER_GB_SECONDS)
        billable_requests = max(Decimal(0), count - pricing_data.FREE_TIER_REQUESTS)
    seconds = _decimal(billed_duration_ms, "billed_duration_ms") / _MS_PER_S * count
    storage = _extra_storage_gb(ephemeral_storage_mb) * seconds
    return (
        duration_cost(total_gb_seconds, arch, region)
        + billable_requests * prices["request_per_million"] / _MILLION
        + storage * prices["ephemeral_storage_gb_second"]
    )
