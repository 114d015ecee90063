"""Cluster summaries: the figures of the cache overview, written when a collection finishes.

A cluster's report costs some fifteen queries; the overview, the home card and
``/api/cache/clusters/`` list every cluster, so they read the summary each collection stored
(the same 24 h report a cluster's page shows, ``figures``) with a constant number of queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime

from django.utils import timezone
from django.utils.safestring import SafeString

from cachemetrics import charts
from cachemetrics.models import CachedTable, ClusterSummary, DaxCluster
from cachemetrics.reports import ClusterReport, cluster_report
from cachemetrics.timeseries import hourly_item_ratio

SUMMARY_RANGE = "24h"


def figures(report: ClusterReport) -> dict:
    """A cluster report's figures as JSON, unrounded: what a summary stores and the clusters
    API shows (with the cluster's own fields)."""
    counts = report.counts
    return {
        "range": report.range.key,
        "bucket_seconds": report.range.bucket_s,
        "window": {"start": report.start.isoformat(), "end": report.end.isoformat()},
        "current_hit_ratio": {"item": report.current.item, "query": report.current.query},
        "hit_ratio": counts.ratios(),
        "counts": {name: getattr(counts, name) for name in counts.__dataclass_fields__},
        "node_hourly_usd": report.price.hourly_usd,
        "price_source": report.price.source,
        "price_as_of": report.price.as_of,
        "monthly_cost_usd": report.monthly_cost_usd,
        "savings": {**asdict(report.savings), "caveats": list(report.savings.caveats)},
        "flags": [asdict(flag) for flag in report.flags],
        "tables": [
            {
                "id": t.table.pk,
                "name": t.table.name,
                "figures": t.figures.label,
                "exact": t.figures.exact,
                "share": t.figures.share,
                "item_hit_ratio": t.figures.hit_ratio,
                "consumed_read_units": t.consumed_read_units,
                "reads_reaching_table": t.reads_reaching_table,
                "hits": t.figures.counts.hits,
                "item_hits": t.figures.counts.item_hits,
                "item_misses": t.figures.counts.item_misses,
                "method": t.figures.method,
            }
            for t in report.tables
        ],
    }


def write(clusters: Iterable[DaxCluster], now: datetime | None = None) -> int:
    """Compute and store the summary of each of ``clusters``; returns how many."""
    now = now or timezone.now()
    rows = []
    for cluster in clusters:
        report = cluster_report(cluster, SUMMARY_RANGE)
        data = figures(report)
        # drawn once here, not on each view of the overview
        data["sparkline_svg"] = charts.sparkline_svg(hourly_item_ratio(cluster, report.end))
        rows.append(ClusterSummary(cluster=cluster, computed_at=now, figures=data))
    ClusterSummary.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["cluster"],
        update_fields=["computed_at", "figures"],
    )
    return len(rows)


# --------------------------------------------------------------------------- reading


@dataclass
class ClusterRow:
    """One cluster of the overview with its stored figures (empty before its first summary)."""

    cluster: DaxCluster
    computed_at: datetime | None
    figures: dict

    @property
    def flags(self) -> list[dict]:
        return self.figures.get("flags", [])

    @property
    def sparkline_svg(self) -> str:
        svg = self.figures.get("sparkline_svg")
        if svg is None:  # a summary written before sparklines were stored drawn
            return charts.sparkline_svg(self.figures.get("item_hit_ratio_hourly", []))
        return SafeString(svg)  # drawn by charts.sparkline_svg from numbers


@dataclass
class TableRow:
    """A table behind present clusters: their hits and misses attributed to it, summed."""

    table: CachedTable
    reaching: float  # read requests that reached DynamoDB (the same for each cluster)
    clusters: list[DaxCluster] = field(default_factory=list)
    hits: float = 0.0  # item cache
    misses: float = 0.0
    served: float = 0.0  # every cache hit: item, query and scan
    exact: bool = True

    @property
    def hit_ratio(self) -> float | None:
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else None

    @property
    def served_share(self) -> float | None:
        total = self.served + self.reaching
        return self.served / total if total else None


@dataclass
class Overview:
    clusters: list[ClusterRow]  # present ones first, then by name
    tables: list[TableRow]
    unmapped: list[CachedTable]  # tables behind no present cluster

    @property
    def present(self) -> list[ClusterRow]:
        return [row for row in self.clusters if row.cluster.is_present]

    @property
    def as_of(self) -> datetime | None:
        """When the oldest summary of a present cluster was computed."""
        return min((r.computed_at for r in self.present if r.computed_at), default=None)

    @property
    def totals(self) -> dict:
        present = self.present
        return {
            "clusters": len(present),
            "nodes": sum(r.cluster.node_count for r in present),
            "monthly_cost": sum(r.figures.get("monthly_cost_usd") or 0 for r in present),
            "net": sum(
                (r.figures.get("savings") or {}).get("net_monthly_usd") or 0 for r in present
            ),
            "flagged": sum(1 for r in present if r.flags),
        }


def overview() -> Overview:
    """Every cluster with its summary, and the tables behind them: two queries."""
    # nodes and security groups: JSON no list shows, not decoded
    clusters = DaxCluster.objects.select_related("account", "summary").defer(
        "nodes", "security_groups"
    )
    rows = []
    for cluster in sorted(clusters, key=lambda c: (not c.is_present, c.name)):
        summary = getattr(cluster, "summary", None)
        rows.append(
            ClusterRow(cluster, summary and summary.computed_at, summary.figures if summary else {})
        )
    tables = {t.pk: t for t in CachedTable.objects.order_by("name")}
    behind: dict[int, TableRow] = {}
    for row in rows:
        if not row.cluster.is_present:
            continue
        for part in row.figures.get("tables", []):
            if part["id"] not in tables:  # deleted since the summary
                continue
            table_row = behind.setdefault(
                part["id"], TableRow(tables[part["id"]], part["reads_reaching_table"])
            )
            table_row.clusters.append(row.cluster)
            table_row.hits += part["item_hits"]
            table_row.misses += part["item_misses"]
            table_row.served += part["hits"]
            table_row.exact = table_row.exact and part["exact"]
    unmapped = [t for pk, t in tables.items() if pk not in behind]
    return Overview(rows, sorted(behind.values(), key=lambda r: r.table.name), unmapped)
