"""The whole tuning journey in Chromium: live server, a real Celery worker and the sandbox."""

import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tuning.analysis import Candidate, pick_balanced
from tuning.models import PowerResult

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

README_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "run-detail.png"
SWEEP_TIMEOUT_MS = 240_000
DRAWN_CHARTS = ".js-plotly-plot:has(svg.main-svg)"


@pytest.fixture(autouse=True)
def empty_cache():
    from django.core.cache import cache

    cache.clear()


def balanced_pick(run_id, weight):
    """The balanced winner recomputed from the run's stored per-size results."""
    results = PowerResult.objects.filter(run_id=run_id, avg_duration_ms__isnull=False)
    candidates = [
        Candidate(r.memory_mb, r.avg_cost_usd, r.avg_duration_ms, failed=r.status == "FAILED")
        for r in results
    ]
    return pick_balanced(candidates, weight).memory_mb


def test_a_user_sweeps_a_function_watches_it_finish_and_shares_the_result(
    in_sandbox, start_celery_worker, logged_in_page, live_server, browser, screenshot
):
    start_celery_worker(concurrency=4)  # after the sandbox: the worker inherits its endpoints
    page = logged_in_page

    # Fill the form for tuneboard-cpu with three sizes and a few invocations.
    page.goto(f"{live_server.url}/runs/new/")
    page.wait_for_selector("#function-options option[value='tuneboard-cpu']", state="attached")
    page.fill("#id_function", "tuneboard-cpu")
    page.fill("#id_memory_sizes", "512, 1024, 1769")
    page.fill("#id_invocations_per_size", "5")
    page.select_option("#id_strategy", "balanced")
    page.wait_for_selector("#estimate-figures:not([hidden])")
    assert "$" in page.inner_text("#estimate-cost")
    assert page.get_by_text("is modified").is_visible()
    screenshot(page, "new-sweep")
    page.click("button.tb-submit")
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}/$"))
    run_url = page.url

    # Progress reaches 100 % without a reload; results and all four charts appear.
    page.evaluate("window.__sameDocument = true")
    page.wait_for_selector("#progress-bar")
    screenshot(page, "run-in-progress")
    # Locator waits, not wait_for_function: the page's CSP forbids the eval that needs.
    expect(page.locator("#progress-percent")).to_have_text("100%", timeout=SWEEP_TIMEOUT_MS)
    page.locator("#run-status .badge[data-status='SUCCEEDED']").wait_for(timeout=SWEEP_TIMEOUT_MS)
    # The fragment fetched after the run finished (the one with the recommendations).
    page.wait_for_selector("#results .tb-recs[data-final='true']")
    page.wait_for_selector("#results-table")
    expect(page.locator(DRAWN_CHARTS)).to_have_count(4)
    assert page.evaluate("window.__sameDocument") is True  # never reloaded
    assert page.locator("#results-table tbody tr[data-memory]").count() == 3
    for chart in ("chart-duration-cost", "chart-pareto", "chart-distribution", "chart-monthly"):
        assert page.locator(f"#{chart} svg.main-svg").count() >= 1

    # The balanced winner follows the slider (it changes where speed and cost disagree).
    run_id = run_url.rstrip("/").rsplit("/", 1)[-1]
    winner = page.locator("#rec-balanced [data-role=size]")
    seen = set()
    for weight in ("0", "0.5", "1"):
        page.locator("#balanced-weight").fill(weight)
        expected = balanced_pick(run_id, float(weight))
        assert winner.inner_text() == f"{expected:,} MB"
        seen.add(expected)
    fastest = balanced_pick(run_id, 0.0)
    cheapest = balanced_pick(run_id, 1.0)
    assert len(seen) >= (2 if fastest != cheapest else 1)
    page.locator("#balanced-weight").fill("0.5")
    page.locator("#monthly svg.main-svg").first.wait_for()
    taken = screenshot(page, "run-detail")
    if os.environ.get("TUNEBOARD_README_SCREENSHOTS") == "1":  # else a test run edits docs/
        shutil.copyfile(taken, README_SCREENSHOT)

    # The run is in the history.
    page.goto(f"{live_server.url}/runs/")
    assert page.locator("table.tb-runs .badge.succeeded").count() == 1
    screenshot(page, "runs")

    # Share it, open it logged out, revoke it: 404.
    page.goto(run_url)
    page.click("#create-share-link")
    # The address is shown once, in the message; the list only has its first characters.
    created = page.locator(".messages .message.success").inner_text()
    share_url = re.search(r"https?://\S+/share/[A-Za-z0-9_-]{43}/", created).group(0)
    assert share_url.split("/share/")[1][:6] in page.inner_text("#share-links")
    stranger = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        shared = stranger.new_page()
        response = shared.goto(share_url)
        assert response.status == 200
        expect(shared.locator(DRAWN_CHARTS)).to_have_count(4)
        assert shared.locator("#results-table").is_visible()
        assert shared.locator("nav.mainnav").count() == 0  # not logged in
        assert shared.get_by_text("Re-run").count() == 0
        assert (
            shared.locator("meta[property='og:title']")
            .get_attribute("content")
            .startswith("tuneboard-cpu: ")
        )
        screenshot(shared, "shared-run")

        page.on("dialog", lambda dialog: dialog.accept())
        page.click("#share-links .tb-revoke")
        page.wait_for_selector("#share-links .badge.failed")  # "revoked"
        assert shared.goto(share_url).status == 404
    finally:
        stranger.close()
