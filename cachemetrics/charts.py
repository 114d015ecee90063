"""Every figure of the cache pages, built in Python.

Plotly figures come back as HTML fragments (``include_plotlyjs=False``; the page loads our own
``vendor/plotly.min.js`` once). They are plain data, not Plotly's graph objects, which checked
and copied every value and took most of a cluster page's time; they carry no template: the
page sends the theme's once (``plotly_theme.template_script``). Tests check every chart against
Plotly's own checks. Times are shown in the viewer's timezone (the active Django timezone, set
by the middleware from the browser). The overview's sparklines are small inline SVGs: a Plotly
chart per table row would be heavy.
"""

from __future__ import annotations

import functools
from datetime import datetime

from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from cachemetrics import catalog
from cachemetrics.timeseries import ClusterTimeseries
from dashboard.plotly_theme import (
    BRAND,
    DURATION,
    GOOD,
    HIT,
    MISS,
    MUTED,
    SERIES,
    plain_figure_html,
    theme_layout,
)

CHART_HEIGHT = 360  # up to six charts on a cluster's page
COLOURS = {
    "item": HIT,
    "query": SERIES[1],
    "scan": SERIES[3],
    "combined": GOOD,
    "miss": MISS,
    "cpu": DURATION,
    "memory": SERIES[1],
    "evicted": SERIES[3],
    "table": MUTED,
}


def _local(buckets: list[datetime]) -> list[str]:
    """Times in the viewer's timezone without UTC offset (Plotly.js ignores them), ISO 8601;
    made once for the charts of a page, which share their buckets."""
    return _local_iso(tuple(buckets), timezone.get_current_timezone_name())


@functools.lru_cache(maxsize=16)
def _local_iso(buckets: tuple[datetime, ...], tz_name: str) -> list[str]:
    return [timezone.localtime(b).replace(tzinfo=None).isoformat() for b in buckets]


def _tz_label() -> str:
    return timezone.get_current_timezone_name()


def _merged(base: dict, extra: dict) -> dict:
    """``base`` with ``extra`` merged in, nested dicts key by key (as ``update_layout``)."""
    out = dict(base)
    for key, value in extra.items():
        nested = isinstance(value, dict) and isinstance(base.get(key), dict)
        out[key] = _merged(base[key], value) if nested else value
    return out


def _chart(traces: list[dict], div_id: str, title: str, **layout) -> str:
    """``traces`` in the shared theme, ``layout`` merged into it; most cache charts are time
    series: one hover box per instant."""
    layout = _merged(theme_layout(title, CHART_HEIGHT), {"hovermode": "x unified", **layout})
    return plain_figure_html({"data": traces, "layout": layout}, div_id)


def _scatter(**props) -> dict:
    return {"type": "scatter", **props}


def _bar(**props) -> dict:
    return {"type": "bar", **props}


def _axis(title: str, **props) -> dict:
    return {"title": {"text": title}, **props}


def _time_axis() -> dict:
    return _axis(f"time ({_tz_label()})", showgrid=False)


def _pct(values: list[float | None]) -> list[float | None]:
    return [None if v is None else round(v * 100, 3) for v in values]


def _has(values: list[float | None]) -> bool:
    return any(v for v in values)


# --------------------------------------------------------------------------- cluster page


def hit_ratio(ts: ClusterTimeseries, div_id: str = "chart-hit-ratio") -> str:
    traces = []
    x = _local(ts.buckets)
    for cache in ("item", "query", "scan"):
        hits, misses = catalog.CACHE_TYPES[cache]
        if not (_has(ts.cluster.get(hits, [])) or _has(ts.cluster.get(misses, []))):
            continue
        traces.append(
            _scatter(
                x=x,
                y=_pct(ts.ratio(cache)),
                name=f"{cache} cache",
                mode="lines",
                line={"color": COLOURS[cache], "width": 2},
                connectgaps=False,
                hovertemplate="%{y:.1f} %",
            )
        )
    traces.append(
        _scatter(
            x=x,
            y=_pct(ts.combined_ratio()),
            name="combined",
            mode="lines",
            line={"color": COLOURS["combined"], "width": 2, "dash": "dot"},
            hovertemplate="%{y:.1f} %",
        )
    )
    return _chart(
        traces,
        div_id,
        "Hit ratio by cache type",
        yaxis=_axis("hit ratio (%)", range=[0, 101], ticksuffix=" %"),
        xaxis=_time_axis(),
    )


def hits_vs_misses(ts: ClusterTimeseries, div_id: str = "chart-hits-misses") -> str:
    traces = []
    x = _local(ts.buckets)
    shades = {
        catalog.ITEM_HITS: ("item hits", HIT),
        catalog.QUERY_HITS: ("query hits", "#5b8fc7"),
        catalog.SCAN_HITS: ("scan hits", "#a9c6e8"),
        catalog.ITEM_MISSES: ("item misses", MISS),
        catalog.QUERY_MISSES: ("query misses", "#ef8a62"),
        catalog.SCAN_MISSES: ("scan misses", "#f6c3a8"),
    }
    for metric, (name, colour) in shades.items():
        values = ts.cluster.get(metric, [])
        if not _has(values) and metric not in (catalog.ITEM_HITS, catalog.ITEM_MISSES):
            continue
        traces.append(
            _bar(x=x, y=values, name=name, marker={"color": colour}, hovertemplate="%{y:,.0f}")
        )
    return _chart(
        traces,
        div_id,
        f"Hits vs misses (per {bucket_label(ts.range.bucket_s)})",
        barmode="stack",
        bargap=0.05,
        yaxis=_axis("requests", tickformat="~s"),
        xaxis=_time_axis(),
    )


def request_mix(ts: ClusterTimeseries, div_id: str = "chart-request-mix") -> str:
    traces = []
    x = _local(ts.buckets)
    for i, (operation, metric) in enumerate(catalog.OPERATIONS.items()):
        values = ts.cluster.get(metric, [])
        if not _has(values):
            continue
        traces.append(
            _scatter(
                x=x,
                y=values,
                name=operation,
                mode="lines",
                stackgroup="ops",
                line={"width": 0.5, "color": SERIES[i % len(SERIES)]},
                hovertemplate="%{y:,.0f}",
            )
        )
    return _chart(
        traces,
        div_id,
        f"Request mix by operation (per {bucket_label(ts.range.bucket_s)})",
        yaxis=_axis("requests", tickformat="~s"),
        xaxis=_time_axis(),
    )


def utilization(ts: ClusterTimeseries, div_id: str = "chart-utilization") -> str:
    traces = []
    x = _local(ts.buckets)
    traces.append(
        _scatter(
            x=x,
            y=ts.cluster.get(catalog.CPU, []),
            name="CPU (cluster average)",
            mode="lines",
            line={"color": COLOURS["cpu"], "width": 2},
            hovertemplate="%{y:.1f} %",
        )
    )
    traces.append(
        _scatter(
            x=x,
            y=ts.cluster.get(catalog.MEMORY, []),
            name="cache memory",
            mode="lines",
            line={"color": COLOURS["memory"], "width": 2},
            hovertemplate="%{y:.1f} %",
        )
    )
    for i, (node, metrics) in enumerate(ts.nodes.items()):
        traces.append(
            _scatter(
                x=x,
                y=metrics.get(catalog.CPU, []),
                name=f"CPU {node}",
                mode="lines",
                line={"color": SERIES[(i + 3) % len(SERIES)], "width": 1, "dash": "dot"},
                hovertemplate="%{y:.1f} %",
                visible="legendonly",
            )
        )
    return _chart(
        traces,
        div_id,
        "CPU and cache memory utilization",
        yaxis=_axis("utilization (%)", range=[0, 101], ticksuffix=" %"),
        xaxis=_time_axis(),
    )


def evicted(ts: ClusterTimeseries, div_id: str = "chart-evicted") -> str:
    traces = []
    x = _local(ts.buckets)
    values = ts.cluster.get(catalog.EVICTED, [])
    traces.append(
        _bar(
            x=x,
            y=[None if v is None else v / 2**20 for v in values],
            name="evicted",
            marker={"color": COLOURS["evicted"]},
            hovertemplate="%{y:,.1f} MiB",
        )
    )
    return _chart(
        traces,
        div_id,
        f"Evicted size (per {bucket_label(ts.range.bucket_s)})",
        showlegend=False,
        bargap=0.05,
        yaxis=_axis("evicted (MiB)", tickformat="~s"),
        xaxis=_time_axis(),
    )


def per_node(
    node_totals: dict[str, dict[str, float | None]], div_id: str = "chart-per-node"
) -> str | None:
    if not node_totals:
        return None
    nodes = sorted(node_totals)
    requests = [node_totals[n].get(catalog.TOTAL_REQUESTS) or 0 for n in nodes]
    ratios = []
    for n in nodes:
        h = node_totals[n].get(catalog.ITEM_HITS) or 0
        m = node_totals[n].get(catalog.ITEM_MISSES) or 0
        ratios.append(round(h / (h + m) * 100, 2) if h + m else None)
    cpu = [node_totals[n].get(catalog.CPU) for n in nodes]
    traces = []
    traces.append(
        _bar(
            x=nodes,
            y=requests,
            name="requests",
            marker={"color": BRAND},
            hovertemplate="%{y:,.0f} requests",
        )
    )
    traces.append(
        _scatter(
            x=nodes,
            y=ratios,
            name="item hit ratio",
            yaxis="y2",
            mode="markers+lines",
            marker={"size": 10, "color": COLOURS["combined"]},
            hovertemplate="%{y:.1f} %",
        )
    )
    traces.append(
        _scatter(
            x=nodes,
            y=cpu,
            name="CPU (average)",
            yaxis="y2",
            mode="markers",
            marker={"size": 10, "symbol": "diamond", "color": COLOURS["cpu"]},
            hovertemplate="%{y:.1f} %",
        )
    )
    return _chart(
        traces,
        div_id,
        "Per node: requests, item hit ratio and CPU",
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "range": [0, 101],
            "dtick": 20,
            "ticksuffix": " %",
            "title": {"text": "hit ratio, CPU"},
            "showgrid": False,
        },
        hovermode="closest",
        yaxis=_axis("requests", tickformat="~s"),
        xaxis=_axis("node", type="category"),
    )


def failures(ts: ClusterTimeseries, div_id: str = "chart-failures") -> str:
    """User errors, throttles and internal errors per bucket (stacked), as AWS counts them:
    ErrorRequestCount includes the throttled requests, FailedRequestCount is errors + faults."""
    traces = []
    x = _local(ts.buckets)
    n = len(ts.buckets)
    errors = ts.cluster.get(catalog.ERROR_REQUESTS) or [0.0] * n
    throttled = ts.cluster.get(catalog.THROTTLED_REQUESTS) or [0.0] * n
    user = [max(0.0, (e or 0.0) - (t or 0.0)) for e, t in zip(errors, throttled, strict=True)]
    for name, values, colour in (
        ("user errors", user, SERIES[3]),
        ("throttled", throttled, DURATION),
        ("internal errors (HTTP 500)", ts.cluster.get(catalog.FAULT_REQUESTS, []), MISS),
    ):
        traces.append(
            _bar(x=x, y=values, name=name, marker={"color": colour}, hovertemplate="%{y:,.0f}")
        )
    return _chart(
        traces,
        div_id,
        f"Failed requests (per {bucket_label(ts.range.bucket_s)})",
        barmode="stack",
        bargap=0.05,
        yaxis=_axis("requests", tickformat="~s", rangemode="tozero"),
        xaxis=_time_axis(),
    )


def network(ts: ClusterTimeseries, div_id: str = "chart-network") -> str:
    """Average network throughput per bucket (bytes in the bucket / its seconds), in MiB/s
    like the page's figures."""
    traces = []
    x = _local(ts.buckets)
    for name, metric, colour in (
        ("in", catalog.NETWORK_IN, SERIES[1]),
        ("out", catalog.NETWORK_OUT, BRAND),
    ):
        values = ts.cluster.get(metric, [])
        traces.append(
            _scatter(
                x=x,
                y=[None if v is None else v / ts.range.bucket_s / 2**20 for v in values],
                name=name,
                mode="lines",
                line={"color": colour, "width": 2},
                hovertemplate="%{y:,.2f} MiB/s",
            )
        )
    return _chart(
        traces,
        div_id,
        "Network throughput (all nodes, average per bucket)",
        yaxis=_axis("MiB/s (2²⁰ bytes per second)", rangemode="tozero"),
        xaxis=_time_axis(),
    )


def cpu_credits(ts: ClusterTimeseries, div_id: str = "chart-cpu-credits") -> str:
    """Lowest CPU credit balance of each node per bucket (burstable node types)."""
    traces = []
    x = _local(ts.buckets)
    for i, (node, metrics) in enumerate(ts.nodes.items()):
        traces.append(
            _scatter(
                x=x,
                y=metrics.get(catalog.CPU_CREDITS, []),
                name=node,
                mode="lines",
                line={"color": SERIES[i % len(SERIES)], "width": 2},
                hovertemplate="%{y:,.1f} credits",
            )
        )
    return _chart(
        traces,
        div_id,
        "CPU credit balance per node (lowest per bucket)",
        yaxis=_axis("credits (vCPU-minutes)", rangemode="tozero"),
        xaxis=_time_axis(),
    )


def per_node_queries(nodes, div_id: str = "chart-per-node-queries") -> str | None:
    """Per node: queries and scans, and the share of them that are scans."""
    if not nodes:
        return None
    names = [n.id for n in nodes]
    traces = []
    traces.append(
        _bar(
            x=names,
            y=[n.queries for n in nodes],
            name="queries",
            marker={"color": COLOURS["query"]},
            hovertemplate="%{y:,.0f} queries",
        )
    )
    traces.append(
        _bar(
            x=names,
            y=[n.scans for n in nodes],
            name="scans",
            marker={"color": COLOURS["scan"]},
            hovertemplate="%{y:,.0f} scans",
        )
    )
    traces.append(
        _scatter(
            x=names,
            y=[None if n.scan_share is None else round(n.scan_share * 100, 3) for n in nodes],
            name="scan share",
            yaxis="y2",
            mode="markers",
            marker={"size": 10, "symbol": "diamond", "color": MISS},
            hovertemplate="%{y:.2f} % scans",
        )
    )
    return _chart(
        traces,
        div_id,
        "Per node: queries vs scans",
        barmode="group",
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "ticksuffix": " %",
            "title": {"text": "scans ÷ (queries + scans)"},
            "showgrid": False,
        },
        hovermode="closest",
        yaxis=_axis("requests", tickformat="~s"),
        xaxis=_axis("node", type="category"),
    )


def bucket_label(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "hour" if hours == 1 else f"{hours} hours"
    minutes = seconds // 60
    return "minute" if minutes == 1 else f"{minutes} minutes"


# --------------------------------------------------------------------------- table page


def table_reads(
    buckets: list[datetime],
    served: list[float],
    reaching: list[float],
    estimated: bool,
    bucket_label: str,
    div_id: str = "chart-table-reads",
) -> str:
    traces = []
    x = _local(buckets)
    traces.append(
        _scatter(
            x=x,
            y=served,
            name="served by DAX" + (" (estimated)" if estimated else ""),
            mode="lines",
            stackgroup="reads",
            line={"color": COLOURS["item"], "width": 0.5},
            hovertemplate="%{y:,.0f}",
        )
    )
    traces.append(
        _scatter(
            x=x,
            y=reaching,
            name="reached DynamoDB",
            mode="lines",
            stackgroup="reads",
            line={"color": COLOURS["table"], "width": 0.5},
            hovertemplate="%{y:,.0f}",
        )
    )
    return _chart(
        traces,
        div_id,
        f"Reads served by the cache vs reaching the table (per {bucket_label})",
        yaxis=_axis("read requests", tickformat="~s"),
        xaxis=_time_axis(),
    )


def table_hit_ratio(
    buckets: list[datetime],
    ratios: list[float | None],
    estimated: bool,
    div_id: str = "chart-table-ratio",
) -> str:
    traces = []
    traces.append(
        _scatter(
            x=_local(buckets),
            y=_pct(ratios),
            name="item hit ratio"
            + (" (cluster-wide, estimated for this table)" if estimated else ""),
            mode="lines",
            line={"color": COLOURS["item"], "width": 2},
            hovertemplate="%{y:.1f} %",
        )
    )
    return _chart(
        traces,
        div_id,
        "Item cache hit ratio" + (" (estimated)" if estimated else ""),
        yaxis=_axis("hit ratio (%)", range=[0, 101], ticksuffix=" %"),
        xaxis=_time_axis(),
    )


# --------------------------------------------------------------------------- sparkline


def sparkline_svg(values: list[float | None], width: int = 140, height: int = 32) -> str:
    """Inline SVG of hit ratios (0..1): a line with gaps where there was no lookup."""
    n = len(values)
    if not n or all(v is None for v in values):
        return format_html('<span class="muted cm-nospark">{}</span>', "no data")
    step = width / max(n - 1, 1)
    segments: list[list[str]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            if segments[-1]:
                segments.append([])
            continue
        y = height - 2 - v * (height - 4)
        segments[-1].append(f"{i * step:.1f},{y:.1f}")
    paths = "".join(
        f'<polyline points="{" ".join(s)}" />'
        if len(s) > 1
        else f'<circle cx="{s[0].split(",")[0]}" cy="{s[0].split(",")[1]}" r="1.8" />'
        for s in segments
        if s
    )
    last = next((v for v in reversed(values) if v is not None), None)
    title = f"Item hit ratio, last 24 h (latest {last * 100:.1f} %)"
    return mark_safe(  # noqa: S308 - numbers we formatted ourselves
        f'<svg class="cm-spark" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{title}"><title>{title}</title>'
        f'<line x1="0" x2="{width}" y1="{height / 2}" y2="{height / 2}" class="cm-spark-mid"/>'
        f"{paths}</svg>"
    )
