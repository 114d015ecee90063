"""Tuning pages in Chromium on runs written straight into the database (no worker needed)."""

import pytest
from playwright.sync_api import expect

from tests.tuning.runfactory import make_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def empty_cache():
    """The live server runs in this process: no chart or traffic cached by earlier tests."""
    from django.core.cache import cache

    cache.clear()


def test_a_finished_run_shows_its_charts_and_the_slider_repicks_the_balanced_winner(
    logged_in_page, live_server, screenshot
):
    page = logged_in_page
    run = make_run(sizes=(128, 256, 512, 1024, 1769, 3008), num=20, strategy="balanced")
    page.goto(f"{live_server.url}/runs/{run.id}/")
    expect(page.locator(".js-plotly-plot:has(svg.main-svg)")).to_have_count(4)
    assert page.locator("#results-table tbody tr[data-memory]").count() == 6
    table_wrap = page.locator("#results-table").locator("xpath=..")
    assert table_wrap.evaluate("el => el.scrollWidth <= el.clientWidth"), "table scrolls sideways"
    winner = page.locator("#rec-balanced [data-role=size]")
    slider = page.locator("#balanced-weight")
    slider.fill("0")
    assert winner.inner_text() == "3,008 MB"  # speed only
    slider.fill("1")
    assert winner.inner_text() == "1,024 MB"  # cost only
    slider.fill("0.5")
    page.locator("#monthly svg.main-svg").first.wait_for()
    screenshot(page, "run-detail-seeded")


def test_the_run_history_and_an_empty_history_look_right(logged_in_page, live_server, screenshot):
    page = logged_in_page
    page.goto(f"{live_server.url}/runs/")
    assert page.get_by_text("No tuning runs yet").is_visible()
    screenshot(page, "runs-empty")
    for index, function in enumerate(("tuneboard-cpu", "tuneboard-io", "tuneboard-memory")):
        make_run(function=function, sizes=(128, 512, 1024, 1769)[: index + 2])
    make_run(function="tuneboard-flaky", status="FAILED", failed_sizes=(128, 512))
    make_run(function="tuneboard-powertools", status="RUNNING")
    page.goto(f"{live_server.url}/runs/")
    assert page.locator("table.tb-runs tbody tr").count() == 5
    screenshot(page, "runs-history")


def test_form_validation_errors_show_next_to_their_fields(logged_in_page, live_server, screenshot):
    page = logged_in_page
    page.goto(f"{live_server.url}/runs/new/")
    page.fill("#id_function", "tuneboard-cpu")
    page.fill("#id_memory_sizes", "64, 512, 20000")
    page.fill("#id_invocations_per_size", "0")
    page.fill("#id_payload", '{\n  "n": 25\n  "x": 1\n}')
    page.click("button.tb-submit")
    page.wait_for_selector("#memory_sizes-errors")
    assert "64 MB is below Lambda's minimum of 128 MB" in page.inner_text("#memory_sizes-errors")
    assert "20000 MB is above Lambda's maximum of 10240 MB" in page.inner_text(
        "#memory_sizes-errors"
    )
    assert "greater than or equal to 1" in page.inner_text("#invocations_per_size-errors")
    assert "line 3, column 3" in page.inner_text("#payload-errors")
    screenshot(page, "new-sweep-errors")


def test_the_policy_is_enforced_and_confirmations_work_without_inline_handlers(
    logged_in_page, live_server, csp_violations
):
    page = logged_in_page
    run = make_run(sizes=(512, 1024), status="RUNNING")
    page.goto(f"{live_server.url}/runs/{run.id}/")

    # An injected inline script does not run: the page really is under the policy.
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = true'; document.body.appendChild(s); }"
    )
    assert page.evaluate("() => window.injected === undefined")
    # ...and the console check of every browser test sees such a block (then forgets this one).
    for _ in range(200):
        if csp_violations:
            break
        page.wait_for_timeout(50)
    assert len(csp_violations) == 1 and "script-src" in csp_violations[0]
    csp_violations.clear()

    # The cancel button still asks first (static/js/confirm.js); dismissing keeps the run going.
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.locator("#cancel-form button").click()
    assert questions == [
        "Cancel this sweep? Invocations stop and everything it created is cleaned up."
    ]
    run.refresh_from_db()
    assert run.status == "RUNNING"
