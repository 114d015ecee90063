"""A cluster's page keeps its report and charts between collections, and never shows them
stale: a new collection, a mapping change or another viewer's timezone gets its own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cachemetrics import collector
from cachemetrics.models import CachedTable, DaxCluster
from tests.cachemetrics.conftest import T0

pytestmark = pytest.mark.django_db

DATA_TABLES = ("metricpoint", "metricquarter", "metricrollup")


@pytest.fixture(scope="module")
def seeded(aws):
    return aws.seed(hours=2)


@pytest.fixture
def orders_cache(seeded):
    cache.clear()  # what an earlier test left in this process
    # the first of the two seeded hours
    [collection] = collector.collect_all(now=T0 - timedelta(hours=1), since=timedelta(hours=1))
    assert collection.status == "succeeded"
    return DaxCluster.objects.get(name="orders-cache")


def view(client, cluster, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/cache/clusters/{cluster.pk}/", **headers)
    assert response.status_code == 200
    data_reads = [q["sql"] for q in queries if any(t in q["sql"] for t in DATA_TABLES)]
    return response, data_reads


def test_a_page_viewed_again_reads_no_metrics_and_shows_the_same(admin_client, orders_cache):
    first, first_reads = view(admin_client, orders_cache)
    again, again_reads = view(admin_client, orders_cache)

    assert first_reads and not again_reads
    assert again.context["report"].totals == first.context["report"].totals
    assert again.context["charts"] == first.context["charts"]


def test_a_new_collection_shows_at_once(admin_client, orders_cache):
    before, _ = view(admin_client, orders_cache)

    [collection] = collector.collect_all(now=T0)  # the second hour
    assert collection.status == "succeeded"
    after, reads = view(admin_client, orders_cache)

    assert reads
    assert after.context["report"].end == before.context["report"].end + timedelta(hours=1)
    requests = "TotalRequestCount"
    assert after.context["report"].totals[requests] > before.context["report"].totals[requests]


def test_a_mapping_change_shows_at_once(admin_client, orders_cache):
    before, _ = view(admin_client, orders_cache)
    shown = [t.table.name for t in before.context["report"].tables]
    moved = CachedTable.objects.get(name=shown[0])

    moved.clusters.remove(orders_cache)
    after, _ = view(admin_client, orders_cache)

    assert shown[0] not in [t.table.name for t in after.context["report"].tables]


def test_each_viewer_timezone_gets_its_own_charts(admin_client, orders_cache):
    utc, _ = view(admin_client, orders_cache)
    admin_client.cookies["tz"] = "Asia/Kolkata"  # what base.html stores from the browser
    kolkata, _ = view(admin_client, orders_cache)

    assert "Asia/Kolkata" in kolkata.context["charts"]["hit_ratio"]
    assert kolkata.context["charts"]["hit_ratio"] != utc.context["charts"]["hit_ratio"]
