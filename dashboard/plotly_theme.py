"""The one look of every Plotly figure: fonts, margins, legend, and a colour per meaning.

Figures are built in Python and sent as HTML fragments: an empty box and the figure as a JSON
data block, which ``static/js/charts.js`` draws with our own ``vendor/plotly.min.js`` (no CDN:
the app works offline; no inline script: the Content-Security-Policy allows none).
Figures built as plain data (the cache pages': many times faster than graph objects) leave out
the 7.7 kB ``plotly_white`` template: their page sends it once (``template_script``) and
charts.js applies it to each figure that carries none.
"""

import functools

import plotly.graph_objects as go
import plotly.io as pio
from django.utils.html import format_html, json_script
from plotly.utils import PlotlyJSONEncoder

FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
INK = "#1b2733"  # body text of tuneboard.css

# Colours by meaning, the same on every page (and close to the status badges).
BRAND = "#1f4e79"
DURATION = "#2f7bd6"
COST = "#e08a00"
GOOD = "#2e9d4f"
BAD = "#d23c3c"
MUTED = "#8a94a0"
HIT = BRAND
MISS = BAD
# One colour per run, cache type or operation when a chart overlays several.
SERIES = ["#1f4e79", "#e08a00", "#2e9d4f", "#9c4dcc", "#d23c3c", "#1aa3a3", "#7a6a3a", "#c2185b"]

CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["lasso2d"]}
HEIGHT = 400
TEMPLATE = "plotly_white"
TEMPLATE_ID = "plotly-template"  # the id of the template's data block (static/js/charts.js)


def theme_layout(title: str, height: int = HEIGHT) -> dict:
    """The theme as a plain layout, without its template."""
    return {
        # Pinned to the top, above the legend row, however many lines the legend takes.
        "title": {
            "text": title,
            "x": 0.01,
            "xanchor": "left",
            "y": 0.985,
            "yanchor": "top",
            "yref": "container",
            "font": {"size": 15},
        },
        "font": {"family": FONT, "size": 12, "color": INK},
        "height": height,
        "margin": {"l": 64, "r": 24, "t": 96, "b": 56},
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "xanchor": "left"},
        "hoverlabel": {"font": {"family": FONT}},
    }


def apply_layout(fig: go.Figure, title: str, height: int = HEIGHT, **extra) -> go.Figure:
    """The theme, then `extra` merged into it (``margin={"r": 72}`` changes only the right)."""
    fig.update_layout(template=TEMPLATE, **theme_layout(title, height))
    fig.update_layout(**extra)
    return fig


@functools.cache
def template_script() -> str:
    """The theme's template as a JSON data block, for pages whose figures carry none."""
    return json_script(pio.templates[TEMPLATE].to_plotly_json(), TEMPLATE_ID)


def figure_html(fig: go.Figure, div_id: str) -> str:
    """The figure as an HTML fragment: its box and its JSON, drawn by static/js/charts.js."""
    return plain_figure_html(fig.to_plotly_json(), div_id)


def plain_figure_html(figure: dict, div_id: str) -> str:
    """``figure`` (plain ``data`` and ``layout``) as figure_html does. Plotly's encoder turns
    NaN into null (JSON has no NaN); datetimes are better sent as ISO strings, which it
    encodes without a Python call each."""
    height = figure["layout"].get("height") or HEIGHT
    return format_html(
        '<div id="{}" class="plotly-graph-div" style="height:{}px; width:100%;"></div>{}',
        div_id,
        height,
        json_script({**figure, "config": CONFIG}, f"{div_id}-figure", encoder=PlotlyJSONEncoder),
    )
