"""Read side: stored series -> totals, time buckets and the analysis, for views and the API.

Ranges up to 24 h read 1-minute points; 7 d and 30 d read hourly rollups (plus the minutes
after the last rolled-up hour). Windows end at the cluster's last collected minute, so a
cluster whose collection stopped still shows its last day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Max, Min, Sum
from django.utils import timezone

from cachemetrics import analysis, catalog, pricing
from cachemetrics.models import (
    CachedTable,
    DaxCluster,
    DaxNodePrice,
    MetricPoint,
    MetricRollup,
    MetricSeries,
)


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
ROLLUP_FROM = timedelta(days=2)  # ranges longer than this read hourly rollups


def get_range(key: str | None) -> Range:
    return RANGES.get(key or DEFAULT_RANGE, RANGES[DEFAULT_RANGE])


# --------------------------------------------------------------------------- aggregation


@dataclass
class Agg:
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
        return self.total / self.count


def _bucket(ts: datetime, origin: datetime, bucket_s: int) -> datetime:
    offset = int((ts - origin).total_seconds()) // bucket_s * bucket_s
    return origin + timedelta(seconds=offset)


def load(
    series_ids: Iterable[int], start: datetime, end: datetime, bucket_s: int | None = None
) -> dict[int, dict[datetime | None, Agg]]:
    """Aggregates per series (and per bucket of ``bucket_s`` from ``start``) over [start, end)."""
    ids = list(series_ids)
    out: dict[int, dict[datetime | None, Agg]] = defaultdict(lambda: defaultdict(Agg))
    if not ids:
        return out
    cutoff = start
    if end - start > ROLLUP_FROM:
        rolled = MetricSeries.objects.filter(pk__in=ids, rolled_up_until__isnull=False).aggregate(
            m=Min("rolled_up_until")
        )["m"]
        if rolled and rolled > start:
            cutoff = min(rolled, end)
            rows = MetricRollup.objects.filter(series_id__in=ids, hour__gte=start, hour__lt=cutoff)
            for sid, hour, n, total, lo, hi in rows.values_list(
                "series_id", "hour", "count", "total", "minimum", "maximum"
            ):
                key = _bucket(hour, start, bucket_s) if bucket_s else None
                out[sid][key].add(n, total, lo, hi)
    points = MetricPoint.objects.filter(series_id__in=ids, ts__gte=cutoff, ts__lt=end)
    if bucket_s is None:
        for row in points.values("series_id").annotate(
            n=Count("value"), total=Sum("value"), lo=Min("value"), hi=Max("value")
        ):
            out[row["series_id"]][None].add(row["n"], row["total"], row["lo"], row["hi"])
    else:
        for sid, ts, value in points.values_list("series_id", "ts", "value").iterator(
            chunk_size=20_000
        ):
            out[sid][_bucket(ts, start, bucket_s)].add(1, value, value, value)
    return out


def data_end(series: Iterable[MetricSeries]) -> datetime:
    ends = [s.collected_until for s in series if s.collected_until]
    return max(ends) if ends else timezone.now().astimezone(UTC).replace(second=0, microsecond=0)


# --------------------------------------------------------------------------- prices


@dataclass(frozen=True)
class NodePrice:
    hourly_usd: float | None
    source: str = ""
    as_of: str = ""
    note: str = ""


def node_price(cluster: DaxCluster) -> NodePrice:
    row = (
        DaxNodePrice.objects.filter(node_type=cluster.node_type, region=cluster.region).first()
        or DaxNodePrice.objects.filter(node_type=cluster.node_type, region="us-east-1").first()
    )
    if row:
        note = "" if row.region == cluster.region else f"{row.region} price used"
        return NodePrice(float(row.hourly_usd), row.source, row.as_of.isoformat(), note)
    hourly = pricing.node_hourly_usd(cluster.node_type)
    if hourly is None:
        return NodePrice(None, note=f"no price known for {cluster.node_type}")
    return NodePrice(hourly, pricing.DAX_PRICE_SOURCE, pricing.DAX_PRICE_AS_OF.isoformat())


# --------------------------------------------------------------------------- cluster


@dataclass
class ClusterReport:
    cluster: DaxCluster
    range: Range
    start: datetime
    end: datetime
    totals: dict[str, float | None]  # cluster-level metric -> value over the window
    counts: analysis.CacheCounts
    current: analysis.CacheCounts  # last hour
    tables: list[TableShareReport]
    price: NodePrice
    monthly_cost_usd: float | None
    savings: analysis.Savings
    flags: list[analysis.Flag]
    sparkline: list[float | None] = field(default_factory=list)
    node_totals: dict[str, dict[str, float | None]] = field(default_factory=dict)
    covered_hours: float = 0.0  # hours of the range that have data (savings extrapolate these)

    @property
    def partial_range(self) -> bool:
        return self.covered_hours < self.range.hours - 1e-9

    @property
    def exact_tables(self) -> bool:
        return len(self.tables) <= 1


@dataclass
class TableShareReport:
    table: CachedTable
    consumed_read_units: float
    reads_reaching_table: float
    figures: analysis.TableFigures


def _cluster_series(cluster: DaxCluster) -> list[MetricSeries]:
    return list(MetricSeries.objects.filter(cluster=cluster))


def _table_series(tables: Iterable[CachedTable]) -> dict[int, MetricSeries]:
    return {
        s.table_id: s
        for s in MetricSeries.objects.filter(table__in=list(tables), metric=catalog.CONSUMED_READS)
    }


def cluster_report(
    cluster: DaxCluster, range_key: str | None = None, sparkline: bool = False
) -> ClusterReport:
    rng = get_range(range_key)
    series = _cluster_series(cluster)
    tables = list(cluster.tables.all())
    table_series = _table_series(tables)
    end = data_end(series)
    start = end - rng.span
    cluster_level = {s.pk: s for s in series if not s.node_id}
    node_level = [s for s in series if s.node_id]
    ids = [*cluster_level, *(s.pk for s in node_level), *(s.pk for s in table_series.values())]
    aggs = load(ids, start, end)

    totals = {
        s.metric: aggs[s.pk][None].value(s.statistic) if s.pk in aggs else None
        for s in cluster_level.values()
    }
    counts = analysis.CacheCounts.from_totals({k: v or 0.0 for k, v in totals.items()})
    current_totals = load(list(cluster_level), end - timedelta(hours=1), end)
    current = analysis.CacheCounts.from_totals(
        {
            s.metric: current_totals[s.pk][None].total
            for s in cluster_level.values()
            if s.pk in current_totals
        }
    )
    node_totals: dict[str, dict[str, float | None]] = defaultdict(dict)
    for s in node_level:
        node_totals[s.node_id][s.metric] = (
            aggs[s.pk][None].value(s.statistic) if s.pk in aggs else None
        )

    reads = [
        analysis.TableReads(
            t.name,
            consumed_read_units=(
                aggs[table_series[t.pk].pk][None].total
                if t.pk in table_series and table_series[t.pk].pk in aggs
                else 0.0
            ),
            item_kb=t.avg_item_kb,
            billing_mode=t.billing_mode,
        )
        for t in tables
    ]
    figures = analysis.per_table(counts, reads)
    table_reports = [
        TableShareReport(t, r.consumed_read_units, r.reads_reaching_table, f)
        for t, r, f in zip(tables, reads, figures, strict=True)
    ]

    price = node_price(cluster)
    monthly_cost = (
        pricing.cluster_monthly_usd(price.hourly_usd, cluster.node_count)
        if price.hourly_usd is not None
        else None
    )
    uses = [
        analysis.TableUse(
            r.table.name,
            r.figures.counts.hits,
            r.figures.counts.lookups,
            r.table.avg_item_kb,
            r.table.billing_mode,
        )
        for r in table_reports
    ] or [analysis.TableUse("(no table mapped)", counts.hits, counts.lookups)]
    covered = covered_hours(
        [s.pk for s in cluster_level.values() if s.metric == catalog.TOTAL_REQUESTS], start, end
    )
    saved = analysis.savings(uses, covered or rng.hours, monthly_cost)

    halves = load(
        [s.pk for s in cluster_level.values() if s.metric == catalog.EVICTED],
        start,
        end,
        bucket_s=int(rng.span.total_seconds() // 2),
    )
    evicted = [a.total for per in halves.values() for _, a in sorted(per.items())]
    health = analysis.HealthInput(
        item_hit_ratio=counts.item,
        threshold=cluster.hit_ratio_threshold,
        total_requests=totals.get(catalog.TOTAL_REQUESTS) or 0.0,
        error_requests=totals.get(catalog.ERROR_REQUESTS) or 0.0,
        throttled_requests=totals.get(catalog.THROTTLED_REQUESTS) or 0.0,
        evicted_first_half=evicted[0] if len(evicted) > 0 else 0.0,
        evicted_second_half=evicted[1] if len(evicted) > 1 else 0.0,
        memory_avg_pct=totals.get(catalog.MEMORY),
        cpu_avg_pct=totals.get(catalog.CPU),
        cpu_max_pct=_max_of(cluster_level.values(), catalog.CPU, aggs),
        table_reads=sum(r.reads_reaching_table for r in table_reports) if table_reports else None,
        cache_misses=counts.misses,
        net_monthly_usd=saved.net_monthly_usd,
    )
    report = ClusterReport(
        cluster=cluster,
        range=rng,
        start=start,
        end=end,
        totals=totals,
        counts=counts,
        current=current,
        tables=table_reports,
        price=price,
        monthly_cost_usd=monthly_cost,
        savings=saved,
        flags=analysis.health_flags(health),
        node_totals=dict(node_totals),
        covered_hours=covered or rng.hours,
    )
    if sparkline:
        report.sparkline = hourly_item_ratio(cluster_level.values(), end - timedelta(hours=24), end)
    return report


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


def _max_of(series, metric: str, aggs) -> float | None:
    for s in series:
        if s.metric == metric and s.pk in aggs:
            return aggs[s.pk][None].maximum
    return None


def hourly_item_ratio(series, start: datetime, end: datetime) -> list[float | None]:
    by_metric = {s.metric: s.pk for s in series}
    hit_id, miss_id = by_metric.get(catalog.ITEM_HITS), by_metric.get(catalog.ITEM_MISSES)
    if not hit_id or not miss_id:
        return []
    data = load([hit_id, miss_id], start, end, bucket_s=3600)
    hours = [start + timedelta(hours=i) for i in range(int((end - start).total_seconds() // 3600))]
    return analysis.bucket_ratios(
        [data[hit_id][h].total if h in data[hit_id] else 0.0 for h in hours],
        [data[miss_id][h].total if h in data[miss_id] else 0.0 for h in hours],
    )


# --------------------------------------------------------------------------- time series


@dataclass
class Timeseries:
    range: Range
    start: datetime
    end: datetime
    buckets: list[datetime]
    cluster: dict[str, list[float | None]]  # metric -> value per bucket
    nodes: dict[str, dict[str, list[float | None]]]  # node -> metric -> values

    def ratio(self, cache: str) -> list[float | None]:
        hits, misses = catalog.CACHE_TYPES[cache]
        return analysis.bucket_ratios(self.cluster.get(hits, []), self.cluster.get(misses, []))

    def combined_ratio(self) -> list[float | None]:
        hits = [
            sum(self.cluster.get(h, [0])[i] or 0 for h, _ in catalog.CACHE_TYPES.values())
            for i in range(len(self.buckets))
        ]
        misses = [
            sum(self.cluster.get(m, [0])[i] or 0 for _, m in catalog.CACHE_TYPES.values())
            for i in range(len(self.buckets))
        ]
        return analysis.bucket_ratios(hits, misses)


def cluster_timeseries(cluster: DaxCluster, range_key: str | None = None) -> Timeseries:
    rng = get_range(range_key)
    series = _cluster_series(cluster)
    end = data_end(series)
    start = end - rng.span
    data = load([s.pk for s in series], start, end, bucket_s=rng.bucket_s)
    n = int(rng.span.total_seconds() // rng.bucket_s)
    buckets = [start + timedelta(seconds=i * rng.bucket_s) for i in range(n)]

    def values(s: MetricSeries) -> list[float | None]:
        per = data.get(s.pk, {})
        zero = 0.0 if s.zero_when_missing else None
        return [per[b].value(s.statistic) if b in per else zero for b in buckets]

    cluster_values = {s.metric: values(s) for s in series if not s.node_id}
    nodes: dict[str, dict[str, list[float | None]]] = defaultdict(dict)
    for s in series:
        if s.node_id:
            nodes[s.node_id][s.metric] = values(s)
    return Timeseries(rng, start, end, buckets, cluster_values, dict(sorted(nodes.items())))


# --------------------------------------------------------------------------- table


@dataclass
class TableReport:
    table: CachedTable
    range: Range
    parts: list[tuple[ClusterReport, TableShareReport]]
    counts: analysis.CacheCounts
    consumed_read_units: float
    reads_reaching_table: float
    exact: bool
    method: str
    savings: analysis.Savings | None
    allocated_cost_usd: float | None

    @property
    def served_by_cache(self) -> float:
        return self.counts.hits

    @property
    def share_served_by_cache(self) -> float | None:
        total = self.counts.hits + self.reads_reaching_table
        return self.counts.hits / total if total else None


def table_report(table: CachedTable, range_key: str | None = None) -> TableReport:
    rng = get_range(range_key)
    parts = []
    for cluster in table.clusters.filter(vanished_at__isnull=True):
        report = cluster_report(cluster, rng.key)
        share = next((r for r in report.tables if r.table.pk == table.pk), None)
        if share:
            parts.append((report, share))
    counts = analysis.CacheCounts()
    allocated = 0.0 if parts else None
    for report, share in parts:
        c = share.figures.counts
        counts = analysis.CacheCounts(
            *(getattr(counts, f) + getattr(c, f) for f in counts.__dataclass_fields__)
        )
        if report.monthly_cost_usd is not None and allocated is not None:
            allocated += report.monthly_cost_usd * share.figures.share
        else:
            allocated = None
    if parts:
        consumed = parts[0][1].consumed_read_units
        reaching = parts[0][1].reads_reaching_table
    else:
        consumed_series = _table_series([table]).get(table.pk)
        end = data_end([consumed_series] if consumed_series else [])
        aggs = load([consumed_series.pk], end - rng.span, end) if consumed_series else {}
        consumed = (
            aggs[consumed_series.pk][None].total
            if consumed_series and consumed_series.pk in aggs
            else 0.0
        )
        reaching = analysis.TableReads(table.name, consumed, table.avg_item_kb).reads_reaching_table
    exact = bool(parts) and all(share.figures.exact for _, share in parts)
    method = parts[0][1].figures.method if parts else ""
    saved = (
        analysis.savings(
            [
                analysis.TableUse(
                    table.name, counts.hits, counts.lookups, table.avg_item_kb, table.billing_mode
                )
            ],
            max(part.covered_hours for part, _ in parts),
            allocated,
        )
        if parts
        else None
    )
    return TableReport(
        table, rng, parts, counts, consumed, reaching, exact, method, saved, allocated
    )


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
    consumed = _table_series([table]).get(table.pk)
    ends = [data_end([consumed])] if consumed else []
    ends += [part.end for part, _ in report.parts]
    end = max(ends) if ends else data_end([])
    start = end - rng.span
    n = int(rng.span.total_seconds() // rng.bucket_s)
    buckets = [start + timedelta(seconds=i * rng.bucket_s) for i in range(n)]
    served = [0.0] * n
    item_hits = [0.0] * n
    item_misses = [0.0] * n
    for cluster_report_, share in report.parts:
        by_metric = {
            s.metric: s
            for s in MetricSeries.objects.filter(cluster=cluster_report_.cluster, node_id="")
        }
        wanted = [catalog.ITEM_HITS, catalog.ITEM_MISSES, catalog.QUERY_HITS, catalog.SCAN_HITS]
        ids = {m: by_metric[m].pk for m in wanted if m in by_metric}
        data = load(ids.values(), start, end, bucket_s=rng.bucket_s)
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
        data = load([consumed.pk], start, end, bucket_s=rng.bucket_s)
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
