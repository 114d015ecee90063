"""Read side of the stored points: aggregates per series (and per time bucket) over a window.

Windows longer than ``ROLLUP_FROM`` read hourly rollups, plus the minutes after the last
rolled-up hour; shorter ones read 1-minute points (a custom range older than the kept minutes
asks for the rollups: ``rollups=True``). Windows end at the series' last collected
minute (``window_end``), so a cluster whose collection stopped still shows its last day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone

from cachemetrics import catalog
from cachemetrics.models import CachedTable, DaxCluster, MetricPoint, MetricRollup, MetricSeries
from cachemetrics.ranges import ROLLUP_FROM


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


def _bucket_start(ts: datetime, origin: datetime, bucket_s: int) -> datetime:
    offset = int((ts - origin).total_seconds()) // bucket_s * bucket_s
    return origin + timedelta(seconds=offset)


def aggregates(
    series_ids: Iterable[int],
    start: datetime,
    end: datetime,
    bucket_s: int | None = None,
    rollups: bool | None = None,
) -> dict[int, dict[datetime | None, Aggregate]]:
    """Aggregates per series (and per bucket of ``bucket_s`` from ``start``) over [start, end).

    ``rollups``: read hourly rollups where there are some (None: for windows longer than
    ``ROLLUP_FROM``). Shorter windows read the same figures faster where they can: the whole
    hours already rolled up come from the rollups (which hold exactly those minutes), the
    partial hours at both ends from the minutes."""
    ids = list(series_ids)
    out: dict[int, dict[datetime | None, Aggregate]] = defaultdict(lambda: defaultdict(Aggregate))
    if not ids:
        return out
    if end - start > ROLLUP_FROM if rollups is None else rollups:
        rolled = MetricSeries.objects.filter(pk__in=ids, rolled_up_until__isnull=False).aggregate(
            m=Min("rolled_up_until")
        )["m"]
        cutoff = start
        if rolled and rolled > start:
            cutoff = min(rolled, end)
            _add_rollups(out, ids, start, cutoff, start, bucket_s)
        _add_points(out, ids, cutoff, end, start, bucket_s)
        return out
    hours = _rolled_hours(ids, start, end) if _hours_fit(start, bucket_s) else None
    if hours is None:
        _add_points(out, ids, start, end, start, bucket_s)
        return out
    first, last = hours
    _add_points(out, ids, start, first, start, bucket_s)
    _add_rollups(out, ids, first, last, start, bucket_s)
    _add_points(out, ids, last, end, start, bucket_s)
    return out


def _hours_fit(start: datetime, bucket_s: int | None) -> bool:
    """Whether whole hours fall into single buckets (always true without buckets)."""
    if bucket_s is None:
        return True
    return bucket_s % 3600 == 0 and start == _floor_hour(start)


def _floor_hour(ts: datetime) -> datetime:
    return ts.replace(minute=0, second=0, microsecond=0)


def _rolled_hours(
    ids: list[int], start: datetime, end: datetime
) -> tuple[datetime, datetime] | None:
    """[first, last): the whole hours of [start, end) every series has rolled up, if any."""
    state = MetricSeries.objects.filter(pk__in=ids).aggregate(
        rolled=Min("rolled_up_until"), missing=Count("pk", filter=Q(rolled_up_until__isnull=True))
    )
    if state["missing"] or state["rolled"] is None:
        return None
    first = _floor_hour(start)
    first = first if first == start else first + timedelta(hours=1)
    last = min(state["rolled"], _floor_hour(end))
    return (first, last) if first < last else None


def _add_rollups(out, ids: list[int], lo: datetime, hi: datetime, origin, bucket_s) -> None:
    rows = MetricRollup.objects.filter(series_id__in=ids, hour__gte=lo, hour__lt=hi)
    for sid, hour, n, total, least, most in rows.values_list(
        "series_id", "hour", "count", "total", "minimum", "maximum"
    ):
        key = _bucket_start(hour, origin, bucket_s) if bucket_s else None
        out[sid][key].add(n, total, least, most)


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
        for sid, ts, value in points.values_list("series_id", "ts", "value").iterator(
            chunk_size=20_000
        ):
            out[sid][_bucket_start(ts, origin, bucket_s)].add(1, value, value, value)


def window_end(series: Iterable[MetricSeries]) -> datetime:
    """The last collected minute of ``series``; the current minute when none was collected."""
    ends = [s.collected_until for s in series if s.collected_until]
    return max(ends) if ends else timezone.now().astimezone(UTC).replace(second=0, microsecond=0)


def covered_hours(series_ids: list[int], start: datetime, end: datetime) -> float | None:
    """Hours of [start, end) from the first stored minute (or rolled-up hour) on."""
    if not series_ids:
        return None
    firsts = [
        MetricPoint.objects.filter(series_id__in=series_ids, ts__gte=start, ts__lt=end).aggregate(
            m=Min("ts")
        )["m"],
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
