"""Hourly rollups and retention: 1-minute points for 15 days, hourly rollups for 15 months (or
for TUNEBOARD_RETENTION_DAYS when longer, for ever when it is 0)."""

from __future__ import annotations

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
    MetricRollup,
    MetricSeries,
)

# Late datapoints (and the collector's late-data overlap) can still change recent hours.
REROLL = timedelta(hours=2)


def floor_hour(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def rollup(now: datetime | None = None) -> int:
    """Upsert the rollups of every complete collected hour; returns rollup rows written."""
    now = now or timezone.now()
    written = 0
    series = MetricSeries.objects.filter(collected_until__isnull=False)
    for s in series.only("pk", "collected_until", "rolled_up_until").iterator():
        end = floor_hour(min(s.collected_until, now))
        start = s.rolled_up_until - REROLL if s.rolled_up_until else end - POINT_RETENTION
        if start >= end:
            continue
        rows = (
            MetricPoint.objects.filter(series_id=s.pk, ts__gte=start, ts__lt=end)
            .annotate(hour=TruncHour("ts", tzinfo=UTC))
            .values("hour")
            .annotate(n=Count("value"), total=Sum("value"), lo=Min("value"), hi=Max("value"))
        )
        rollups = [
            MetricRollup(
                series_id=s.pk,
                hour=row["hour"],
                count=row["n"],
                total=row["total"],
                minimum=row["lo"],
                maximum=row["hi"],
            )
            for row in rows
        ]
        with transaction.atomic():
            MetricRollup.objects.bulk_create(
                rollups,
                update_conflicts=True,
                unique_fields=["series", "hour"],
                update_fields=["count", "total", "minimum", "maximum"],
            )
            MetricSeries.objects.filter(pk=s.pk).update(rolled_up_until=end)
        written += len(rollups)
    return written


def rollup_retention(days: int) -> timedelta | None:
    """How long hourly rollups are kept under a retention of ``days`` (TUNEBOARD_RETENTION_DAYS):
    15 months, or longer when the retention is longer; None (for ever) when it is 0. The
    retention never cuts the 15 months short: the rollups are the only history of the metrics.
    """
    return max(ROLLUP_RETENTION, timedelta(days=days)) if days else None


def purge(
    now: datetime | None = None, days: int | None = None, dry_run: bool = False
) -> dict[str, int]:
    """Delete points older than 15 days (they are rolled up by then) and rollups older than
    ``rollup_retention(days)`` (``days`` defaults to TUNEBOARD_RETENTION_DAYS); with ``dry_run``
    only count them.

    Series by series, so each DELETE walks the (series, ts) primary key: there is no index on
    the timestamp alone (it would add ~30 % to the biggest table).
    """
    now = now or timezone.now()
    keep_rollups = rollup_retention(settings.TUNEBOARD_RETENTION_DAYS if days is None else days)
    points = rollups = 0
    for series_id in MetricSeries.objects.values_list("pk", flat=True).iterator():
        old_points = MetricPoint.objects.filter(series_id=series_id, ts__lt=now - POINT_RETENTION)
        points += old_points.count() if dry_run else old_points.delete()[0]
        if keep_rollups is not None:
            old_rollups = MetricRollup.objects.filter(
                series_id=series_id, hour__lt=now - keep_rollups
            )
            rollups += old_rollups.count() if dry_run else old_rollups.delete()[0]
    return {"points": points, "rollups": rollups}
