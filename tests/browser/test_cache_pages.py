"""The cache pages in Chromium: Plotly charts render (svg.main-svg), the mapping editor works."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cachemetrics import collector
from cachemetrics.models import CachedTable, DaxCluster
from tests.cachemetrics.conftest import T0, aws  # noqa: F401 - the moto fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOURS = 2
CLUSTER_CHARTS = (
    "chart-hit-ratio",
    "chart-hits-misses",
    "chart-request-mix",
    "chart-utilization",
    "chart-evicted",
    "chart-per-node",
    "chart-failures",
    "chart-network",
    "chart-per-node-queries",
)


@pytest.fixture(scope="module")
def seeded(aws):  # noqa: F811
    return aws.seed(hours=HOURS)


@pytest.fixture
def collected(seeded):
    [collection] = collector.collect_all(now=T0, since=timedelta(hours=HOURS))
    assert collection.status == "succeeded", collection.errors
    return seeded


def rendered(page, div_id: str) -> int:
    page.wait_for_selector(f"#{div_id} svg.main-svg", state="attached")
    return page.locator(f"#{div_id} svg.main-svg").count()


def test_the_overview_and_the_cluster_page_render_their_charts_in_chromium(
    logged_in_page, live_server, collected, screenshot
):
    page = logged_in_page
    page.goto(f"{live_server.url}/cache/")
    rows = page.locator("#clusters tbody tr")
    assert rows.count() == 3
    assert page.locator("svg.cm-spark").count() == 3
    assert page.locator("#clusters").get_by_text("dax.r5.large × 3").is_visible()
    screenshot(page, "cache-overview")

    page.get_by_role("link", name="orders-cache").first.click()
    page.wait_for_url(f"{live_server.url}/cache/clusters/*/")
    page.get_by_role("link", name="6h").click()
    page.wait_for_url("**/?range=6h")
    for div_id in CLUSTER_CHARTS:
        assert rendered(page, div_id) >= 1, div_id
    assert page.locator("#inventory").get_by_text("orders-cache-c").first.is_visible()
    # times are shown in the viewer's timezone (the browser context is Europe/Paris)
    assert page.locator("#chart-hit-ratio").get_by_text("Europe/Paris").count() >= 1
    # drawn in the theme's template, which the page sends once: plotly_white's grid lines
    grid = page.locator("#chart-hit-ratio .ygrid").first
    assert grid.evaluate("el => getComputedStyle(el).stroke") == "rgb(235, 240, 248)"
    screenshot(page, "cache-cluster")


def test_a_custom_range_typed_in_the_viewers_timezone_shows_that_window(
    logged_in_page, live_server, collected, screenshot
):
    page = logged_in_page
    cluster = DaxCluster.objects.get(name="catalog-cache")
    page.goto(f"{live_server.url}/cache/clusters/{cluster.pk}/?range=1h")
    # The browser is in Europe/Paris (UTC+1 in March): T0 - 1 h .. T0 is 12:00 - 13:00 there.
    assert page.locator("input[name=to]").input_value() == "2026-03-02T13:00"

    page.fill("input[name=from]", "2026-03-02T11:30")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/?from=2026-03-02T11%3A30&to=2026-03-02T13%3A00")

    # T0 is older than the 15 days of kept minutes: drawn from whole hours
    assert page.locator("#range-hourly").is_visible()
    assert page.get_by_text("Mar 2, 11:00 – Mar 2, 13:00", exact=False).first.is_visible()
    for div_id in ("chart-cpu-credits", "chart-failures", "chart-network"):
        assert rendered(page, div_id) >= 1, div_id
    assert page.locator("#kpi-credits").is_visible()
    screenshot(page, "cache-cluster-custom-range")

    page.fill("input[name=from]", "2026-03-02T14:00")  # after "to"
    page.get_by_role("button", name="Show").click()
    page.wait_for_selector("#range-errors")
    assert "The range must start before it ends." in page.locator("#range-errors").inner_text()


def test_the_table_page_renders_its_charts_and_saves_the_mapping(
    logged_in_page, live_server, collected, screenshot
):
    page = logged_in_page
    reviews = CachedTable.objects.get(name="Reviews")
    page.goto(f"{live_server.url}/cache/tables/{reviews.pk}/?range=6h")

    assert page.locator("#figures-label").inner_text() == "estimated"
    assert "share of the read requests" in page.locator("#estimate-method").inner_text()
    for div_id in ("chart-table-reads", "chart-table-ratio"):
        assert rendered(page, div_id) >= 1, div_id
    screenshot(page, "cache-table")

    catalog_cache = DaxCluster.objects.get(name="catalog-cache")
    page.get_by_label(f"{catalog_cache.name} (", exact=False).uncheck()
    page.fill("#id_avg_item_kb", "2")
    page.get_by_role("button", name="Save mapping").click()
    page.wait_for_selector(".message.success")

    reviews.refresh_from_db()
    assert not reviews.clusters.exists()
    assert reviews.avg_item_kb == 2 and reviews.mapping_source == "manual"
    assert "not behind any DAX cluster" in page.content()
