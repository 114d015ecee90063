"""Values per bucket for the charts, checked against the raw CloudWatch minutes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cachemetrics import collector
from cachemetrics.models import DaxCluster, MetricPoint
from cachemetrics.timeseries import cluster_timeseries, hourly_item_ratio
from tests.cachemetrics.conftest import T0
from tests.cachemetrics.raw_cloudwatch import HOUR, raw_minutes

pytestmark = pytest.mark.django_db

QUARTER = timedelta(minutes=15)


@pytest.fixture(scope="module")
def seeded(aws):
    return aws.seed(hours=1)


@pytest.fixture
def collected(seeded):
    [collection] = collector.collect_all(now=T0, since=HOUR)
    assert collection.status == "succeeded", collection.errors
    return seeded


def test_per_minute_hit_ratios_match_the_raw_minutes(aws, collected):
    raw = raw_minutes(aws, "orders-cache")
    series = cluster_timeseries(DaxCluster.objects.get(name="orders-cache"), "1h")

    assert len(series.buckets) == 60
    for bucket, ratio in zip(series.buckets, series.ratio("item"), strict=True):
        hits = next((v for t, v in raw["ItemCacheHits"].items() if t == bucket), 0.0)
        misses = next((v for t, v in raw["ItemCacheMisses"].items() if t == bucket), 0.0)
        expected = hits / (hits + misses) if hits + misses else None
        assert ratio == pytest.approx(expected), bucket


def test_the_24h_chart_sums_each_clock_quarter_from_the_15_minute_rollups(aws, collected):
    raw = raw_minutes(aws, "orders-cache")
    cluster = DaxCluster.objects.get(name="orders-cache")
    MetricPoint.objects.filter(series__cluster=cluster).delete()  # what is left is the rollups

    series = cluster_timeseries(cluster, "24h")

    assert len(series.buckets) == 96 and series.buckets[-1] == T0 - QUARTER
    for bucket, hits in zip(series.buckets[-4:], series.cluster["ItemCacheHits"][-4:], strict=True):
        expected = sum(v for t, v in raw["ItemCacheHits"].items() if bucket <= t < bucket + QUARTER)
        assert hits == pytest.approx(expected), bucket
    assert series.cluster["ItemCacheHits"][:-4] == [0.0] * 92  # nothing collected before


def test_the_sparkline_gives_the_item_hit_ratio_of_each_hour_of_the_last_day(aws, collected):
    raw = raw_minutes(aws, "orders-cache")
    hits, misses = (sum(raw[m].values()) for m in ("ItemCacheHits", "ItemCacheMisses"))

    ratios = hourly_item_ratio(DaxCluster.objects.get(name="orders-cache"), T0)

    assert ratios[:-1] == [None] * 23  # nothing collected before the last hour
    assert ratios[-1] == pytest.approx(hits / (hits + misses))


def test_the_combined_ratio_counts_a_cache_type_without_series_as_no_lookups():
    from datetime import datetime, timedelta

    from cachemetrics.ranges import get_range
    from cachemetrics.timeseries import ClusterTimeseries

    buckets = [datetime(2026, 11, 28) + timedelta(hours=h) for h in range(3)]
    # Only the item cache has series (a cluster whose query/scan metrics never arrived).
    series = ClusterTimeseries(
        get_range(None),
        buckets[0],
        buckets[-1],
        buckets,
        {"ItemCacheHits": [3, 0, None], "ItemCacheMisses": [1, 0, 2]},
        {},
    )
    assert series.combined_ratio() == [0.75, None, 0.0]
