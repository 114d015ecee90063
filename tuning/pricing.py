"""AWS Lambda on-demand cost arithmetic, in ``Decimal`` US dollars.

Pure functions, standard library only. Prices come in a :class:`LambdaPrices` table (one
region's prices, with their source and date): the caller passes the one it resolved (the AWS
Price List's, see ``tuning.price_table``); without one, :func:`offline_prices` reads the shipped
table in ``tuning.pricing_data``, the offline fallback.

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
from dataclasses import dataclass, field
from decimal import Decimal
from numbers import Real

from tuning import pricing_data

__all__ = [
    "ARCHITECTURES",
    "LambdaPrices",
    "UnknownRegion",
    "duration_cost",
    "ephemeral_storage_price",
    "gb_seconds",
    "invocation_cost",
    "known_regions",
    "monthly_cost",
    "offline_prices",
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


SOURCE_PRICE_LIST = "AWS Price List"
SOURCE_OFFLINE = "offline table"


@dataclass(frozen=True)
class LambdaPrices:
    """One region's on-demand Lambda prices, per architecture, and where they came from.

    ``duration``: architecture -> ((upper bound in monthly GB-seconds or None, USD per
    GB-second), ...) in tier order; ``request``: USD per request; ``ephemeral_storage``: USD
    per GB-second above 512 MB; ``snapstart_restore``: USD per GB restored (may be empty).
    """

    region: str
    duration: dict
    request: dict
    ephemeral_storage: dict
    source: str
    as_of: str  # ISO date: the prices' effective date (Price List) or transcription date
    snapstart_restore: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        """What every cost computed from these prices says about them."""
        if self.source == SOURCE_PRICE_LIST:
            return f"prices as of {self.as_of} (AWS Price List)"
        return f"prices from the offline table, as of {self.as_of} (AWS Price List unavailable)"

    @property
    def offline(self) -> bool:
        return self.source != SOURCE_PRICE_LIST

    def to_json(self) -> dict:
        """Plain JSON (strings for Decimals), what a run records; :meth:`from_json` reads it."""

        def tiers(value):
            return [[None if b is None else str(b), str(p)] for b, p in value]

        return {
            "region": self.region,
            "source": self.source,
            "as_of": self.as_of,
            "duration": {arch: tiers(t) for arch, t in self.duration.items()},
            "request": {arch: str(v) for arch, v in self.request.items()},
            "ephemeral_storage": {arch: str(v) for arch, v in self.ephemeral_storage.items()},
            "snapstart_restore": {arch: str(v) for arch, v in self.snapstart_restore.items()},
        }

    @classmethod
    def from_json(cls, data: dict) -> LambdaPrices:
        def tiers(value):
            return tuple((None if b is None else Decimal(b), Decimal(p)) for b, p in value)

        return cls(
            region=data["region"],
            source=data["source"],
            as_of=data["as_of"],
            duration={arch: tiers(t) for arch, t in data["duration"].items()},
            request={arch: Decimal(v) for arch, v in data["request"].items()},
            ephemeral_storage={arch: Decimal(v) for arch, v in data["ephemeral_storage"].items()},
            snapstart_restore={
                arch: Decimal(v) for arch, v in data.get("snapstart_restore", {}).items()
            },
        )


def known_regions() -> tuple[str, ...]:
    """The regions of the offline table, sorted."""
    return tuple(sorted(pricing_data.REGIONS))


def offline_prices(region: str) -> LambdaPrices:
    """The shipped table's prices for ``region`` (the offline fallback); UnknownRegion if none."""
    prices = pricing_data.REGIONS.get(region) if isinstance(region, str) else None
    if prices is None:
        raise UnknownRegion(
            f"no Lambda prices known for region {region!r}; known regions: "
            + ", ".join(known_regions())
            + f" (table in tuning/pricing_data.py, as of {pricing_data.PRICES_AS_OF})"
        )
    per_request = prices["request_per_million"] / _MILLION
    return LambdaPrices(
        region=region,
        duration={
            arch: tuple(
                zip((*pricing_data.TIER_BOUNDS_GB_SECONDS[arch], None), prices[arch], strict=True)
            )
            for arch in ARCHITECTURES
        },
        request=dict.fromkeys(ARCHITECTURES, per_request),
        ephemeral_storage=dict.fromkeys(ARCHITECTURES, prices["ephemeral_storage_gb_second"]),
        source=SOURCE_OFFLINE,
        as_of=pricing_data.PRICES_AS_OF,
        snapstart_restore=dict.fromkeys(ARCHITECTURES, pricing_data.SNAPSTART_RESTORE_PER_GB),
    )


def _prices(region: str, prices: LambdaPrices | None) -> LambdaPrices:
    return prices if prices is not None else offline_prices(region)


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


def price_per_gb_second(
    architecture: str = "x86_64", region: str = "us-east-1", prices: LambdaPrices | None = None
) -> Decimal:
    """First-tier duration price per GB-second."""
    return _prices(region, prices).duration[_architecture(architecture)][0][1]


def request_price(
    region: str = "us-east-1", prices: LambdaPrices | None = None, architecture: str = "x86_64"
) -> Decimal:
    """Price of one request (e.g. 0.0000002 for $0.20 per million)."""
    return _prices(region, prices).request[_architecture(architecture)]


def ephemeral_storage_price(
    region: str = "us-east-1", prices: LambdaPrices | None = None, architecture: str = "x86_64"
) -> Decimal:
    """Price per GB-second of ephemeral storage configured above 512 MB."""
    return _prices(region, prices).ephemeral_storage[_architecture(architecture)]


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
    prices: LambdaPrices | None = None,
) -> Decimal:
    """Cost of one invocation at the first-tier price, request fee included."""
    table = _prices(region, prices)
    arch = _architecture(architecture)
    seconds = _decimal(billed_duration_ms, "billed_duration_ms") / _MS_PER_S
    compute = gb_seconds(memory_mb, billed_duration_ms) * table.duration[arch][0][1]
    storage = _extra_storage_gb(ephemeral_storage_mb) * seconds
    return compute + table.request[arch] + storage * table.ephemeral_storage[arch]


def restore_cost(
    memory_mb,
    billed_restore_duration_ms,
    architecture: str = "x86_64",
    region: str = "us-east-1",
    prices: LambdaPrices | None = None,
) -> Decimal:
    """Cost of one SnapStart restore (a new environment resumed from the snapshot): its
    Billed Restore Duration in GB-seconds at the first-tier duration price, plus memory (GB)
    × the per-GB restore price (the table's, else ``pricing_data.SNAPSTART_RESTORE_PER_GB``)."""
    table = _prices(region, prices)
    arch = _architecture(architecture)
    per_gb = table.snapstart_restore.get(arch, pricing_data.SNAPSTART_RESTORE_PER_GB)
    memory_gb = _decimal(memory_mb, "memory_mb") / _MB_PER_GB
    restore = gb_seconds(memory_mb, billed_restore_duration_ms) * table.duration[arch][0][1]
    return restore + memory_gb * per_gb


def duration_cost(
    monthly_gb_seconds,
    architecture: str = "x86_64",
    region: str = "us-east-1",
    prices: LambdaPrices | None = None,
) -> Decimal:
    """Cost of a month's (already free-tier-reduced) GB-seconds through the tiers."""
    tiers = _prices(region, prices).duration[_architecture(architecture)]
    remaining = _decimal(monthly_gb_seconds, "monthly_gb_seconds")
    total = Decimal(0)
    lower = Decimal(0)
    for upper, price in tiers:
        in_tier = remaining if upper is None else min(remaining, upper - lower)
        total += in_tier * price
        remaining -= in_tier
        if upper is not None:
            lower = upper
    return total


def monthly_cost(
    memory_mb,
    billed_duration_ms,
    invocations,
    architecture: str = "x86_64",
    region: str = "us-east-1",
    free_tier: bool = True,
    ephemeral_storage_mb=512,
    prices: LambdaPrices | None = None,
) -> Decimal:
    """Monthly bill for ``invocations`` invocations of ``billed_duration_ms`` each.

    Duration: GB-seconds minus the 400,000 GB-s free tier (when ``free_tier``),
    priced through the monthly tiers of the architecture. Requests: minus the
    1 M free requests, at the region's request price. Ephemeral storage above
    512 MB: GB × seconds at the storage price (no free tier).
    """
    table = _prices(region, prices)
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
        duration_cost(total_gb_seconds, arch, region, prices=table)
        + billable_requests * table.request[arch]
        + storage * table.ephemeral_storage[arch]
    )
