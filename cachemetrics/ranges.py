"""The time ranges the cache pages and the API offer, and the bucket each one is drawn with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Range:
    key: str
    span: timedelta
    bucket_s: int
    label: str

    @property
    def hours(self) -> float:
        return self.span.total_seconds() / 3600


RANGES: dict[str, Range] = {
    r.key: r
    for r in (
        Range("1h", timedelta(hours=1), 60, "1 hour"),
        Range("6h", timedelta(hours=6), 300, "6 hours"),
        Range("24h", timedelta(hours=24), 900, "24 hours"),
        Range("7d", timedelta(days=7), 3600, "7 days"),
        Range("30d", timedelta(days=30), 6 * 3600, "30 days"),
    )
}
DEFAULT_RANGE = "24h"


def get_range(key: str | None) -> Range:
    """The range called ``key``; the default one for a missing or unknown key."""
    return RANGES.get(key or DEFAULT_RANGE, RANGES[DEFAULT_RANGE])
