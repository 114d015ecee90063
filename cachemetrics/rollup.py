"""Hourly rollups and retention: 1-minute points for 15 days, hourly rollups for 15 months."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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


def purge(now: datetime | None = None) -> dict[str, int]:
    """Delete points older than 15 days and rollups older than 15 months.

    Series by series, so each DELETE walks the (series, ts) primary key: there is no index on
    the timestamp alone (it would add ~30 % to the biggest table).
    """
    now = now or timezone.now()
    points = rollups = 0
    for series_id in MetricSeries.objects.values_list("pk", flat=True).iterator():
        points += MetricPoint.objects.filter(
            series_id=series_id, ts__lt=now - POINT_RETENTION
        ).delete()[0]
        rollups += MetricRollup.objects.filter(
            series_id=series_id, hour__lt=now - ROLLUP_RETENTION
        ).delete()[0]
    return {"points": points, "rollups": rollups}
