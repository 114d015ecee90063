"""The Architecture comparison in Chromium, on a finished comparison written straight into the
database (no worker needed): both run pages show both architectures and, per strategy, the
pick across both with its change against the function's own architecture; the copy's run has
no Apply and says why."""

import pytest
from playwright.sync_api import expect

from dashboard.templatetags.units import format_mb, format_ms, format_pct, format_usd
from tests.tuning.runfactory import CPU_DURATIONS, make_comparison
from tuning.models import Strategy
from tuning.runs import COPY_NOT_APPLIED

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: The arm64 copy: slower at small sizes, faster at 1024 MB than the function (x86_64).
ARM_DURATIONS = {128: 1800.0, 512: 420.0, 1024: 120.0}


@pytest.fixture(autouse=True)
def empty_cache():
    """The live server runs in this process: no chart cached by earlier tests."""
    from django.core.cache import cache

    cache.clear()


def test_both_run_pages_show_the_comparison_and_the_copy_says_why_it_has_no_apply(
    logged_in_page, live_server, screenshot
):
    page = logged_in_page
    run, copy = make_comparison(
        sizes=(128, 512, 1024), durations=CPU_DURATIONS, copy_durations=ARM_DURATIONS
    )
    comparison = run.architecture_comparison()
    assert comparison["ready"]

    page.goto(f"{live_server.url}/runs/{run.id}/")
    section = page.locator("#architecture-comparison")
    expect(section.get_by_role("heading", name="Architecture comparison")).to_be_visible()
    expect(section.locator("[data-role=architecture]")).to_have_text(["x86_64", "arm64"])
    picks = section.locator("#architecture-picks tbody tr")
    expect(picks).to_have_count(len(Strategy.choices))
    for value, label in Strategy.choices:
        pick = comparison["recommendation"][value]
        own = pick["original"]
        row = section.locator(f"#architecture-picks tr[data-strategy='{label}']")
        expect(row.locator("th")).to_have_text(label)
        expect(row.locator("td").nth(0)).to_have_text(
            f"{pick['architecture']}, {format_mb(pick['memory_mb'])}"
        )
        expect(row.locator("td").nth(1)).to_have_text(format_usd(pick["avg_cost_usd"]))
        expect(row.locator("td").nth(2)).to_have_text(format_ms(pick["avg_duration_ms"]))
        # The change against the best size of the function's own architecture (x86_64).
        expect(row.locator("td").nth(3)).to_have_text(
            f"{own['architecture']} at {format_mb(own['memory_mb'])}: "
            f"{format_usd(own['avg_cost_usd'])}, {format_ms(own['avg_duration_ms'])}; "
            f"cost {format_pct(pick['cost_change'])}, "
            f"duration {format_pct(pick['duration_change'])}"
        )
    # arm64 at 1024 MB: the fastest and the cheapest, 20 % faster than x86_64 at 1024 MB.
    speed = section.locator("#architecture-picks tr[data-strategy='Fastest'] td")
    expect(speed.nth(0)).to_have_text("arm64, 1,024 MB")
    expect(speed.nth(3)).to_contain_text("x86_64 at 1,024 MB")
    expect(speed.nth(3)).to_contain_text("duration -20.0 %")
    expect(page.locator("#apply-link")).to_be_visible()  # the run on the function applies
    screenshot(page, "architecture-comparison")

    # The copy's run, reached from the comparison table.
    runs_table = section.locator("table").first
    expect(runs_table.locator("tbody tr").nth(1)).to_contain_text("(copy)")
    runs_table.get_by_role("link", name=str(copy.id)[:8]).click()
    page.wait_for_url(f"{live_server.url}/runs/{copy.id}/")
    section = page.locator("#architecture-comparison")
    expect(section.locator("[data-role=architecture]")).to_have_text(["x86_64", "arm64"])
    expect(section.locator("#architecture-picks tbody tr")).to_have_count(len(Strategy.choices))
    expect(section.locator("#copy-note")).to_contain_text(
        f"This run measured {copy.copy_function}, a temporary copy of orders with the other "
        "architecture"
    )
    expect(page.locator("#apply-link")).to_have_count(0)
    not_applied = page.locator("#copy-not-applied")
    expect(not_applied).to_have_text("Not applicable: a temporary copy (deleted)")
    expect(not_applied).to_have_attribute("title", COPY_NOT_APPLIED)
    expect(section).to_contain_text("switching architecture needs a code deploy")
    screenshot(page, "architecture-comparison-copy")
