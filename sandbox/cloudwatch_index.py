"""moto's CloudWatch answering from an index of its datapoints, as AWS would.

moto (5.2.5) keeps every datapoint of PutMetricData in one list and scans it for every
query: ``GetMetricData`` once per query *and per period* (a 24-hour collection of the three
seeded DAX clusters spent ~220 s there), ``ListMetrics`` compares each datapoint with every
metric already listed (never answers for AWS/DAX) and lists a metric once per datapoint
when filtered, and ``GetMetricStatistics`` matches dimensions as a subset (``ClusterId``
alone also sums the ``ClusterId`` + ``NodeId`` series).

``install()`` replaces these three operations of ``CloudWatchBackend`` with ones reading
an index: datapoints by (namespace, metric name, exact dimension set), each series sorted
by timestamp. ``PutMetricData`` adds its datapoints to the index (any datapoint appended
to the backend's list by other means is picked up at the next read). Answers:

* ``GetMetricData``: MetricStat queries read their series only (exact dimensions, in any
  order: moto's own finds nothing when a query lists them in another order than the put),
  bucketed in periods from StartTime, statistics by moto's own ``Statistics`` -- otherwise
  moto's answers. A request holding any other kind of query (metric math, Metrics
  Insights) and invalid time ranges go to moto's implementation unchanged.
* ``ListMetrics``: each metric once, filtered by namespace, metric name and dimension
  filters (name, optional value; the metric must have them all), 500 per page with a
  NextToken, in the order metrics were first put.
* ``GetMetricStatistics``: the series with exactly the given dimensions, in periods from
  StartTime (moto's start at the first datapoint).

Differences from AWS that remain:

* No rounding of StartTime, no limit of 1,440 datapoints per answer, no NextToken in
  GetMetricData answers; data is kept for ever at full resolution (no 15-day aggregation).
* ListMetrics lists every metric ever put (AWS only those with data in the last two
  weeks) and ignores RecentlyActive and linked accounts; its NextToken is an offset.
* Statistics are moto's: no percentiles (``ExtendedStatistics``, ``p99``), and a Unit
  filter keeps the datapoints put with that unit (no unit conversion).
* Metric math and Metrics Insights queries are moto's (not evaluated).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

Key = tuple[str, str, tuple[tuple[str, str], ...]]

PAGE_SIZE = 500  # ListMetrics, as AWS
_LOCK = threading.Lock()
MOTO: dict[str, Any] = {}  # moto's own methods, replaced by install()


def _utc(ts: datetime) -> datetime:
    """moto stores what its parser gives (aware) or utcnow() (naive UTC): compare as UTC."""
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts


def _dims(dimensions: Iterable) -> tuple[tuple[str, str], ...]:
    """Exact dimension set of a datum (moto ``Dimension``) or a request (dicts)."""
    return tuple(
        sorted(
            (d.name, d.value) if hasattr(d, "name") else (d["Name"], d["Value"]) for d in dimensions
        )
    )


class MetricIndex:
    """Datapoints by (namespace, name, dimensions); each series sorted by timestamp."""

    def __init__(self, data: Iterable = ()):
        self.indexed = 0  # how many of the backend's metric_data are in
        self.series: dict[Key, tuple[list[datetime], list[Any]]] = {}
        self.add(data)

    def add(self, data: Iterable) -> None:
        for md in data:
            key = (md.namespace, md.name, _dims(md.dimensions))
            stamps, mds = self.series.setdefault(key, ([], []))
            ts = _utc(md.timestamp)
            i = bisect.bisect_right(stamps, ts)  # an append when put in time order
            stamps.insert(i, ts)
            mds.insert(i, md)

    def points(self, key: Key, start: datetime, end: datetime) -> list[Any]:
        """The series' datapoints in [start, end)."""
        stamps, mds = self.series.get(key, ((), ()))
        return mds[bisect.bisect_left(stamps, start) : bisect.bisect_left(stamps, end)]


def index_of(backend) -> MetricIndex:
    """The backend's index, brought up to date with its list of put datapoints."""
    with _LOCK:
        index = backend.__dict__.get("_sandbox_index")
        if index is None or index.indexed > len(backend.metric_data):  # new, or reset
            index = backend._sandbox_index = MetricIndex()
        new = backend.metric_data[index.indexed :]  # other puts may append meanwhile
        index.add(new)
        index.indexed += len(new)
        return index


def _indexes(backend) -> list[MetricIndex]:
    """The put datapoints, plus those moto derives from other services (S3) if any."""
    derived = backend.aws_metric_data
    return [index_of(backend), MetricIndex(derived)] if derived else [index_of(backend)]


def _points(indexes, key: Key, start: datetime, end: datetime, unit: str | None) -> list[Any]:
    with _LOCK:  # a PutMetricData may be inserting meanwhile
        points = [md for index in indexes for md in index.points(key, start, end)]
    return [md for md in points if md.unit == unit] if unit else points


def _periods(points: list[Any], start: datetime, period: timedelta):
    """(period start, datapoints) of the non-empty periods from start, oldest first."""
    buckets: dict[int, list[Any]] = {}
    for md in points:
        buckets.setdefault((_utc(md.timestamp) - start) // period, []).append(md)
    return [(start + k * period, buckets[k]) for k in sorted(buckets)]


def _start_end(start_time: datetime, end_time: datetime) -> tuple[datetime, datetime]:
    return _utc(start_time.replace(microsecond=0)), _utc(end_time.replace(microsecond=0))


# --------------------------------------------------------------------------- operations


def put_metric_data(self, namespace: str, metric_data: list[dict[str, Any]]) -> None:
    MOTO["put_metric_data"](self, namespace, metric_data)
    index_of(self)


def get_metric_data(
    self, queries: list[dict[str, Any]], start_time, end_time, scan_by="TimestampAscending"
) -> list[dict[str, Any]]:
    start, end = _start_end(start_time, end_time)
    if start >= end or any("MetricStat" not in q for q in queries):
        return MOTO["get_metric_data"](self, queries, start_time, end_time, scan_by)
    from moto.cloudwatch.models import Statistics

    indexes = _indexes(self)
    results = []
    for query in queries:
        if not query.get("ReturnData", True):
            continue
        metric_stat = query["MetricStat"]
        metric, stat = metric_stat["Metric"], metric_stat["Stat"]
        key = (metric["Namespace"], metric["MetricName"], _dims(metric.get("Dimensions", ())))
        points = _points(indexes, key, start, end, metric_stat.get("Unit"))
        stamps, values = [], []
        for period_start, data in _periods(
            points, start, timedelta(seconds=int(metric_stat["Period"]))
        ):
            stats = Statistics([stat], period_start)
            stats.metric_data = data
            stamps.append(period_start)
            values.append(stats.get_statistics_for_type(stat))
        if scan_by == "TimestampDescending":
            stamps.reverse()
            values.reverse()
        results.append(
            {
                "id": query["Id"],
                "label": query.get("Label") or f"{metric['MetricName']} {stat}",
                "values": values,
                "timestamps": stamps,
                "status_code": "Complete",
            }
        )
    return results


def get_metric_statistics(
    self, namespace, metric_name, start_time, end_time, period, stats, dimensions, unit=None
) -> list[Any]:
    start, end = _start_end(start_time, end_time)
    if start >= end:  # moto's error
        return MOTO["get_metric_statistics"](
            self, namespace, metric_name, start_time, end_time, period, stats, dimensions, unit
        )
    from moto.cloudwatch.models import Statistics

    key = (namespace, metric_name, _dims(dimensions or ()))
    points = _points(_indexes(self), key, start, end, unit)
    answer = []
    for period_start, data in _periods(points, start, timedelta(seconds=period)):
        statistics = Statistics(stats, period_start, data[-1].unit)
        statistics.metric_data = data
        answer.append(statistics)
    return answer


def _has(dimensions: tuple[tuple[str, str], ...], wanted: dict[str, Any]) -> bool:
    return any(
        name == wanted["Name"] and wanted.get("Value") in (None, value)
        for name, value in dimensions
    )


def list_metrics(self, next_token, namespace, metric_name, dimensions) -> tuple[str | None, list]:
    from moto.cloudwatch.exceptions import InvalidParameterValue

    first: dict[Key, Any] = {}  # one datum per metric: the response shows its name and dimensions
    for index in _indexes(self):
        with _LOCK:
            for key, (_stamps, mds) in index.series.items():
                first.setdefault(key, mds[0])
    metrics = [
        md
        for (ns, name, dims), md in first.items()
        if (not namespace or ns == namespace)
        and (not metric_name or name == metric_name)
        and all(_has(dims, wanted) for wanted in dimensions or ())
    ]
    offset = int(next_token) if next_token and next_token.isdigit() else 0
    if next_token and not 0 < offset < len(metrics):
        raise InvalidParameterValue("Request parameter NextToken is invalid")
    following = offset + PAGE_SIZE
    return (str(following) if following < len(metrics) else None), metrics[offset:following]


def install() -> None:
    """Make every moto CloudWatch backend of this process answer from the index (idempotent)."""
    from moto.cloudwatch.models import CloudWatchBackend

    for name, method in (
        ("put_metric_data", put_metric_data),
        ("get_metric_data", get_metric_data),
        ("get_metric_statistics", get_metric_statistics),
        ("list_metrics", list_metrics),
    ):
        MOTO.setdefault(name, getattr(CloudWatchBackend, name))
        setattr(CloudWatchBackend, name, method)
