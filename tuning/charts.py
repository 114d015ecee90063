"""Every Plotly figure of the tuning pages, built in Python.

Each function returns an HTML fragment from ``plotly.io.to_html(fig, include_plotlyjs=False,
full_html=False)``; the page loads our own ``vendor/plotly.min.js`` once. Costs are shown
per million invocations (readable numbers) and per call in the hover text.
"""

from __future__ import annotations

import hashlib
import math
from decimal import Decimal

import plotly.graph_objects as go
from django.core.cache import cache, caches
from plotly.subplots import make_subplots

from dashboard.plotly_theme import (
    BAD,
    BRAND,
    COST,
    DURATION,
    GOOD,
    INK,
    MUTED,
    SERIES,
    apply_layout,
    figure_html,
)
from dashboard.templatetags.units import format_ms, format_usd
from tuning import analysis
from tuning.models import Invocation, RunFigures, measured_duration_ms
from tuning.sharing import public_error

MILLION = Decimal(1_000_000)


def _ok(results):
    """Sizes with figures, sorted by memory (failed sizes are left out)."""
    return sorted(
        (
            r
            for r in results
            if r.status != "FAILED" and r.avg_duration_ms is not None and r.avg_cost_usd is not None
        ),
        key=lambda r: r.memory_mb,
    )


def _timed(results):
    """Sizes with a duration, priced or not (price unknown), sorted by memory."""
    return sorted(
        (r for r in results if r.status != "FAILED" and r.avg_duration_ms is not None),
        key=lambda r: r.memory_mb,
    )


def _per_million(cost) -> float:
    return float(Decimal(str(cost)) * MILLION)


def _memory_axis(sizes) -> dict:
    """A true numeric memory axis (log scale, so 128 MB and 10 GB both stay readable)."""
    return {
        "type": "log",
        "title": {"text": "Memory (MB, log scale)"},
        "tickvals": list(sizes),
        "ticktext": [str(s) for s in sizes],
        "range": [math.log10(min(sizes) / 1.25), math.log10(max(sizes) * 1.25)] if sizes else None,
        "showgrid": True,
    }


def duration_and_cost(results, div_id: str = "chart-duration-cost") -> str | None:
    """1. Duration and cost against memory, twin y-axes, 95 % CI error bars on duration
    (duration only when the price is unknown)."""
    ok = _timed(results)
    if not ok:
        return None
    priced = all(r.avg_cost_usd is not None for r in ok)
    sizes = [r.memory_mb for r in ok]
    durations = [r.avg_duration_ms for r in ok]
    up = [
        max((r.ci95_high_ms or r.avg_duration_ms) - r.avg_duration_ms, 0)
        if r.ci95_high_ms is not None
        else 0
        for r in ok
    ]
    down = [
        max(r.avg_duration_ms - r.ci95_low_ms, 0) if r.ci95_low_ms is not None else 0 for r in ok
    ]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=sizes,
            y=durations,
            name="Duration (ms, ± 95 % CI)",
            mode="lines+markers",
            line={"color": DURATION, "width": 3},
            marker={"size": 9},
            error_y={
                "type": "data",
                "array": up,
                "arrayminus": down,
                "visible": True,
                "thickness": 1.5,
                "width": 5,
            },
            customdata=[[format_ms(r.p95_duration_ms)] for r in ok],
            hovertemplate="%{x} MB<br>%{y:,.1f} ms (p95 %{customdata[0]})<extra>duration</extra>",
        )
    )
    if not priced:
        apply_layout(
            fig,
            "Duration by memory size (price unknown: no cost)",
            xaxis=_memory_axis(sizes),
            yaxis={"title": {"text": "Duration (ms)"}, "rangemode": "tozero"},
            hovermode="x unified",
        )
        return figure_html(fig, div_id)
    fig.add_trace(
        go.Scatter(
            x=sizes,
            y=[_per_million(r.avg_cost_usd) for r in ok],
            name="Cost per 1M calls (USD)",
            mode="lines+markers",
            yaxis="y2",
            line={"color": COST, "width": 3, "dash": "dot"},
            marker={"size": 9, "symbol": "square"},
            customdata=[[format_usd(r.avg_cost_usd)] for r in ok],
            hovertemplate="%{x} MB<br>$%{y:,.2f} per 1M calls (%{customdata[0]} per call)"
            "<extra>cost</extra>",
        )
    )
    apply_layout(
        fig,
        "Duration and cost by memory size",
        xaxis=_memory_axis(sizes),
        yaxis={
            "title": {"text": "Duration (ms)", "font": {"color": DURATION}},
            "rangemode": "tozero",
            "tickfont": {"color": DURATION},
        },
        yaxis2={
            "title": {"text": "USD per 1M invocations", "font": {"color": COST}},
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "tickprefix": "$",
            "tickfont": {"color": COST},
            "showgrid": False,
        },
        hovermode="x unified",
    )
    fig.update_layout(margin={"r": 72})
    return figure_html(fig, div_id)


def cost_vs_duration(results, recommended_mb=None, div_id: str = "chart-pareto") -> str | None:
    """2. Cost against duration, one labelled point per size, with the Pareto frontier."""
    ok = _ok(results)
    if not ok:
        return None
    frontier = analysis.pareto_frontier(
        [analysis.Candidate(r.memory_mb, r.avg_cost_usd, r.avg_duration_ms, False) for r in ok]
    )
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[c.avg_duration_ms for c in frontier],
            y=[_per_million(c.avg_cost_usd) for c in frontier],
            name="Pareto frontier (no size is both faster and cheaper)",
            mode="lines",
            line={"color": GOOD, "width": 2, "dash": "dash", "shape": "linear"},
            hoverinfo="skip",
        )
    )
    on_frontier = {c.memory_mb for c in frontier}
    fig.add_trace(
        go.Scatter(
            x=[r.avg_duration_ms for r in ok],
            y=[_per_million(r.avg_cost_usd) for r in ok],
            name="Memory size",
            mode="markers+text",
            text=[f"{r.memory_mb} MB" for r in ok],
            textposition="top center",
            marker={
                "size": [18 if r.memory_mb == recommended_mb else 11 for r in ok],
                "symbol": ["star" if r.memory_mb == recommended_mb else "circle" for r in ok],
                "color": [GOOD if r.memory_mb in on_frontier else MUTED for r in ok],
                "line": {"color": "#fff", "width": 1},
            },
            customdata=[[format_usd(r.avg_cost_usd)] for r in ok],
            hovertemplate="%{text}<br>%{x:,.1f} ms<br>$%{y:,.2f} per 1M calls "
            "(%{customdata[0]} per call)<extra></extra>",
        )
    )
    durations = [r.avg_duration_ms for r in ok]
    spread = max(durations) / min(durations) if min(durations) > 0 else 1
    x_axis = {"title": {"text": "Average duration (ms)"}, "rangemode": "tozero"}
    if spread > 8:
        ticks = [v for v in _NICE_TICKS if min(durations) / 1.5 <= v <= max(durations) * 1.5]
        x_axis = {
            "title": {"text": "Average duration (ms, log scale)"},
            "type": "log",
            "tickvals": ticks,
            "ticktext": [f"{v:,g}" for v in ticks],
        }
    apply_layout(
        fig,
        "Cost against duration"
        + (f" — ★ {recommended_mb} MB recommended" if recommended_mb else ""),
        xaxis=x_axis,
        yaxis={
            "title": {"text": "USD per 1M invocations"},
            "rangemode": "tozero",
            "tickprefix": "$",
        },
    )
    return figure_html(fig, div_id)


_NICE_TICKS = [m * 10**e for e in range(-1, 6) for m in (1, 2, 5)]


def _jitter(index: int, count: int, width: float = 0.28) -> float:
    """Deterministic spread of a strip's points inside ±width."""
    if count <= 1:
        return 0.0
    golden = (index * 0.6180339887) % 1.0
    return (golden - 0.5) * 2 * width


def duration_distribution(results, invocations, div_id: str = "chart-distribution") -> str | None:
    """3. Every invocation's duration per size (box + strip), cold starts and errors marked.

    ``invocations``: iterable of dicts with memory_mb, duration_ms, cold_start,
    init_duration_ms, error_type, sequence.
    """
    by_size: dict[int, list[dict]] = {}
    for inv in invocations:
        if inv.get("duration_ms") is None:
            continue
        by_size.setdefault(inv["memory_mb"], []).append(inv)
    if not by_size:
        return None
    sizes = sorted(by_size)
    fig = go.Figure()
    warm_x, warm_y, warm_text = [], [], []
    cold_x, cold_y, cold_text = [], [], []
    err_x, err_y, err_text = [], [], []
    for position, size in enumerate(sizes):
        values = by_size[size]
        fig.add_trace(
            go.Box(
                x=[position] * len(values),
                y=[v["duration_ms"] for v in values],
                name=f"{size} MB",
                boxpoints=False,
                width=0.6,
                marker={"color": BRAND},
                line={"color": BRAND, "width": 1.5},
                fillcolor="rgba(31, 78, 121, 0.12)",
                showlegend=False,
                hoverinfo="y",
            )
        )
        for index, inv in enumerate(values):
            x = position + _jitter(index, len(values))
            label = f"{size} MB #{inv.get('sequence', index)}"
            if inv.get("error_type"):
                err_x.append(x)
                err_y.append(inv["duration_ms"])
                err_text.append(f"{label}: {inv['error_type']}")
            elif inv.get("cold_start"):
                cold_x.append(x)
                cold_y.append(inv["duration_ms"])
                restore = inv.get("restore_duration_ms")
                start = (
                    f"restore {format_ms(restore)}"
                    if restore is not None
                    else f"init {format_ms(inv.get('init_duration_ms'))}"
                )
                cold_text.append(f"{label}, cold start ({start})")
            else:
                warm_x.append(x)
                warm_y.append(inv["duration_ms"])
                warm_text.append(label)
    common = {"mode": "markers", "hovertemplate": "%{text}<br>%{y:,.1f} ms<extra></extra>"}
    fig.add_trace(
        go.Scatter(
            x=warm_x,
            y=warm_y,
            text=warm_text,
            name="Warm invocation",
            marker={"color": DURATION, "size": 6, "opacity": 0.7},
            **common,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=cold_x,
            y=cold_y,
            text=cold_text,
            name="Cold start",
            marker={
                "color": COST,
                "size": 10,
                "symbol": "diamond",
                "line": {"color": "#fff", "width": 1},
            },
            **common,
        )
    )
    if err_x:
        fig.add_trace(
            go.Scatter(
                x=err_x,
                y=err_y,
                text=err_text,
                name="Error",
                marker={"color": BAD, "size": 10, "symbol": "x"},
                **common,
            )
        )
    apply_layout(
        fig,
        "Duration of every invocation",
        xaxis={
            "title": {"text": "Memory size"},
            "tickvals": list(range(len(sizes))),
            "ticktext": [f"{s} MB" for s in sizes],
            "range": [-0.6, len(sizes) - 0.4],
            "showgrid": False,
        },
        yaxis={"title": {"text": "Duration (ms)"}, "rangemode": "tozero"},
    )
    return figure_html(fig, div_id)


def monthly_cost(
    rows,
    *,
    invocations: int,
    assumed: bool,
    current_mb=None,
    recommended_mb=None,
    div_id: str = "chart-monthly",
) -> str | None:
    """4. Monthly cost per size at the function's traffic, current and recommended marked."""
    if not rows:
        return None
    colours, outlines = [], []
    for size, _cost in rows:
        if size == recommended_mb:
            colours.append(GOOD)
        elif size == current_mb:
            colours.append(MUTED)
        else:
            colours.append("rgba(31, 78, 121, 0.75)")
        outlines.append(3 if size == current_mb else 0)
    labels = []
    for size, _cost in rows:
        tags = []
        if size == current_mb:
            tags.append("current")
        if size == recommended_mb:
            tags.append("recommended")
        labels.append(f"{size} MB" + (f" ({', '.join(tags)})" if tags else ""))
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=[float(cost) for _size, cost in rows],
            marker={"color": colours, "line": {"color": INK, "width": outlines}},
            text=[format_usd(cost) for _size, cost in rows],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{x}<br>%{text} per month<extra></extra>",
        )
    )
    traffic = f"{invocations:,} invocations/month"
    apply_layout(
        fig,
        f"Monthly cost at {'an assumed ' if assumed else 'its real traffic: '}{traffic}",
        xaxis={"title": {"text": "Memory size"}, "type": "category"},
        yaxis={"title": {"text": "USD per month"}, "rangemode": "tozero", "tickprefix": "$"},
        showlegend=False,
    )
    return figure_html(fig, div_id)


def compare(runs_with_results, div_id: str = "chart-compare") -> str | None:
    """Overlaid duration and cost curves of several runs (one colour per run)."""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Duration (trimmed mean, ms)", "Cost (USD per 1M invocations)"),
        horizontal_spacing=0.09,
    )
    sizes_seen: set[int] = set()
    any_points = False
    for index, (label, results) in enumerate(runs_with_results):
        ok = _timed(results)
        if not ok:
            continue
        priced = _ok(results)  # a run without a price has no cost curve
        any_points = True
        colour = SERIES[index % len(SERIES)]
        sizes = [r.memory_mb for r in ok]
        sizes_seen.update(sizes)
        fig.add_trace(
            go.Scatter(
                x=sizes,
                y=[r.avg_duration_ms for r in ok],
                name=label,
                legendgroup=label,
                mode="lines+markers",
                line={"color": colour, "width": 2.5},
                hovertemplate="%{x} MB: %{y:,.1f} ms<extra>" + label + "</extra>",
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=[r.memory_mb for r in priced],
                y=[_per_million(r.avg_cost_usd) for r in priced],
                name=label,
                legendgroup=label,
                showlegend=False,
                mode="lines+markers",
                line={"color": colour, "width": 2.5, "dash": "dot"},
                hovertemplate="%{x} MB: $%{y:,.2f} per 1M<extra>" + label + "</extra>",
            ),
            row=1,
            col=2,
        )
    if not any_points:
        return None
    axis = _memory_axis(sorted(sizes_seen))
    apply_layout(fig, "Runs compared", height=420)
    fig.update_xaxes(**axis)
    fig.update_yaxes(rangemode="tozero")
    fig.update_yaxes(tickprefix="$", row=1, col=2)
    return figure_html(fig, div_id)


# --------------------------------------------------------------------------- a run's figures

#: Figures of a run are kept while its results do not change.
FIGURE_CACHE_SECONDS = 24 * 3600


def invocation_points(run, *, private: bool = True) -> list[dict]:
    """Every invocation of a run, as the distribution chart needs it (``private=False``: the
    error type is only its class, as on the share page)."""
    points = list(
        Invocation.objects.filter(run=run)
        .order_by("memory_mb", "sequence")
        .values(
            "memory_mb",
            "sequence",
            "duration_ms",
            "cold_start",
            "init_duration_ms",
            "restore_duration_ms",
            "error_type",
            "error_message",
        )
    )
    for point in points:  # the durations the run's statistics use
        point["duration_ms"] = measured_duration_ms(
            point["duration_ms"],
            point["init_duration_ms"],
            point["restore_duration_ms"],
            run.cold_starts_only,
        )
    if not private:
        for point in points:
            point["error_type"] = public_error(point.pop("error_message"), point["error_type"])
    return points


def _state(results, recommended_mb, private: bool) -> str:
    """What the figures draw: they are built again only when it changes."""
    drawn = [
        (r.memory_mb, r.status, r.invocations_done, r.avg_duration_ms, r.avg_cost_usd)
        for r in results
    ]
    return hashlib.sha256(repr([*drawn, recommended_mb, private]).encode()).hexdigest()[:16]


def _build(run, results, recommended_mb, private: bool) -> list[str]:
    figures = (
        duration_and_cost(results),
        cost_vs_duration(results, recommended_mb),
        duration_distribution(results, invocation_points(run, private=private)),
    )
    return [figure for figure in figures if figure]


def run_figures(run, results, recommended_mb, *, private: bool = True) -> list[str]:
    """The run page's three inline figures (``private=False``: the share page's).

    A finished run's figures are built once — by the worker when the results are final (see
    :func:`store_figures`), or on the first view of a run older than that — and kept with it;
    a running one's are cached while its results do not change.
    """
    state = _state(results, recommended_mb, private)
    if not run.is_active:
        # A stored set never changes (one per state): kept in this process as well, which
        # saves the page a query and decoding ~40 kB of JSON.
        key = f"{run.id}:{state}"
        html = caches["run-figures"].get(key)
        if html is None:
            html = _stored(run, state)
            if html is None:
                html = _build(run, results, recommended_mb, private)
                _keep(run, state, html)
            caches["run-figures"].set(key, html)
        return html
    html = _stored(run, state)
    if html is not None:
        return html
    key = f"tb:charts:{run.id}:{state}"
    html = cache.get(key)
    if html is None:
        html = _build(run, results, recommended_mb, private)
        cache.set(key, html, FIGURE_CACHE_SECONDS)
    return html


def _stored(run, state: str) -> list[str] | None:
    stored = RunFigures.objects.filter(run=run, key=state).values_list("html", flat=True)
    return stored[0] if stored else None


def store_figures(run) -> None:
    """Build the figures of a run whose results are final, for its page and its share page,
    so that no viewer waits for them (plotly takes tens of milliseconds per figure)."""
    results = list(run.results.all())
    if not any(r.avg_duration_ms is not None for r in results):
        return  # the page shows no figures
    best = run.winner()
    recommended_mb = best.memory_mb if best else None
    for private in (True, False):
        state = _state(results, recommended_mb, private)
        if not RunFigures.objects.filter(run=run, key=state).exists():
            _keep(run, state, _build(run, results, recommended_mb, private))


def _keep(run, state: str, html) -> None:
    """Store figures once: the same state always draws the same figures, so when a viewer
    and the worker build them at the same moment, whichever is stored first stays."""
    RunFigures.objects.bulk_create(
        [RunFigures(run=run, key=state, html=html)], ignore_conflicts=True
    )
