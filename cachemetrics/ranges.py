"""The time ranges the cache pages and the API offer, and the bucket each one is drawn with.

A preset ("24h") ends at the last collected minute of what it shows; a custom range (from/to,
validated by ``cachemetrics.forms.RangeForm``) is a fixed window. Windows longer than two days,
or starting before the 15 days of kept minutes, are read from hourly rollups
(``cachemetrics.points``): a custom range is then drawn in whole hours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

HOUR = 3600
POINT_RETENTION = timedelta(days=15)  # 1-minute points are kept 15 days (as CloudWatch does)
ROLLUP_FROM = timedelta(days=2)  # windows longer than this read hourly rollups


@dataclass(frozen=True)
class Range:
    key: str
    span: timedelta
    bucket_s: int
    label: str
    start: datetime | None = None  # custom ranges only: [start, end) in UTC
    end: datetime | None = None
    rollups: bool | None = None  # read hourly rollups (None: decided by the span)

    @property
    def hours(self) -> float:
        return self.span.total_seconds() / 3600

    @property
    def is_custom(self) -> bool:
        return self.start is not None

    @property
    def bucket_count(self) -> int:
        return math.ceil(self.span.total_seconds() / self.bucket_s)

    def window(self, last_minute: datetime) -> tuple[datetime, datetime]:
        """[start, end): a preset ends at ``last_minute`` (the last collected minute)."""
        if self.start is not None and self.end is not None:
            return self.start, self.end
        return last_minute - self.span, last_minute


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
CUSTOM = "custom"
MIN_SPAN = timedelta(minutes=5)

# (longest span, bucket seconds) for custom ranges: a few hundred buckets at most.
_BUCKETS = (
    (timedelta(hours=1), 60),
    (timedelta(hours=6), 300),
    (timedelta(hours=24), 900),
    (timedelta(days=7), HOUR),
    (timedelta(days=31), 6 * HOUR),
    (timedelta(days=186), 24 * HOUR),
)
_LONGEST_BUCKET = 7 * 24 * HOUR


def get_range(key: str | Range | None) -> Range:
    """The range called ``key`` (a Range is returned as it is); the default one for a missing
    or unknown key."""
    if isinstance(key, Range):
        return key
    return RANGES.get(key or DEFAULT_RANGE, RANGES[DEFAULT_RANGE])


def hourly(start: datetime, end: datetime, now: datetime) -> bool:
    """Whether [start, end) is read from hourly rollups: long, or older than the minutes."""
    return end - start > ROLLUP_FROM or start < now - POINT_RETENTION


def custom_range(start: datetime, end: datetime, now: datetime) -> Range:
    """The fixed window [start, end) (valid, aware datetimes), floored to the minute, or to
    the hour when it is read from hourly rollups, with a bucket that gives at most a few
    hundred points."""
    start = start.astimezone(UTC).replace(second=0, microsecond=0)
    end = end.astimezone(UTC).replace(second=0, microsecond=0)
    by_hour = hourly(start, end, now)
    if by_hour:
        start = start.replace(minute=0)
    span = end - start
    bucket = next((b for longest, b in _BUCKETS if span <= longest), _LONGEST_BUCKET)
    if by_hour:
        bucket = max(bucket, HOUR)
    return Range(CUSTOM, span, bucket, "custom range", start=start, end=end, rollups=by_hour)
