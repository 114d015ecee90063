"""What a cluster page and a table page say over one range: counts and hit ratios, per-table
shares, node price and monthly cost, savings and health flags (for views, the API, the home card).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cachemetrics import analysis, catalog, points, price_table, pricing
from cachemetrics.models import CachedTable, DaxCluster
from cachemetrics.price_table import NodePrice
from cachemetrics.ranges import Range, get_range

# --------------------------------------------------------------------------- prices


def node_price(cluster: DaxCluster) -> NodePrice:
    return price_table.node_price(cluster.node_type, cluster.region)


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
    node_totals: dict[str, dict[str, float | None]] = field(default_factory=dict)
    covered_hours: float = 0.0  # hours of the range that have data (savings extrapolate these)

    @property
    def partial_range(self) -> bool:
        return self.covered_hours < self.range.hours - 1e-9

    @property
    def exact_tables(self) -> bool:
        return len(self.tables) <= 1

    @property
    def read_prices_label(self) -> str:
        return price_table.read_prices(self.cluster.region).label


@dataclass
class TableShareReport:
    table: CachedTable
    consumed_read_units: float
    reads_reaching_table: float
    figures: analysis.TableFigures


def cluster_report(cluster: DaxCluster, range_key: str | None = None) -> ClusterReport:
    rng = get_range(range_key)
    series = points.cluster_series(cluster)
    tables = list(cluster.tables.all())
    table_series = points.consumed_reads_series(tables)
    end = points.window_end(series)
    start = end - rng.span
    cluster_level = {s.pk: s for s in series if not s.node_id}
    node_level = [s for s in series if s.node_id]
    ids = [*cluster_level, *(s.pk for s in node_level), *(s.pk for s in table_series.values())]
    aggs = points.aggregates(ids, start, end)

    totals = {
        s.metric: aggs[s.pk][None].value(s.statistic) if s.pk in aggs else None
        for s in cluster_level.values()
    }
    counts = analysis.CacheCounts.from_totals({k: v or 0.0 for k, v in totals.items()})
    current_totals = points.aggregates(list(cluster_level), end - timedelta(hours=1), end)
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
    covered = points.covered_hours(
        [s.pk for s in cluster_level.values() if s.metric == catalog.TOTAL_REQUESTS], start, end
    )
    saved = analysis.savings(
        uses, covered or rng.hours, monthly_cost, price_table.read_prices(cluster.region)
    )

    halves = points.aggregates(
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
    return ClusterReport(
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


def _max_of(series, metric: str, aggs) -> float | None:
    for s in series:
        if s.metric == metric and s.pk in aggs:
            return aggs[s.pk][None].maximum
    return None


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
        consumed_series = points.consumed_reads_series([table]).get(table.pk)
        end = points.window_end([consumed_series] if consumed_series else [])
        aggs = (
            points.aggregates([consumed_series.pk], end - rng.span, end) if consumed_series else {}
        )
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
            price_table.read_prices(table.region),
        )
        if parts
        else None
    )
    return TableReport(
        table, rng, parts, counts, consumed, reaching, exact, method, saved, allocated
    )
