"""Values per time bucket for the charts: a cluster's metrics, a table's reads, sparklines."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cachemetrics import analysis, catalog, points, pricing
from cachemetrics.models import DaxCluster, MetricSeries
from cachemetrics.ranges import Range, get_range
from cachemetrics.reports import TableReport

NODE_CHARTED = (catalog.CPU, catalog.CPU_CREDITS)


def _buckets(start: datetime, end: datetime, rng: Range) -> list[datetime]:
    """The buckets that cover [start, end), on the clock (a 15-minute bucket starts at :00,
    :15, ... UTC): the stored rollups fill them. The first one holds the minutes from
    ``start`` only."""
    step = rng.bucket_s
    origin = datetime.fromtimestamp(start.timestamp() // step * step, UTC)
    count = math.ceil((end - origin).total_seconds() / step)
    return [origin + timedelta(seconds=i * step) for i in range(count)]


# --------------------------------------------------------------------------- cluster


@dataclass
class ClusterTimeseries:
    range: Range
    start: datetime
    end: datetime
    buckets: list[datetime]
    cluster: dict[str, list[float | None]]  # metric -> value per bucket
    nodes: dict[str, dict[str, list[float | None]]]  # node -> metric (NODE_CHARTED) -> values

    def ratio(self, cache: str) -> list[float | None]:
        hits, misses = catalog.CACHE_TYPES[cache]
        return analysis.bucket_ratios(self.cluster.get(hits, []), self.cluster.get(misses, []))

    def combined_ratio(self) -> list[float | None]:
        def total(metrics) -> list[float]:
            # A metric the cluster has no series of counts 0 in every bucket.
            columns = [self.cluster[m] for m in metrics if m in self.cluster]
            return [sum(column[i] or 0 for column in columns) for i in range(len(self.buckets))]

        hits = total(h for h, _ in catalog.CACHE_TYPES.values())
        misses = total(m for _, m in catalog.CACHE_TYPES.values())
        return analysis.bucket_ratios(hits, misses)


def cluster_timeseries(
    cluster: DaxCluster,
    range_key: str | Range | None = None,
    series: list[MetricSeries] | None = None,
) -> ClusterTimeseries:
    """``series``: the cluster's (``points.cluster_series``), when the caller has them."""
    rng = get_range(range_key)
    if series is None:
        series = points.cluster_series(cluster)
    start, end = rng.window(points.window_end(series))
    buckets = _buckets(start, end, rng)
    # the charts show every cluster-level metric, and only the CPU (and credits) of each node
    series = [s for s in series if not s.node_id or s.metric in NODE_CHARTED]
    data = points.aggregates(series, start, end, rng.bucket_s, rng.rollups, origin=buckets[0])

    def values(s: MetricSeries) -> list[float | None]:
        per = data.get(s.pk, {})
        zero = 0.0 if s.zero_when_missing else None
        return [per[b].value(s.statistic) if b in per else zero for b in buckets]

    cluster_values = {s.metric: values(s) for s in series if not s.node_id}
    nodes: dict[str, dict[str, list[float | None]]] = defaultdict(dict)
    cpu = {s.node_id: s for s in series if s.node_id and s.metric == catalog.CPU}
    for s in series:
        if s.metric == catalog.CPU_CREDITS and s.node_id in cpu:
            nodes[s.node_id][s.metric] = _credit_values(
                data.get(s.pk, {}), data.get(cpu[s.node_id].pk, {}), buckets
            )
        elif s.node_id:
            nodes[s.node_id][s.metric] = values(s)
    return ClusterTimeseries(rng, start, end, buckets, cluster_values, dict(sorted(nodes.items())))


def _credit_values(credits: dict, cpu: dict, buckets: list[datetime]) -> list[float | None]:
    """Lowest CPU credit balance per bucket; 0 where the node published its CPU in minutes
    without a balance (DAX leaves out zeros), from the first published balance on."""
    out: list[float | None] = []
    started = False
    for b in buckets:
        credit, load = credits.get(b), cpu.get(b)
        started = started or credit is not None
        if not started:
            out.append(None)
            continue
        out.append(
            analysis.lowest_credit_balance(
                credit.minimum if credit else None,
                credit.count if credit else 0,
                load.count if load else 0,
            )
        )
    return out


def hourly_item_ratio(cluster: DaxCluster, end: datetime, hours: int = 24) -> list[float | None]:
    """Item hit ratio per hour over the ``hours`` before ``end`` (the overview's sparklines)."""
    by_metric = points.cluster_level_series(cluster)
    hit, miss = by_metric.get(catalog.ITEM_HITS), by_metric.get(catalog.ITEM_MISSES)
    if not hit or not miss:
        return []
    start = end - timedelta(hours=hours)
    data = points.aggregates([hit, miss], start, end, bucket_s=3600)
    starts = [start + timedelta(hours=i) for i in range(hours)]
    return analysis.bucket_ratios(
        [data[hit.pk][h].total if h in data[hit.pk] else 0.0 for h in starts],
        [data[miss.pk][h].total if h in data[miss.pk] else 0.0 for h in starts],
    )


# --------------------------------------------------------------------------- table


@dataclass
class TableTimeseries:
    range: Range
    buckets: list[datetime]
    served: list[float]  # cache hits attributed to the table
    reaching: list[float]  # read requests that reached DynamoDB
    item_ratio: list[float | None]
    estimated: bool


def table_timeseries(report: TableReport) -> TableTimeseries:
    """Per bucket: hits attributed to the table (x its share) and reads reaching it."""
    rng = report.range
    table = report.table
    consumed = points.consumed_reads_series([table]).get(table.pk)
    ends = [points.window_end([consumed])] if consumed else []
    ends += [part.end for part, _ in report.parts]
    start, end = rng.window(max(ends) if ends else points.window_end([]))
    buckets = _buckets(start, end, rng)
    n = len(buckets)
    served = [0.0] * n
    item_hits = [0.0] * n
    item_misses = [0.0] * n
    for cluster_report, share in report.parts:
        by_metric = points.cluster_level_series(cluster_report.cluster)
        wanted = [catalog.ITEM_HITS, catalog.ITEM_MISSES, catalog.QUERY_HITS, catalog.SCAN_HITS]
        read = [by_metric[m] for m in wanted if m in by_metric]
        ids = {s.metric: s.pk for s in read}
        data = points.aggregates(read, start, end, rng.bucket_s, rng.rollups, origin=buckets[0])
        for i, b in enumerate(buckets):
            hits = {m: data[sid][b].total if b in data[sid] else 0.0 for m, sid in ids.items()}
            f = share.figures.share
            served[i] += f * (
                hits.get(catalog.ITEM_HITS, 0.0)
                + hits.get(catalog.QUERY_HITS, 0.0)
                + hits.get(catalog.SCAN_HITS, 0.0)
            )
            item_hits[i] += f * hits.get(catalog.ITEM_HITS, 0.0)
            item_misses[i] += f * hits.get(catalog.ITEM_MISSES, 0.0)
    reaching = [0.0] * n
    if consumed:
        per_read = pricing.eventual_read_units(table.avg_item_kb)
        data = points.aggregates(
            [consumed], start, end, rng.bucket_s, rng.rollups, origin=buckets[0]
        )
        for i, b in enumerate(buckets):
            if b in data[consumed.pk]:
                reaching[i] = data[consumed.pk][b].total / per_read
    return TableTimeseries(
        rng,
        buckets,
        served,
        reaching,
        analysis.bucket_ratios(item_hits, item_misses),
        not report.exact,
    )
