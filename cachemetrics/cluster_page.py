"""What a cluster's page shows of its data (report and charts), kept per process.

The report and the charts read some 3,000 rollup rows and about ten queries: two thirds of the
page's time. Between two collections they come out the same, so they are kept (default
cache) under a key made of what they are made of: the range, the cluster's fields, each
series' watermarks, the mapped tables' fields, the last collection of the cluster's account
and region (a re-collection within the same minute leaves the watermarks as they were) and
the viewer's timezone and language (the charts' times). Prices are not in the key: a price
refresh shows after at most ``KEEP_SECONDS``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.cache import cache
from django.utils import timezone, translation

from cachemetrics import charts, points
from cachemetrics.models import Collection, DaxCluster
from cachemetrics.ranges import Range
from cachemetrics.reports import ClusterReport, cluster_report
from cachemetrics.timeseries import cluster_timeseries

KEEP_SECONDS = 60


@dataclass
class ClusterPage:
    report: ClusterReport
    has_data: bool
    charts: dict[str, str | None]  # empty without data


def cluster_page(cluster: DaxCluster, rng: Range) -> ClusterPage:
    """The report and charts of ``cluster`` over ``rng``, from the cache when nothing they are
    made of has changed."""
    series = points.cluster_series(cluster)  # read once for the key, the report and the charts
    key = _key(cluster, rng, series)
    page = cache.get(key)
    if page is None:
        page = _build(cluster, rng, series)
        cache.set(key, page, KEEP_SECONDS)
    return page


def _build(cluster: DaxCluster, rng: Range, series) -> ClusterPage:
    report = cluster_report(cluster, rng, series)
    ts = cluster_timeseries(cluster, rng, series)
    if not any(v for v in ts.cluster.get("TotalRequestCount", [])):
        return ClusterPage(report, has_data=False, charts={})
    return ClusterPage(
        report,
        has_data=True,
        charts={
            "hit_ratio": charts.hit_ratio(ts),
            "hits_misses": charts.hits_vs_misses(ts),
            "request_mix": charts.request_mix(ts),
            "failures": charts.failures(ts),
            "utilization": charts.utilization(ts),
            "network": charts.network(ts),
            "cpu_credits": charts.cpu_credits(ts) if report.burstable else None,
            "evicted": charts.evicted(ts),
            "per_node": charts.per_node(report.node_totals),
            "per_node_queries": charts.per_node_queries(report.nodes),
        },
    )


def _key(cluster: DaxCluster, rng: Range, series) -> str:
    last_collection = (
        Collection.objects.filter(account=cluster.account, region=cluster.region)
        .values_list("pk", flat=True)
        .first()
    )
    shown = [
        translation.get_language(),
        timezone.get_current_timezone_name(),
        rng,
        _fields(cluster),
        [
            (s.pk, s.metric, s.statistic, s.collected_until, s.rolled_up_until, s.quarters_from)
            for s in series
        ],
        [_fields(table) for table in cluster.tables.order_by("pk")],
        last_collection,
    ]
    return "cache-cluster:" + hashlib.blake2b(repr(shown).encode(), digest_size=16).hexdigest()


def _fields(instance) -> tuple:
    return tuple(getattr(instance, f.attname) for f in instance._meta.concrete_fields)
