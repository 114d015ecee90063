"""What a cluster page and a table page say over one range: counts and hit ratios, per-table
shares, node price and monthly cost, savings and health flags (for views, the API, the home card).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cachemetrics import analysis, catalog, points, price_table, pricing
from cachemetrics.models import CachedTable, DaxCluster, MetricSeries
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
    nodes: list[NodeReport] = field(default_factory=list)
    read_prices: pricing.ReadPrices = field(default_factory=pricing.ReadPrices)

    @property
    def burstable(self) -> bool:
        return catalog.is_burstable(self.cluster.node_type)

    @property
    def lowest_credits_node(self) -> NodeReport | None:
        """The node whose CPU credit balance fell lowest (burstable node types)."""
        known = [n for n in self.nodes if n.credits_lowest is not None]
        return min(known, key=lambda n: n.credits_lowest or 0.0, default=None)

    @property
    def user_errors(self) -> float:
        """ErrorRequestCount without the throttled requests AWS counts in it."""
        errors = self.totals.get(catalog.ERROR_REQUESTS) or 0.0
        return max(0.0, errors - (self.totals.get(catalog.THROTTLED_REQUESTS) or 0.0))

    @property
    def network_in_per_s(self) -> float | None:
        return _per_second(self.totals.get(catalog.NETWORK_IN), self.covered_hours)

    @property
    def network_out_per_s(self) -> float | None:
        return _per_second(self.totals.get(catalog.NETWORK_OUT), self.covered_hours)

    @property
    def partial_range(self) -> bool:
        return self.covered_hours < self.range.hours - 1e-9

    @property
    def exact_tables(self) -> bool:
        return len(self.tables) <= 1

    @property
    def read_prices_label(self) -> str:
        return self.read_prices.label


def _per_second(total: float | None, hours: float) -> float | None:
    return None if total is None or hours <= 0 else total / (hours * 3600)


@dataclass
class NodeReport:
    """One node over the range: traffic, caches, CPU and (burstable types) CPU credits."""

    id: str
    az: str
    status: str
    endpoint: str
    totals: dict[str, float | None]
    credits_lowest: float | None = None  # lowest CPU credit balance in the range
    credits_latest: float | None = None  # balance at the end of the range

    def _get(self, metric: str) -> float:
        return self.totals.get(metric) or 0.0

    @property
    def requests(self) -> float | None:
        return self.totals.get(catalog.TOTAL_REQUESTS)

    @property
    def item_hit_ratio(self) -> float | None:
        return analysis.hit_ratio(self._get(catalog.ITEM_HITS), self._get(catalog.ITEM_MISSES))

    @property
    def query_hit_ratio(self) -> float | None:
        return analysis.hit_ratio(self._get(catalog.QUERY_HITS), self._get(catalog.QUERY_MISSES))

    @property
    def queries(self) -> float:
        return self._get(catalog.QUERY_REQUESTS)

    @property
    def scans(self) -> float:
        return self._get(catalog.SCAN_REQUESTS)

    @property
    def scan_share(self) -> float | None:
        """Scans / (queries + scans): scans read whole pages of a table and cost far more."""
        return analysis.scan_share(self.queries, self.scans)

    @property
    def cpu(self) -> float | None:
        return self.totals.get(catalog.CPU)

    @property
    def memory(self) -> float | None:
        return self.totals.get(catalog.MEMORY)


@dataclass
class TableShareReport:
    table: CachedTable
    consumed_read_units: float
    reads_reaching_table: float
    figures: analysis.TableFigures


def cluster_report(
    cluster: DaxCluster,
    range_key: str | Range | None = None,
    series: list[MetricSeries] | None = None,
) -> ClusterReport:
    """``series``: the cluster's (``points.cluster_series``), when the caller has them."""
    rng = get_range(range_key)
    if series is None:
        series = points.cluster_series(cluster)
    tables = list(cluster.tables.all())
    table_series = points.consumed_reads_series(tables)
    start, end = rng.window(points.window_end(series))
    cluster_level = {s.pk: s for s in series if not s.node_id}
    node_level = [s for s in series if s.node_id]
    aggs = points.aggregates(
        [*cluster_level.values(), *node_level, *table_series.values()],
        start,
        end,
        rollups=rng.rollups,
    )

    totals = {
        s.metric: aggs[s.pk][None].value(s.statistic) if s.pk in aggs else None
        for s in cluster_level.values()
    }
    counts = analysis.CacheCounts.from_totals({k: v or 0.0 for k, v in totals.items()})
    current_totals = points.aggregates(cluster_level.values(), end - timedelta(hours=1), end)
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
    nodes = node_reports(cluster, node_level, node_totals, start, end, rng.rollups)
    known = [n for n in nodes if n.credits_lowest is not None]
    lowest = min(known, key=lambda n: n.credits_lowest or 0.0, default=None)
    covered = points.covered_hours(
        [s.pk for s in cluster_level.values() if s.metric == catalog.TOTAL_REQUESTS], start, end
    )
    read_prices = price_table.read_prices(cluster.region)
    saved = analysis.savings(uses, covered or rng.hours, monthly_cost, read_prices)

    halves = points.aggregates(
        [s for s in cluster_level.values() if s.metric == catalog.EVICTED],
        start,
        end,
        bucket_s=max(1, int(rng.span.total_seconds() // 2)),
        rollups=rng.rollups,
    )
    evicted = [a.total for per in halves.values() for _, a in sorted(per.items())]
    health = analysis.HealthInput(
        item_hit_ratio=counts.item,
        threshold=cluster.hit_ratio_threshold,
        total_requests=totals.get(catalog.TOTAL_REQUESTS) or 0.0,
        error_requests=totals.get(catalog.ERROR_REQUESTS) or 0.0,
        throttled_requests=totals.get(catalog.THROTTLED_REQUESTS) or 0.0,
        fault_requests=totals.get(catalog.FAULT_REQUESTS) or 0.0,
        evicted_first_half=evicted[0] if len(evicted) > 0 else 0.0,
        evicted_second_half=evicted[1] if len(evicted) > 1 else 0.0,
        memory_avg_pct=totals.get(catalog.MEMORY),
        cpu_avg_pct=totals.get(catalog.CPU),
        cpu_max_pct=_max_of(cluster_level.values(), catalog.CPU, aggs),
        table_reads=sum(r.reads_reaching_table for r in table_reports) if table_reports else None,
        cache_misses=counts.misses,
        net_monthly_usd=saved.net_monthly_usd,
        cpu_credits_lowest=lowest.credits_lowest if lowest else None,
        cpu_credits_node=lowest.id if lowest else "",
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
        nodes=nodes,
        read_prices=read_prices,
    )


def node_reports(
    cluster: DaxCluster,
    node_level: list[MetricSeries],
    node_totals: dict[str, dict[str, float | None]],
    start: datetime,
    end: datetime,
    rollups: bool | None = None,
) -> list[NodeReport]:
    """The cluster's current nodes (inventory order) with their figures over [start, end)."""
    credits = credit_balances(node_level, start, end, rollups)
    return [
        NodeReport(
            id=node.get("id", ""),
            az=node.get("az", ""),
            status=node.get("status", ""),
            endpoint=node.get("endpoint", ""),
            totals=node_totals.get(node.get("id", ""), {}),
            credits_lowest=credits.get(node.get("id", ""), (None, None))[0],
            credits_latest=credits.get(node.get("id", ""), (None, None))[1],
        )
        for node in cluster.nodes
    ]


def credit_balances(
    node_level: list[MetricSeries], start: datetime, end: datetime, rollups: bool | None = None
) -> dict[str, tuple[float | None, float | None]]:
    """Node -> (lowest, latest) CPU credit balance over [start, end).

    DAX publishes only non-zero values: from the first published balance on, a minute in which
    the node published its CPU but no balance had a balance of 0.
    """
    cpu = {s.node_id: s for s in node_level if s.metric == catalog.CPU}
    out: dict[str, tuple[float | None, float | None]] = {}
    for series in node_level:
        if series.metric != catalog.CPU_CREDITS:
            continue
        hours = points.covered_hours([series.pk], start, end)
        if hours is None:
            out[series.node_id] = (None, None)
            continue
        since = end - timedelta(hours=hours)
        read = [series] + ([cpu[series.node_id]] if series.node_id in cpu else [])
        ids = [s.pk for s in read]
        aggs = points.aggregates(read, since, end, rollups=rollups)
        credit = aggs[series.pk][None]
        cpu_minutes = aggs[ids[-1]][None].count if len(ids) > 1 else 0
        lowest = analysis.lowest_credit_balance(credit.minimum, credit.count, cpu_minutes)
        last = points.last_points(ids, end)
        latest = last.get(series.pk)
        if latest and len(ids) > 1 and ids[-1] in last and last[ids[-1]][0] > latest[0]:
            latest = (last[ids[-1]][0], 0.0)  # the node kept publishing its CPU, not a balance
        out[series.node_id] = (lowest, latest[1] if latest else None)
    return out


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


def table_report(table: CachedTable, range_key: str | Range | None = None) -> TableReport:
    rng = get_range(range_key)
    parts = []
    for cluster in table.clusters.filter(vanished_at__isnull=True):
        report = cluster_report(cluster, rng)
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
        start, end = rng.window(points.window_end([consumed_series] if consumed_series else []))
        aggs = (
            points.aggregates([consumed_series], start, end, rollups=rng.rollups)
            if consumed_series
            else {}
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
