"""The cache charts: figures Plotly's own checks accept (they are built without them), in the
shared theme, with their units on the axes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import plotly.graph_objects as go
import plotly.io as pio
import pytest

from cachemetrics import catalog, charts
from cachemetrics.ranges import get_range
from cachemetrics.reports import NodeReport
from cachemetrics.timeseries import ClusterTimeseries
from dashboard import plotly_theme

BUCKETS = [datetime(2026, 11, 28, tzinfo=UTC) + timedelta(minutes=15 * i) for i in range(96)]
NODES = ("n-a", "n-b")
SERIES = ClusterTimeseries(
    get_range("24h"),
    BUCKETS[0],
    BUCKETS[-1] + timedelta(minutes=15),
    BUCKETS,
    {metric: [float(i % 7) for i in range(96)] for metric, _ in catalog.CLUSTER_METRICS},
    {node: {catalog.CPU: [30.0] * 96, catalog.CPU_CREDITS: [12.0] * 96} for node in NODES},
)
NODE_TOTALS = {node: {catalog.TOTAL_REQUESTS: 10.0, catalog.ITEM_HITS: 3.0} for node in NODES}
NODE_REPORTS = [
    NodeReport(node, "a", "available", "", {catalog.SCAN_REQUESTS: 2.0}) for node in NODES
]

CHARTS = {
    "hit_ratio": (charts.hit_ratio, (SERIES,), "hit ratio (%)"),
    "hits_vs_misses": (charts.hits_vs_misses, (SERIES,), "requests"),
    "request_mix": (charts.request_mix, (SERIES,), "requests"),
    "failures": (charts.failures, (SERIES,), "requests"),
    "utilization": (charts.utilization, (SERIES,), "utilization (%)"),
    "network": (charts.network, (SERIES,), "MiB/s (2²⁰ bytes per second)"),
    "evicted": (charts.evicted, (SERIES,), "evicted (MiB)"),
    "cpu_credits": (charts.cpu_credits, (SERIES,), "credits (vCPU-minutes)"),
    "per_node": (charts.per_node, (NODE_TOTALS,), "requests"),
    "per_node_queries": (charts.per_node_queries, (NODE_REPORTS,), "requests"),
    "table_reads": (
        charts.table_reads,
        (BUCKETS, [1.0] * 96, [2.0] * 96, True, "15 minutes"),
        "read requests",
    ),
    "table_hit_ratio": (charts.table_hit_ratio, (BUCKETS, [0.5] * 96, False), "hit ratio (%)"),
}


def figure(html: str) -> dict:
    return json.loads(re.search(r'type="application/json">(.*)</script>', html, re.S)[1])


@pytest.mark.parametrize("name", CHARTS)
def test_every_chart_is_a_valid_plotly_figure_in_the_theme_with_its_units(name):
    build, args, y_title = CHARTS[name]

    fig = figure(build(*args))

    go.Figure(data=fig["data"], layout=fig["layout"])  # Plotly's checks: raises when invalid
    layout = fig["layout"]
    assert "template" not in layout  # the page sends it once
    assert layout["height"] == charts.CHART_HEIGHT and layout["title"]["text"]
    assert layout["yaxis"]["title"]["text"] == y_title
    assert layout["xaxis"]["title"]["text"] in ("node", "time (UTC)")


def test_the_theme_template_is_plotlys_white_one_as_a_data_block():
    block = plotly_theme.template_script()
    template = json.loads(re.search(r'type="application/json">(.*)</script>', block, re.S)[1])

    assert 'id="plotly-template"' in block
    assert template == pio.templates["plotly_white"].to_plotly_json()
    assert template["layout"]["paper_bgcolor"] == "white"


def test_two_charts_do_not_share_their_layout():
    first = figure(charts.hit_ratio(SERIES))
    second = figure(charts.evicted(SERIES))

    assert first["layout"]["title"]["text"] == "Hit ratio by cache type"
    assert second["layout"]["title"]["text"] == "Evicted size (per 15 minutes)"
    assert "range" not in second["layout"]["yaxis"]
