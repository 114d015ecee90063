"""Cache pages' HTML written in Python: the overview's rows, and what they share with the
other pages (a cluster's status badge and flags, hit ratio classes: template tags
``cluster_badges`` and ``hit_ratios``).

An overview lists every cluster and every table behind them (200 rows for 100 clusters); the
dozen template tags, filters and includes of each row took ~0.2 ms, most of the page's time.
Values are formatted as everywhere else (``dashboard.templatetags.units``).
"""

from __future__ import annotations

import html
from collections.abc import Callable

from django.template.defaultfilters import date
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeData, SafeString

from cachemetrics.models import DaxCluster
from cachemetrics.summaries import ClusterRow, TableRow
from dashboard.templatetags.badges import status_badge
from dashboard.templatetags.units import format_pct, format_signed_usd, format_usd

EXACT = SafeString('<span class="tb-tag good">exact</span>')
ESTIMATED = SafeString(
    '<span class="tb-tag warn" title="The cluster fronts several tables: its hits are split by '
    "each table's share of reads.\">estimated</span>"
)


def _html(template: str, *args) -> SafeString:
    """``format_html`` without its checks for lazy strings, which made it cost ~20 µs a call
    (the overview makes a thousand): the same escaping (``django.utils.html.escape`` is
    ``html.escape``), values already safe kept as they are."""
    return SafeString(
        template.format(*(a if isinstance(a, SafeData) else html.escape(str(a)) for a in args))
    )


def ratio_class(ratio, threshold=0.8) -> str:
    """A hit ratio's CSS class against the cluster's threshold."""
    if ratio is None:
        return "muted"
    return "cm-good" if float(ratio) >= float(threshold) else "cm-bad"


def status_html(cluster: DaxCluster) -> str:
    """The cluster's AWS status, or since when DescribeClusters no longer returns it."""
    if cluster.is_present:
        return status_badge(cluster.status, cluster.aws_status or cluster.status)
    since = date(timezone.localtime(cluster.vanished_at), "Y-m-d H:i T")
    return status_badge("vanished", title=f"Not returned by DescribeClusters since {since}")


def flags_html(flags: list[dict]) -> str:
    if not flags:
        return SafeString('<span class="cm-flag ok">Healthy</span>')
    return SafeString(
        "".join(
            _html(
                '<span class="cm-flag {}" title="{}">{}</span>', f["level"], f["reason"], f["title"]
            )
            for f in flags
        )
    )


def _url(name: str) -> Callable[[int], str]:
    """pk -> the URL of view ``name``: reversed once per page, not once per row (~25 µs)."""
    placeholder = 2_147_483_647
    pattern = reverse(name, args=[placeholder])
    return lambda pk: pattern.replace(str(placeholder), str(pk))


def _net_class(net: float | None) -> str:
    return "cm-bad" if net is not None and net < 0 else "cm-good"


def cluster_rows(rows: list[ClusterRow]) -> SafeString:
    url = _url("cachemetrics:cluster_detail")
    return SafeString("\n".join(_cluster_row(row, url) for row in rows))


def _cluster_row(row: ClusterRow, url: Callable[[int], str]) -> str:
    cluster, f = row.cluster, row.figures
    if row.computed_at:
        item = (f.get("current_hit_ratio") or {}).get("item")
        query = (f.get("current_hit_ratio") or {}).get("query")
        net = (f.get("savings") or {}).get("net_monthly_usd")
        figures = _html(
            '<td class="num {}">{}</td><td class="num">{}</td><td>{}</td>'
            '<td class="num">{}</td><td class="num {}">{}</td>'
            '<td><div class="cm-flags">{}</div></td>',
            ratio_class(item, cluster.hit_ratio_threshold),
            format_pct(item),
            format_pct(query),
            row.sparkline_svg,
            format_usd(f.get("monthly_cost_usd")),
            _net_class(net),
            format_signed_usd(net),
            flags_html(row.flags),
        )
    else:
        figures = SafeString(
            '<td colspan="6" class="muted cm-nosummary">'
            "No figures yet: they are computed at the end of the next collection.</td>"
        )
    return _html(
        '<tr class="{}" data-cluster="{}">'
        '<td><a class="cm-name" href="{}">{}</a><div class="muted tb-sub">{} · {}</div></td>'
        '<td>{}</td><td class="cm-nowrap">{} × {}</td>{}</tr>',
        "" if cluster.is_present else "cm-gone",
        cluster.name,
        url(cluster.pk),
        cluster.name,
        cluster.region,
        cluster.account_label,
        status_html(cluster),
        cluster.node_type,
        cluster.node_count,
        figures,
    )


def table_rows(rows: list[TableRow]) -> SafeString:
    table_url = _url("cachemetrics:table_detail")
    cluster_url = _url("cachemetrics:cluster_detail")
    return SafeString("\n".join(_table_row(row, table_url, cluster_url) for row in rows))


def _table_row(row: TableRow, table_url, cluster_url) -> str:
    table = row.table
    figures = EXACT if row.exact else ESTIMATED
    return _html(
        '<tr><td><a class="cm-name" href="{}">{}</a><div class="muted tb-sub">{}</div></td>'
        '<td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td></tr>',
        table_url(table.pk),
        table.name,
        table.region,
        SafeString(
            ", ".join(_html('<a href="{}">{}</a>', cluster_url(c.pk), c.name) for c in row.clusters)
        ),
        table.get_billing_mode_display(),
        format_pct(row.hit_ratio),
        format_pct(row.served_share),
        figures,
    )
