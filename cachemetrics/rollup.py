"""Rollups and retention: 1-minute points and their 15-minute rollups for 15 days, hourly
rollups for 15 months (or for TUNEBOARD_RETENTION_DAYS when longer, for ever when it is 0)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, DateTimeField, Func, Max, Min, Sum
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
QUARTER = timedelta(minutes=15)
_AGGREGATES = {"n": Count("value"), "total": Sum("value"), "lo": Min("value"), "hi": Max("value")}


def floor_hour(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def floor_quarter(ts: datetime) -> datetime:
    ts = ts.astimezone(UTC)
    return ts.replace(minute=ts.minute - ts.minute % 15, second=0, microsecond=0)


class TruncQuarter(Func):
    """The quarter-hour (UTC) a timestamp falls in."""

    output_field = DateTimeField()

    def as_postgresql(self, compiler, connection):
        template = "date_bin('15 minutes', %(expressions)s, TIMESTAMPTZ '2000-01-01 00:00Z')"
        return self.as_sql(compiler, connection, template=template)

    def as_sqlite(self, compiler, connection):
        template = "datetime(unixepoch(%(expressions)s) / 900 * 900, 'unixepoch')"
        return self.as_sql(compiler, connection, template=template)


def roll_quarters(series_ids: list[int], start: datetime, end: datetime) -> int:
    """Upsert the 15-minute rollups of the quarters [start, end) touches (whole quarters from
    the stored minutes; the last one holds the minutes up to ``end`` until the next collection,
    which reads from before it, rolls it again); returns rows written."""
    start = floor_quarter(start)
    written = 0
    for i in range(0, len(series_ids), SERIES_PER_QUERY):
        chunk = series_ids[i : i + SERIES_PER_QUERY]
        rows = list(
            MetricPoint.objects.filter(series_id__in=chunk, ts__gte=start, ts__lt=end)
            .annotate(quarter=TruncQuarter("ts"))
            .values("series_id", "quarter")
            .annotate(**_AGGREGATES)
            .values_list("series_id", "quarter", *_AGGREGATES)
            .order_by()
        )
        with transaction.atomic():
            upsert_rows(
                MetricQuarter,
                ("series_id", "start"),
                ("count", "total", "minimum", "maximum"),
                rows,
            )
            MetricSeries.objects.filter(pk__in=chunk, quarters_from__isnull=True).update(
                quarters_from=start
            )
        written += len(rows)
    return written


def rollup(now: datetime | None = None) -> int:
    """Upsert the rollups of every complete collected hour; returns rollup rows written.

    Series that need the same hours (after a collection: nearly all of them) are rolled up
    together, ``SERIES_PER_QUERY`` at a time: one aggregate query and one bulk upsert each.
    """
    now = now or timezone.now()
    groups: dict[tuple[datetime, datetime], list[int]] = defaultdict(list)
    series = MetricSeries.objects.filter(collected_until__isnull=False)
    for pk, collected_until, rolled_up_until in series.values_list(
        "pk", "collected_until", "rolled_up_until"
    ).iterator():
        end = floor_hour(min(collected_until, now))
        start = rolled_up_until - REROLL if rolled_up_until else end - POINT_RETENTION
        if start < end:
            groups[(start, end)].append(pk)
    written = 0
    for (start, end), ids in sorted(groups.items()):
        for i in range(0, len(ids), SERIES_PER_QUERY):
            chunk = ids[i : i + SERIES_PER_QUERY]
            rows = list(
                MetricPoint.objects.filter(series_id__in=chunk, ts__gte=start, ts__lt=end)
                .annotate(hour=TruncHour("ts", tzinfo=UTC))
                .values("series_id", "hour")
                .annotate(**_AGGREGATES)
                .values_list("series_id", "hour", *_AGGREGATES)
                .order_by()
            )
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
    and hourly rollups older than
    ``rollup_retention(days)`` (``days`` defaults to TUNEBOARD_RETENTION_DAYS); with ``dry_run``
    only count them.

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
