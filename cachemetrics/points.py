"""Read side of the stored points: aggregates per series (and per time bucket) over a window.

Windows longer than ``ROLLUP_FROM`` read hourly rollups, plus the minutes after the last
rolled-up hour; shorter ones read 1-minute points, or the hourly and 15-minute rollups that
hold the same minutes (a custom range older than the kept minutes asks for the hourly rollups:
``rollups=True``). Windows end at the series' last collected minute (``window_end``), so a
cluster whose collection stopped still shows its last day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, FloatField, Func, Max, Min, Sum
from django.utils import timezone

from cachemetrics import catalog
from cachemetrics.models import (
    CachedTable,
    DaxCluster,
    MetricPoint,
    MetricQuarter,
    MetricRollup,
    MetricSeries,
)
from cachemetrics.quarters import QUARTER, floor_quarter
from cachemetrics.ranges import ROLLUP_FROM

HOUR_S = 3600
QUARTER_S = 900


@dataclass
class Aggregate:
    count: int = 0
    total: float = 0.0
    minimum: float | None = None
    maximum: float | None = None

    def add(self, count: int, total: float, minimum: float, maximum: float) -> None:
        self.count += count
        self.total += total
        self.minimum = minimum if self.minimum is None else min(self.minimum, minimum)
        self.maximum = maximum if self.maximum is None else max(self.maximum, maximum)

    def value(self, statistic: str) -> float | None:
        if statistic == catalog.SUM:
            return self.total
        if not self.count:
            return None
        if statistic == catalog.MAXIMUM:
            return self.maximum
        if statistic == catalog.MINIMUM:
            return self.minimum
        return self.total / self.count


class _Epoch(Func):
    """A timestamp as seconds since 1970: a float, read in C, where Django's loader of
    timestamps (Python) took half the time of a bucketed read (~3,000 rows a cluster page)."""

    template = "date_part('epoch', %(expressions)s)"
    output_field = FloatField()

    def get_db_converters(self, connection):
        # a float already (PostgreSQL, and SQLite's CAST): Django's converter to float made
        # another pass over each row (2,700 rows on a 24 h cluster page)
        return []

    def as_sqlite(self, compiler, connection, **extra):
        # SQLite keeps UTC times as text; "%%%%s" reaches strftime as "%s" (seconds)
        template = "CAST(strftime('%%%%s', %(expressions)s) AS REAL)"
        return self.as_sql(compiler, connection, template=template, **extra)


class _Buckets:
    """Epoch seconds -> the start of their bucket of ``bucket_s`` counted from ``origin``;
    worked out once per time (the series of a read share their times)."""

    def __init__(self, origin: datetime, bucket_s: int):
        self.origin, self.origin_s, self.bucket_s = origin, origin.timestamp(), bucket_s
        self.starts: dict[float, datetime] = {}

    def __call__(self, epoch: float) -> datetime:
        start = self.starts.get(epoch)
        if start is None:
            offset = int(epoch - self.origin_s) // self.bucket_s * self.bucket_s
            start = self.starts[epoch] = self.origin + timedelta(seconds=offset)
        return start


def aggregates(
    series: Iterable[MetricSeries],
    start: datetime,
    end: datetime,
    bucket_s: int | None = None,
    rollups: bool | None = None,
    origin: datetime | None = None,
) -> dict[int, dict[datetime | None, Aggregate]]:
    """Aggregates per series id (and per bucket of ``bucket_s`` counted from ``origin``, by
    default ``start``) over [start, end).

    ``rollups``: read hourly rollups where there are some (None: for windows longer than
    ``ROLLUP_FROM``). Shorter windows read the same figures faster where they can: the whole
    hours already rolled up come from the hourly rollups, whole quarter-hours from the
    15-minute ones when buckets are made of quarters (each holds exactly those minutes), the
    partial hours or quarters at both ends from the minutes. Which ones are rolled up is read
    from the ``series`` as loaded (``rolled_up_until``, ``quarters_from``): a page loads its
    series once, not once per aggregate."""
    series = list(series)
    ids = [s.pk for s in series]
    origin = origin or start
    out: dict[int, dict[datetime | None, Aggregate]] = defaultdict(lambda: defaultdict(Aggregate))
    if not ids:
        return out
    if end - start > ROLLUP_FROM if rollups is None else rollups:
        rolled = min((s.rolled_up_until for s in series if s.rolled_up_until), default=None)
        cutoff = start
        if rolled and rolled > start:
            cutoff = min(rolled, end)
            _add_rollups(out, MetricRollup, ids, start, cutoff, origin, bucket_s)
        _add_points(out, ids, cutoff, end, origin, bucket_s)
        return out
    hours = _rolled_hours(series, start, end) if _fits(origin, bucket_s, HOUR_S) else None
    if hours is None:
        _add_minutes(out, series, start, end, origin, bucket_s)
        return out
    first, last = hours
    _add_minutes(out, series, start, first, origin, bucket_s)
    _add_rollups(out, MetricRollup, ids, first, last, origin, bucket_s)
    _add_minutes(out, series, last, end, origin, bucket_s)
    return out


def _fits(origin: datetime, bucket_s: int | None, size_s: int) -> bool:
    """Whether rollups of ``size_s`` seconds fall into single buckets (always true without
    buckets)."""
    if bucket_s is None:
        return True
    return bucket_s % size_s == 0 and origin.timestamp() % size_s == 0


def _floor_hour(ts: datetime) -> datetime:
    return ts.replace(minute=0, second=0, microsecond=0)


def _rolled_hours(
    series: list[MetricSeries], start: datetime, end: datetime
) -> tuple[datetime, datetime] | None:
    """[first, last): the whole hours of [start, end) every series has rolled up, if any."""
    if any(s.rolled_up_until is None for s in series):
        return None
    first = _floor_hour(start)
    first = first if first == start else first + timedelta(hours=1)
    last = min(min(s.rolled_up_until for s in series), _floor_hour(end))
    return (first, last) if first < last else None


def _add_minutes(
    out, series: list[MetricSeries], lo: datetime, hi: datetime, origin, bucket_s
) -> None:
    """[lo, hi) from the 15-minute rollups where they fit the buckets, from points around."""
    ids = [s.pk for s in series]
    quarters = None
    if bucket_s and _fits(origin, bucket_s, QUARTER_S) and lo < hi:
        quarters = _rolled_quarters(series, lo, hi)
    if quarters is None:
        _add_points(out, ids, lo, hi, origin, bucket_s)
        return
    first, last = quarters
    _add_points(out, ids, lo, first, origin, bucket_s)
    _add_rollups(out, MetricQuarter, ids, first, last, origin, bucket_s)
    _add_points(out, ids, last, hi, origin, bucket_s)


def _rolled_quarters(
    series: list[MetricSeries], start: datetime, end: datetime
) -> tuple[datetime, datetime] | None:
    """[first, last): the whole quarter-hours of [start, end) that every series has 15-minute
    rollups of (from its first one on), if any."""
    if any(s.quarters_from is None for s in series):
        return None
    first = floor_quarter(start)
    first = first if first == start else first + QUARTER
    first = max(first, *(s.quarters_from for s in series))
    last = floor_quarter(end)
    return (first, last) if first < last else None


def _add_rollups(out, model, ids: list[int], lo: datetime, hi: datetime, origin, bucket_s):
    """Rows of ``model`` (hourly or 15-minute rollups) starting in [lo, hi); summed by the
    database when there are no buckets."""
    when = "hour" if model is MetricRollup else "start"
    rows = model.objects.filter(series_id__in=ids, **{f"{when}__gte": lo, f"{when}__lt": hi})
    if bucket_s is None:
        for sid, n, total, least, most in (
            rows.values("series_id")
            .annotate(n=Sum("count"), t=Sum("total"), lo=Min("minimum"), hi=Max("maximum"))
            .values_list("series_id", "n", "t", "lo", "hi")
        ):
            out[sid][None].add(n, total, least, most)
        return
    bucket = _Buckets(origin, bucket_s)
    for sid, at, n, total, least, most in rows.annotate(at=_Epoch(when)).values_list(
        "series_id", "at", "count", "total", "minimum", "maximum"
    ):
        per, start = out[sid], bucket(at)
        if start in per:
            per[start].add(n, total, least, most)
        else:  # a bucket's first row, often its only one (a 15-minute bucket of a 24 h page)
            per[start] = Aggregate(n, total, least, most)


def _add_points(out, ids: list[int], lo: datetime, hi: datetime, origin, bucket_s) -> None:
    if lo >= hi:
        return
    points = MetricPoint.objects.filter(series_id__in=ids, ts__gte=lo, ts__lt=hi)
    if bucket_s is None:
        for row in points.values("series_id").annotate(
            n=Count("value"), total=Sum("value"), least=Min("value"), most=Max("value")
        ):
            out[row["series_id"]][None].add(row["n"], row["total"], row["least"], row["most"])
    else:
        # fetched at once: bucketed minutes are a range's edges or at most two days of
        # minutes (a server-side cursor cost more than reading them)
        bucket = _Buckets(origin, bucket_s)
        for sid, at, value in points.annotate(at=_Epoch("ts")).values_list(
            "series_id", "at", "value"
        ):
            out[sid][bucket(at)].add(1, value, value, value)


def window_end(series: Iterable[MetricSeries]) -> datetime:
    """The last collected minute of ``series``; the current minute when none was collected."""
    ends = [s.collected_until for s in series if s.collected_until]
    return max(ends) if ends else timezone.now().astimezone(UTC).replace(second=0, microsecond=0)


def covered_hours(series_ids: list[int], start: datetime, end: datetime) -> float | None:
    """Hours of [start, end) from the first stored minute (or rolled-up hour) on."""
    if not series_ids:
        return None
    first_minute = MetricPoint.objects.filter(
        series_id__in=series_ids, ts__gte=start, ts__lt=end
    ).aggregate(m=Min("ts"))["m"]
    if first_minute == start:  # the whole window: no rolled-up hour starts earlier
        return (end - start).total_seconds() / 3600
    firsts = [
        first_minute,
        MetricRollup.objects.filter(
            series_id__in=series_ids, hour__gte=start, hour__lt=end
        ).aggregate(m=Min("hour"))["m"],
    ]
    firsts = [f for f in firsts if f is not None]
    if not firsts:
        return None
    return (end - min(firsts)).total_seconds() / 3600


def last_points(series_ids: Iterable[int], end: datetime) -> dict[int, tuple[datetime, float]]:
    """Series id -> (ts, value) of its last stored minute before ``end`` (none without one)."""
    out = {}
    for sid in series_ids:
        point = MetricPoint.objects.filter(series_id=sid, ts__lt=end).order_by("-ts").first()
        if point is not None:
            out[sid] = (point.ts, point.value)
    return out


def cluster_series(cluster: DaxCluster) -> list[MetricSeries]:
    """Every series of the cluster: cluster-level and per node."""
    return list(MetricSeries.objects.filter(cluster=cluster))


def cluster_level_series(cluster: DaxCluster) -> dict[str, MetricSeries]:
    """Metric -> the cluster's own series (those without a node dimension)."""
    return {s.metric: s for s in MetricSeries.objects.filter(cluster=cluster, node_id="")}


def consumed_reads_series(tables: Iterable[CachedTable]) -> dict[int, MetricSeries]:
    """Table id -> its consumed read units series (what reached DynamoDB)."""
    return {
        s.table_id: s
        for s in MetricSeries.objects.filter(table__in=list(tables), metric=catalog.CONSUMED_READS)
    }
