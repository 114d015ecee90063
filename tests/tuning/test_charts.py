"""Plotly figures: fragments without plotly.js, numeric memory axis, frontier, cold starts."""

import json
import re
from decimal import Decimal

import pytest

from tests.tuning.runfactory import make_run
from tuning import charts
from tuning.charts import invocation_points

pytestmark = pytest.mark.django_db


def figure_of(html: str) -> dict:
    """The figure a fragment carries in its JSON data block (drawn by static/js/charts.js)."""
    block = re.search(r'<script id="[^"]+-figure" type="application/json">(.*?)<', html, re.S)
    return json.loads(block.group(1))


@pytest.fixture
def results():
    run = make_run(sizes=(128, 512, 1024, 1769), failed_sizes=(128,))
    return run, list(run.results.all())


def test_fragments_never_embed_plotly_js_or_a_cdn(results):
    run, rs = results
    for html in (
        charts.duration_and_cost(rs),
        charts.cost_vs_duration(rs, 1024),
        charts.duration_distribution(rs, invocation_points(run)),
    ):
        assert "cdn.plot.ly" not in html
        assert len(html) < 60_000  # a fragment, not the 4.8 MB library
        # No inline script (the CSP forbids them): the figure travels as a JSON data block.
        assert re.findall(r"<script[^>]*>", html) == [
            f'<script id="{figure_id}" type="application/json">'
            for figure_id in re.findall(r'id="([^"]+-figure)"', html)
        ]
        assert figure_of(html)["data"]


def test_duration_and_cost_share_a_numeric_memory_axis_with_error_bars(results):
    _run, rs = results
    r512 = next(r for r in rs if r.memory_mb == 512)
    figure = figure_of(charts.duration_and_cost(rs))
    duration, cost = figure["data"]
    assert duration["x"] == [512, 1024, 1769]  # the failed size has no figures
    assert figure["layout"]["xaxis"]["type"] == "log"
    assert cost["yaxis"] == "y2" and figure["layout"]["yaxis2"]["overlaying"] == "y"
    assert duration["error_y"]["visible"] is True
    assert duration["error_y"]["array"][0] == pytest.approx(
        r512.ci95_high_ms - r512.avg_duration_ms
    )
    assert 0 < duration["error_y"]["array"][0] < 0.05 * 400  # ±4 % spread, 10 invocations


def test_the_pareto_chart_labels_every_size_and_draws_the_frontier(results):
    _run, rs = results
    figure = figure_of(charts.cost_vs_duration(rs, 1024))
    frontier, points = figure["data"]
    assert points["text"] == ["512 MB", "1024 MB", "1769 MB"]
    # 512 MB is slower and dearer than 1024 MB: dominated, so not on the frontier
    frontier_costs = frontier["y"]
    assert len(frontier_costs) == 2


def test_the_distribution_marks_cold_starts(results):
    run, rs = results
    figure = figure_of(charts.duration_distribution(rs, invocation_points(run)))
    names = [trace.get("name") for trace in figure["data"]]
    assert "Cold start" in names and "Error" in names
    cold = figure["data"][names.index("Cold start")]
    assert len(cold["x"]) == 3  # one cold start per successful size
    assert figure["layout"]["xaxis"]["ticktext"] == ["128 MB", "512 MB", "1024 MB", "1769 MB"]


def test_the_monthly_chart_marks_the_current_and_the_recommended_size():
    rows = [(512, Decimal("69.93")), (1024, Decimal("27.17")), (1769, Decimal("28.01"))]
    html = charts.monthly_cost(
        rows, invocations=10_000_000, assumed=False, current_mb=512, recommended_mb=1024
    )
    figure = figure_of(html)
    assert figure["data"][0]["x"] == ["512 MB (current)", "1024 MB (recommended)", "1769 MB"]
    assert figure["data"][0]["y"] == [69.93, 27.17, 28.01]
    assert "10,000,000 invocations/month" in figure["layout"]["title"]["text"]


def test_no_figures_means_no_chart():
    assert charts.duration_and_cost([]) is None
    assert charts.duration_distribution([], []) is None
    assert charts.monthly_cost([], invocations=1, assumed=True) is None


def test_a_finished_runs_figures_are_built_once_whoever_comes_first():
    """The worker builds a finished run's figures just after the run is final; a viewer who
    comes sooner builds them on its page. Either way one set per audience is kept, and the
    page shows what is kept."""
    run = make_run(sizes=(128, 512))
    results, winner = list(run.results.all()), run.winner().memory_mb
    viewed = charts.run_figures(run, results, winner)  # the first viewer was first
    charts.store_figures(run)  # the worker comes after: builds only the share page's
    charts.store_figures(run)  # and a retried finish changes nothing
    assert run.figures.count() == 2
    assert charts.run_figures(run, results, winner) == viewed


def test_a_finished_runs_stored_figures_are_read_once_per_process(django_assert_num_queries):
    """Kept in the process after the first view; other results or another audience are
    another set, not the kept one."""
    run = make_run(sizes=(128, 512))
    charts.store_figures(run)
    results, winner = list(run.results.all()), run.winner().memory_mb
    first = charts.run_figures(run, results, winner)
    with django_assert_num_queries(0):
        assert charts.run_figures(run, results, winner) == first
    with django_assert_num_queries(1):
        shared = charts.run_figures(run, results, winner, private=False)
    assert shared == run.figures.get(key=charts._state(results, winner, False)).html
    results[0].avg_duration_ms *= 2
    assert charts.run_figures(run, results, winner) != first
