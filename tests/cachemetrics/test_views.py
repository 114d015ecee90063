"""Cache pages and JSON API over data collected from moto."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from aws.models import AwsAccount
from cachemetrics import collector
from cachemetrics.models import CachedTable, Collection, DaxCluster
from tests.cachemetrics.conftest import T0

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded(aws):
    return aws.seed(hours=1)


@pytest.fixture
def collected(seeded):
    [collection] = collector.collect_all(now=T0, since=timedelta(hours=1))
    assert collection.status == "succeeded"
    return seeded


def test_the_overview_explains_how_to_connect_an_account_when_empty(admin_client):
    page = admin_client.get("/cache/").content.decode()

    assert "No DAX clusters collected yet" in page
    assert "python manage.py collect_cache_metrics" in page
    assert "tuneboard:tables" in page
    assert "/admin/aws/awsaccount/add/" in page


def test_the_overview_lists_clusters_with_status_nodes_ratios_sparkline_cost_and_flags(
    admin_client, collected
):
    page = admin_client.get("/cache/").content.decode()

    for name in ("orders-cache", "catalog-cache", "sessions-cache"):
        assert f'data-cluster="{name}"' in page
    assert "dax.r5.large × 3" in page
    assert 'class="badge succeeded" data-status="available">available</span>' in page
    ratio = collected["clusters"]["orders-cache"]["item_hit_ratio"]
    assert f"{ratio * 100:.1f} %" in page
    assert page.count('<svg class="cm-spark"') == 3
    assert "$589.11" in page  # 3 x $0.269 x 730 h
    assert "Low hit ratio" in page and "Reads bypass the cache" in page
    assert 'id="tables"' in page and "Reviews" in page and "estimated" in page


def test_the_cluster_page_has_every_chart_and_the_inventory_for_each_range(admin_client, collected):
    cluster = DaxCluster.objects.get(name="orders-cache")
    for key in ("1h", "6h", "24h", "7d", "30d"):
        page = admin_client.get(f"/cache/clusters/{cluster.pk}/?range={key}").content.decode()
        for div in (
            "chart-hit-ratio",
            "chart-hits-misses",
            "chart-request-mix",
            "chart-utilization",
            "chart-evicted",
            "chart-per-node",
        ):
            assert f'id="{div}"' in page, (key, div)
        assert 'aria-current="true" class="active">' + key in page
    assert "vendor/plotly.min.js" in page and "cdn.plot.ly" not in page
    assert "orders-cache-c" in page and ":8111" in page and "sg-" in page
    assert "5 min" in page  # item TTL of the default parameter group


def test_an_unknown_range_falls_back_to_24_hours(admin_client, collected):
    cluster = DaxCluster.objects.get(name="orders-cache")
    page = admin_client.get(f"/cache/clusters/{cluster.pk}/?range=forever").content.decode()
    assert 'aria-current="true" class="active">24h' in page


def test_a_single_table_shows_exact_figures_and_a_shared_one_estimates_with_the_method(
    admin_client, collected
):
    orders = CachedTable.objects.get(name="Orders")
    reviews = CachedTable.objects.get(name="Reviews")

    exact = admin_client.get(f"/cache/tables/{orders.pk}/?range=1h").content.decode()
    estimated = admin_client.get(f"/cache/tables/{reviews.pk}/?range=1h").content.decode()

    assert 'id="figures-label">exact' in exact and "Estimated figures" not in exact
    assert 'id="figures-label">estimated' in estimated
    assert "Estimated figures." in estimated
    assert "share of the read requests that reached DynamoDB" in estimated
    assert 'id="chart-table-reads"' in estimated and 'id="chart-table-ratio"' in estimated


def test_the_mapping_editor_needs_the_csrf_token_and_saves_a_manual_mapping(admin_user, collected):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    reviews = CachedTable.objects.get(name="Reviews")
    orders_cache = DaxCluster.objects.get(name="orders-cache")
    url = f"/cache/tables/{reviews.pk}/"
    form = {"clusters": [orders_cache.pk], "avg_item_kb": "2.5", "billing_mode": "PROVISIONED"}

    assert client.post(url, form).status_code == 403

    client.get(url)
    response = client.post(url, {**form, "csrfmiddlewaretoken": client.cookies["csrftoken"].value})

    assert response.status_code == 302
    reviews.refresh_from_db()
    assert list(reviews.clusters.all()) == [orders_cache]
    assert (reviews.avg_item_kb, reviews.billing_mode, reviews.mapping_source) == (
        2.5,
        "PROVISIONED",
        "manual",
    )


def test_users_without_the_permission_cannot_edit_the_mapping(client, django_user_model):
    user = django_user_model.objects.create_user("viewer", password="pw-12345-long")
    client.force_login(user)
    table = CachedTable.objects.create(region="us-east-1", name="Plain")

    page = client.get(f"/cache/tables/{table.pk}/").content.decode()
    response = client.post(f"/cache/tables/{table.pk}/", {"avg_item_kb": "1"})

    assert "<fieldset disabled" in page
    assert response.status_code == 403


def test_collections_show_their_errors(admin_client, collected):
    AwsAccount.objects.create(name="broken", role_arn="not-a-role")
    collector.collect_all(now=T0, since=timedelta(minutes=5))

    page = admin_client.get("/cache/collections/").content.decode()

    failed = Collection.objects.get(account_name="broken")
    assert f'id="collection-{failed.pk}"' in page
    assert "role ARN" in page and "permanent" in page
    assert "≈ 108 MB" in page
    overview = admin_client.get("/cache/").content.decode()
    assert "Collection for <strong>broken</strong>" in overview


def test_the_home_page_has_a_cache_health_card(admin_client, collected):
    page = admin_client.get("/").content.decode()
    assert "Cache health" in page
    assert "3 clusters" in page and "sessions-cache" in page


def test_the_clusters_api_lists_ratios_costs_and_flags(admin_client, collected):
    data = admin_client.get("/api/cache/clusters/").json()

    by_name = {c["name"]: c for c in data["clusters"]}
    orders = by_name["orders-cache"]
    truth = collected["clusters"]["orders-cache"]
    consumed = collected["tables"]["Orders"]["consumed_read_units"]
    assert orders["hit_ratio"]["item"] == pytest.approx(truth["item_hit_ratio"], abs=1e-6)
    assert orders["monthly_cost_usd"] == pytest.approx(589.11)
    assert orders["tables"] == [
        {
            "id": CachedTable.objects.get(name="Orders").pk,
            "name": "Orders",
            "figures": "exact",
            "share": 1.0,
            "item_hit_ratio": pytest.approx(truth["item_hit_ratio"], abs=1e-6),
            "consumed_read_units": pytest.approx(consumed),
            "method": orders["tables"][0]["method"],
        }
    ]
    assert {f["code"] for f in by_name["sessions-cache"]["flags"]} >= {"low_hit_ratio", "bypass"}
    assert {t["figures"] for t in by_name["catalog-cache"]["tables"]} == {"estimated"}


def test_the_cluster_api_returns_the_range_time_series(admin_client, collected):
    cluster = DaxCluster.objects.get(name="orders-cache")

    data = admin_client.get(f"/api/cache/clusters/{cluster.pk}/?range=1h").json()

    assert data["range"] == "1h"
    assert len(data["timeseries"]["buckets"]) == 60
    assert sum(data["timeseries"]["metrics"]["ItemCacheHits"]) == pytest.approx(
        collected["clusters"]["orders-cache"]["totals"]["ItemCacheHits"]
    )
    assert data["inventory"]["nodes"][0]["id"] == "orders-cache-a"
    assert admin_client.get(f"/api/cache/clusters/{cluster.pk}/?range=2y").status_code == 400
    assert admin_client.get("/api/cache/clusters/999999/").status_code == 404


def test_the_tables_api_marks_estimates(admin_client, collected):
    data = admin_client.get("/api/cache/tables/").json()

    figures = {t["name"]: t["figures"] for t in data["tables"]}
    assert figures == {
        "Orders": "exact",
        "Products": "estimated",
        "Reviews": "estimated",
        "Sessions": "exact",
    }


def test_the_api_answers_401_in_json_without_login(client):
    response = client.get("/api/cache/clusters/")
    assert response.status_code == 401
    assert response.json() == {"error": "Authentication required."}
