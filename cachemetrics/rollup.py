"""Rollups and retention: 1-minute points and their 15-minute rollups for 15 days, hourly
rollups for 15 months (or for TUNEBOARD_RETENTION_DAYS when longer, for ever when it is 0)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from cachemetrics.models import (
    POINT_RETENTION,
    ROLLUP_RETENTION,
    MetricPoint,
    MetricQuarter,
    MetricRollup,
    MetricSeries,
)
from cachemetrics.upsert import upsert_rows

# Late datapoints (and the collector's late-data overlap) can still change recent hours.
REROLL = timedelta(hours=2)
SERIES_PER_QUERY = 1000
_AGGREGATES = {"n": Count("value"), "total": Sum("value"), "lo": Min("value"), "hi": Max("value")}
# the same figures from 15-minute rollups
_REAGGREGATES = {
    "n": Sum("count"),
    "total": Sum("total"),
    "lo": Min("minimum"),
    "hi": Max("maximum"),
}


def floor_hour(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def ceil_hour(ts: datetime) -> datetime:
    hour = floor_hour(ts)
    return hour if hour == ts else hour + timedelta(hours=1)


def rollup(now: datetime | None = None) -> int:
    """Upsert the rollups of every complete collected hour; returns rollup rows written.

    Series that need the same hours (after a collection: nearly all of them) are rolled up
    together, ``SERIES_PER_QUERY`` at a time: one aggregate query and one bulk upsert each.
    Hours are summed from the 15-minute rollups (4 rows an hour instead of 60 points) from the
    first whole hour a series has them on, from the points before.
    """
    now = now or timezone.now()
    groups: dict[tuple[datetime, datetime, datetime], list[int]] = defaultdict(list)
    series = MetricSeries.objects.filter(collected_until__isnull=False)
    for pk, collected_until, rolled_up_until, quarters_from in series.values_list(
        "pk", "collected_until", "rolled_up_until", "quarters_from"
    ).iterator():
        end = floor_hour(min(collected_until, now))
        start = rolled_up_until - REROLL if rolled_up_until else end - POINT_RETENTION
        if start < end:
            split = end if quarters_from is None else ceil_hour(quarters_from)
            groups[(start, min(max(split, start), end), end)].append(pk)
    written = 0
    for (start, split, end), ids in sorted(groups.items()):
        for i in range(0, len(ids), SERIES_PER_QUERY):
            chunk = ids[i : i + SERIES_PER_QUERY]
            rows = _hours(chunk, start, split, end)
            with transaction.atomic():
                upsert_rows(
                    MetricRollup,
                    ("series_id", "hour"),
                    ("count", "total", "minimum", "maximum"),
                    rows,
                )
                MetricSeries.objects.filter(pk__in=chunk).update(rolled_up_until=end)
            written += len(rows)
    return written


def _hours(ids: list[int], start: datetime, split: datetime, end: datetime) -> list[tuple]:
    """(series, hour, count, total, minimum, maximum) of each hour of [start, end): from the
    points before ``split`` (a whole hour), from the 15-minute rollups after."""
    rows = []
    for model, when, lo, hi, aggregates in (
        (MetricPoint, "ts", start, split, _AGGREGATES),
        (MetricQuarter, "start", split, end, _REAGGREGATES),
    ):
        if lo >= hi:
            continue
        rows += (
            model.objects.filter(series_id__in=ids, **{f"{when}__gte": lo, f"{when}__lt": hi})
            .annotate(hour=TruncHour(when, tzinfo=UTC))
            .values("series_id", "hour")
            .annotate(**aggregates)
            .values_list("series_id", "hour", *aggregates)
            .order_by()
        )
    return rows


def rollup_retention(days: int) -> timedelta | None:
    """How long hourly rollups are kept under a retention of ``days`` (TUNEBOARD_RETENTION_DAYS):
    15 months, or longer when the retention is longer; None (for ever) when it is 0. The
    retention never cuts the 15 months short: the rollups are the only history of the metrics.
    """
    return max(ROLLUP_RETENTION, timedelta(days=days)) if days else None


def purge(
    now: datetime | None = None, days: int | None = None, dry_run: bool = False
) -> dict[str, int]:
    """Delete points and 15-minute rollups older than 15 days (rolled up by the hour by then)
    and hourly rollups older than ``rollup_retention(days)`` (``days`` defaults to
    TUNEBOARD_RETENTION_DAYS); with ``dry_run`` only count them.

    Series by series, so each DELETE walks the (series, ts) primary key: there is no index on
    the timestamp alone (it would add ~30 % to the biggest table).
    """
    now = now or timezone.now()
    keep_rollups = rollup_retention(settings.TUNEBOARD_RETENTION_DAYS if days is None else days)
    points = quarters = rollups = 0
    for series_id in MetricSeries.objects.values_list("pk", flat=True).iterator():
        old_points = MetricPoint.objects.filter(series_id=series_id, ts__lt=now - POINT_RETENTION)
        points += old_points.count() if dry_run else old_points.delete()[0]
        old_quarters = MetricQuarter.objects.filter(
            series_id=series_id, start__lt=now - POINT_RETENTION
        )
        quarters += old_quarters.count() if dry_run else old_quarters.delete()[0]
        if keep_rollups is not None:
            old_rollups = MetricRollup.objects.filter(
                series_id=series_id, hour__lt=now - keep_rollups
            )
            rollups += old_rollups.count() if dry_run else old_rollups.delete()[0]
    return {"points": points, "quarters": quarters, "rollups": rollups}
