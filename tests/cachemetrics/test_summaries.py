"""Cluster summaries: written by each collection, read by the overview, the home card and the
clusters API with a constant number of queries, and equal to the reports computed on demand."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cachemetrics import charts, collector, summaries
from cachemetrics.models import CachedTable, ClusterSummary, DaxCluster, MetricSeries
from cachemetrics.reports import cluster_report
from cachemetrics.timeseries import hourly_item_ratio
from dashboard.templatetags.units import format_pct, format_signed_usd, format_usd
from tests.cachemetrics.conftest import T0

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded(aws):
    return aws.seed(hours=2)


@pytest.fixture
def collected(seeded):
    [collection] = collector.collect_all(now=T0, since=timedelta(hours=2))
    assert collection.status == "succeeded", collection.errors
    return collection


def _row(page: str, name: str) -> str:
    return re.search(rf'<tr [^>]*data-cluster="{name}">(.*?)</tr>', page, re.S).group(1)


def test_a_collection_stores_each_clusters_24h_figures_as_a_report_computes_them(collected):
    assert ClusterSummary.objects.count() == 3
    for cluster in DaxCluster.objects.all():
        summary = cluster.summary
        report = cluster_report(cluster, "24h")
        expected = summaries.figures(report)
        expected["sparkline_svg"] = charts.sparkline_svg(hourly_item_ratio(cluster, report.end))

        assert summary.figures == json.loads(json.dumps(expected))
        assert collected.started_at <= summary.computed_at <= collected.finished_at
    orders = DaxCluster.objects.get(name="orders-cache").summary.figures
    assert orders["hit_ratio"]["item"] is not None
    assert [t["name"] for t in orders["tables"]] == ["Orders"]
    assert orders["sparkline_svg"].startswith('<svg class="cm-spark"')


def test_a_failed_summary_leaves_the_metrics_collected_and_the_last_figures_shown(
    seeded, monkeypatch
):
    collector.collect_all(now=T0 - timedelta(minutes=30), since=timedelta(hours=1))
    before = ClusterSummary.objects.get(cluster__name="orders-cache").computed_at

    def fail(clusters):
        raise RuntimeError("summary failed")

    monkeypatch.setattr(summaries, "write", fail)
    [collection] = collector.collect_all(now=T0)

    assert collection.status == "partial"
    assert collection.errors[0]["stage"] == "summaries"
    assert collection.points_written > 0
    assert set(MetricSeries.objects.values_list("collected_until", flat=True)) == {T0}
    assert ClusterSummary.objects.get(cluster__name="orders-cache").computed_at == before


def test_the_overview_shows_the_figures_of_the_report_and_when_they_were_computed(
    admin_client, collected
):
    page = admin_client.get("/cache/").content.decode()

    for cluster in DaxCluster.objects.all():
        report = cluster_report(cluster, "24h")
        row = _row(page, cluster.name)
        cells = [
            format_pct(report.current.item),
            format_pct(report.current.query),
            format_usd(report.monthly_cost_usd),
            format_signed_usd(report.savings.net_monthly_usd),
            *(flag.title for flag in report.flags),
        ]
        for cell in cells:
            assert f">{cell}<" in row, (cluster.name, cell)
    computed = ClusterSummary.objects.first().computed_at
    assert "as of " + computed.strftime("%Y-%m-%d %H:%M") in page


def test_the_clusters_api_gives_the_24h_figures_of_the_cluster_api(admin_client, collected):
    listed = {c["name"]: c for c in admin_client.get("/api/cache/clusters/").json()["clusters"]}

    for cluster in DaxCluster.objects.all():
        detail = admin_client.get(f"/api/cache/clusters/{cluster.pk}/?range=24h").json()
        for key in ("window", "current_hit_ratio", "hit_ratio", "counts", "savings", "flags"):
            assert listed[cluster.name][key] == detail[key], (cluster.name, key)
        assert listed[cluster.name]["tables"] == detail["tables"]
        assert listed[cluster.name]["as_of"] == cluster.summary.computed_at.isoformat()


def _fleet(size: int) -> None:
    """``size`` clusters of one node, each fronting its own table, summarized (no metrics)."""
    clusters = [
        DaxCluster.objects.create(
            region="us-east-1",
            name=f"c{i:02d}",
            arn=f"arn:aws:dax:us-east-1:1:cache/c{i:02d}",
            node_type="dax.r5.large",
            nodes=[{"id": f"c{i:02d}-a"}],
        )
        for i in range(size)
    ]
    for cluster in clusters:
        CachedTable.objects.create(region="us-east-1", name=f"t-{cluster.name}").clusters.add(
            cluster
        )
    CachedTable.objects.create(region="us-east-1", name="unmapped")
    summaries.write(clusters)


@pytest.mark.parametrize("url", ["/cache/", "/api/cache/clusters/", "/api/cache/tables/", "/"])
def test_the_pages_read_the_summaries_with_as_many_queries_for_20_clusters_as_for_2(
    admin_client, url
):
    def queries(size: int) -> int:
        DaxCluster.objects.all().delete()
        CachedTable.objects.all().delete()
        _fleet(size)
        admin_client.get(url)  # the session and the user, loaded once
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(url)
        assert response.status_code == 200
        assert "c01" in response.content.decode()
        return len(captured)

    assert queries(20) == queries(2)


def test_a_cluster_not_summarized_yet_shows_no_figures_and_the_others_do(admin_client):
    _fleet(2)
    DaxCluster.objects.create(
        region="us-east-1", name="newcomer", arn="arn:aws:dax:us-east-1:1:cache/newcomer"
    )

    page = admin_client.get("/cache/").content.decode()

    assert "No figures yet" in _row(page, "newcomer")
    assert "No figures yet" not in _row(page, "c00")
    assert page.count('<svg class="cm-spark"') + page.count("cm-nospark") == 2


def test_editing_a_mapping_updates_the_overviews_tables(admin_client, collected):
    reviews = CachedTable.objects.get(name="Reviews")
    orders_cache = DaxCluster.objects.get(name="orders-cache")

    admin_client.post(
        f"/cache/tables/{reviews.pk}/",
        {"clusters": [orders_cache.pk], "avg_item_kb": "1", "billing_mode": "PAY_PER_REQUEST"},
    )

    tables = {t["name"]: t for t in admin_client.get("/api/cache/tables/").json()["tables"]}
    assert tables["Reviews"]["clusters"] == ["orders-cache"]
    assert tables["Orders"]["figures"] == tables["Reviews"]["figures"] == "estimated"
    assert tables["Products"]["figures"] == "exact"


def test_the_overview_shows_what_changed_since_it_was_last_shown(admin_client):
    _fleet(2)

    def shown() -> str:
        return admin_client.get("/cache/").content.decode()

    shown()  # kept for the next views
    DaxCluster.objects.filter(name="c00").update(node_count=5)
    assert "dax.r5.large × 5" in _row(shown(), "c00")

    CachedTable.objects.filter(name="t-c01").update(name="t-renamed")
    assert "t-renamed" in shown()

    summary = ClusterSummary.objects.get(cluster__name="c01")
    summary.figures["monthly_cost_usd"] = 1234.5
    summary.computed_at += timedelta(minutes=5)  # written again by the next collection
    summary.save()
    assert f">{format_usd(1234.5)}<" in _row(shown(), "c01")
