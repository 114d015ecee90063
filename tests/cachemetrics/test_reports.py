"""Reports over collected data: ratios from raw CloudWatch, exact and estimated tables."""

from __future__ import annotations

import pytest

from cachemetrics import collector
from cachemetrics.models import CachedTable, DaxCluster
from cachemetrics.reports import cluster_report, table_report
from tests.cachemetrics.conftest import T0
from tests.cachemetrics.raw_cloudwatch import HOUR, raw_minutes

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded(aws):
    return aws.seed(hours=1)


@pytest.fixture
def collected(seeded):
    [collection] = collector.collect_all(now=T0, since=HOUR)
    assert collection.status == "succeeded", collection.errors
    return seeded


@pytest.mark.parametrize("name", ["orders-cache", "catalog-cache", "sessions-cache"])
def test_hit_ratios_match_hits_over_hits_plus_misses_from_raw_cloudwatch_data(aws, collected, name):
    raw = raw_minutes(aws, name)
    total = {metric: sum(values.values()) for metric, values in raw.items()}

    report = cluster_report(DaxCluster.objects.get(name=name), "1h")

    item = total["ItemCacheHits"] / (total["ItemCacheHits"] + total["ItemCacheMisses"])
    query = total["QueryCacheHits"] / (total["QueryCacheHits"] + total["QueryCacheMisses"])
    assert report.counts.item == pytest.approx(item, rel=1e-12)
    assert report.counts.query == pytest.approx(query, rel=1e-12)
    assert report.current.item == pytest.approx(item, rel=1e-12)
    assert item == pytest.approx(collected["clusters"][name]["item_hit_ratio"], rel=1e-12)


def test_a_cluster_fronting_one_table_gives_exact_per_table_figures(collected):
    report = cluster_report(DaxCluster.objects.get(name="orders-cache"), "1h")

    [orders] = report.tables
    truth = collected["tables"]["Orders"]
    assert orders.figures.exact
    assert orders.figures.counts.item_hits == truth["item_cache_hits"]
    assert orders.figures.counts.item_misses == truth["item_cache_misses"]
    assert orders.figures.hit_ratio == pytest.approx(truth["item_hit_ratio"])
    assert orders.consumed_read_units == pytest.approx(truth["consumed_read_units"])

    table = table_report(CachedTable.objects.get(name="Orders"), "1h")
    assert table.exact and table.counts.item_hits == truth["item_cache_hits"]


def test_a_cluster_fronting_two_tables_gives_estimates_marked_as_such(collected):
    report = cluster_report(DaxCluster.objects.get(name="catalog-cache"), "1h")

    products, reviews = sorted(report.tables, key=lambda r: r.table.name)
    assert not products.figures.exact and products.figures.label == "estimated"
    assert "share of the read requests that reached DynamoDB" in products.figures.method
    assert products.figures.share + reviews.figures.share == pytest.approx(1.0)
    assert products.figures.counts.item_hits + reviews.figures.counts.item_hits == pytest.approx(
        report.counts.item_hits
    )
    table = table_report(CachedTable.objects.get(name="Reviews"), "1h")
    assert not table.exact and "Estimated" in table.method


def test_savings_and_cost_use_the_seeded_node_prices(collected):
    report = cluster_report(DaxCluster.objects.get(name="orders-cache"), "1h")

    assert report.price.hourly_usd == pytest.approx(0.269)
    assert report.monthly_cost_usd == pytest.approx(3 * 0.269 * 730)
    # Orders items: 1 KB by default (moto tables are empty) -> 0.5 RRU per hit, on-demand
    hits = report.counts.hits
    assert report.savings.monthly_saving_usd == pytest.approx(hits * 0.5 * 0.125e-6 * 730)
    assert report.savings.net_monthly_usd == pytest.approx(
        report.savings.monthly_saving_usd - report.monthly_cost_usd
    )


def test_the_undersized_session_cache_is_flagged_with_reasons(collected):
    report = cluster_report(DaxCluster.objects.get(name="sessions-cache"), "1h")

    codes = {flag.code for flag in report.flags}
    assert "bypass" in codes  # 40 % strongly consistent reads
    assert "costs_more" in codes
    assert all(flag.reason for flag in report.flags)


def test_savings_extrapolate_only_the_hours_that_have_data(collected):
    cluster = DaxCluster.objects.get(name="orders-cache")

    one_hour = cluster_report(cluster, "1h")
    one_week = cluster_report(cluster, "7d")

    assert one_week.covered_hours == pytest.approx(1.0)
    assert one_week.partial_range and not one_hour.partial_range
    assert one_week.savings.window_hours == pytest.approx(1.0)
    assert one_week.savings.monthly_saving_usd == pytest.approx(one_hour.savings.monthly_saving_usd)
