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
    assert page.count('id="plotly-template"') == 1  # the charts' theme, sent once
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


# --------------------------------------------------------------------------- more DAX metrics


def test_the_cluster_page_shows_failures_network_and_per_node_queries_and_scans(
    admin_client, collected
):
    cluster = DaxCluster.objects.get(name="orders-cache")

    page = admin_client.get(f"/cache/clusters/{cluster.pk}/?range=1h").content.decode()

    for div in ("chart-failures", "chart-network", "chart-per-node-queries"):
        assert f'id="{div}"' in page, div
    assert "internal errors (HTTP 500)" in page and "MiB/s" in page
    assert 'id="kpi-failed"' in page and "internal (HTTP 500)" in page
    assert 'id="kpi-network"' in page and "/s</span>" in page
    assert "Scan share" in page and "Query hit ratio" in page
    assert page.count('<tr data-node="orders-cache-') == 3
    # r5 nodes have no CPU credits: nothing about them
    assert "chart-cpu-credits" not in page and 'id="kpi-credits"' not in page
    assert "CPU credits" not in page


def test_a_burstable_cluster_shows_its_cpu_credits_and_what_low_credits_mean(
    admin_client, collected
):
    cluster = DaxCluster.objects.get(name="catalog-cache")

    page = admin_client.get(f"/cache/clusters/{cluster.pk}/?range=1h").content.decode()

    assert 'id="chart-cpu-credits"' in page and "credits (vCPU-minutes)" in page
    assert 'id="kpi-credits"' in page and "CPU credits near zero" in page
    assert "dax.t3.medium is a burstable node type" in page
    assert "held to its baseline CPU" in page
    assert "CPU credits, lowest" in page and "Internal errors" in page


def test_a_custom_range_shows_its_window_and_every_link_keeps_it(admin_client, collected):
    cluster = DaxCluster.objects.get(name="catalog-cache")
    query = "from=2026-03-02T11%3A00&to=2026-03-02T12%3A00"

    response = admin_client.get(f"/cache/clusters/{cluster.pk}/?{query}")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="active" aria-current="true">Show</button>' in page
    assert 'aria-current="true" class="active">' not in page  # no preset is selected
    assert 'value="2026-03-02T11:00"' in page and 'value="2026-03-02T12:00"' in page
    assert "Mar 2, 11:00 – Mar 2, 12:00 UTC" in page
    for table in ("Products", "Reviews"):
        pk = CachedTable.objects.get(name=table).pk
        assert f'href="/cache/tables/{pk}/?{query.replace("&", "&amp;")}"' in page
    # T0 is older than the 15 days of kept minutes: the range is drawn from hourly data
    assert 'id="range-hourly"' in page
    table_page = admin_client.get(f"/cache/tables/{pk}/?{query}").content.decode()
    assert f'href="/cache/clusters/{cluster.pk}/?{query.replace("&", "&amp;")}"' in table_page
    assert 'action="?' + query.replace("&", "&amp;") + '"' in table_page
    # The same hour as the 1h preset (which ends at the last collected minute, T0)
    custom = admin_client.get(f"/api/cache/clusters/{cluster.pk}/?{query}").json()
    preset = admin_client.get(f"/api/cache/clusters/{cluster.pk}/?range=1h").json()
    assert custom["range"] == "custom" and custom["bucket_seconds"] == 3600
    assert custom["window"] == {"start": "2026-03-02T11:00:00+00:00", "end": T0.isoformat()}
    assert custom["counts"] == preset["counts"] and custom["counts"]["item_hits"] > 0
    assert len(custom["timeseries"]["buckets"]) == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-03-02T12%3A00&to=2026-03-02T11%3A00", "The range must start before it ends."),
        ("from=2026-03-02T11%3A00&to=2999-01-01T00%3A00", "This is in the future"),
        ("from=2020-01-01T00%3A00&to=2026-03-02T11%3A00", "Hourly data is kept 456 days"),
        ("from=2026-03-02T11%3A00", "Give both ends of the range"),
        ("from=noon&to=2026-03-02T11%3A00", "Enter a valid date/time."),
    ],
)
def test_a_bad_custom_range_answers_400_with_its_error_and_shows_the_default_range(
    admin_client, collected, query, message
):
    cluster = DaxCluster.objects.get(name="orders-cache")
    table = CachedTable.objects.get(name="Orders")

    for path in (f"/cache/clusters/{cluster.pk}/", f"/cache/tables/{table.pk}/"):
        response = admin_client.get(f"{path}?{query}")
        page = response.content.decode()
        assert response.status_code == 400, path
        assert 'id="range-errors"' in page and message in page, path
        assert "Showing the last 24 hours instead." in page
        assert 'aria-current="true" class="active">24h' in page
    api = admin_client.get(f"/api/cache/clusters/{cluster.pk}/?{query}")
    assert api.status_code == 400
    assert api.json()["error"] == "Invalid time range."
    assert any(message in e for errors in api.json()["errors"].values() for e in errors)


def test_saving_the_mapping_keeps_the_custom_range(admin_user, collected):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    table = CachedTable.objects.get(name="Orders")
    query = "from=2026-03-02T11%3A00&to=2026-03-02T12%3A00"
    client.get(f"/cache/tables/{table.pk}/?{query}")
    form = {
        "clusters": [c.pk for c in table.clusters.all()],
        "avg_item_kb": "1.5",
        "billing_mode": "PAY_PER_REQUEST",
        "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
    }

    response = client.post(f"/cache/tables/{table.pk}/?{query}", form)

    assert response.status_code == 302
    assert response["Location"] == f"/cache/tables/{table.pk}/?{query}"
