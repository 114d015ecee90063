"""Cache pages' HTML written in Python: the overview's rows, and what they share with the
other pages (a cluster's status badge and flags, hit ratio classes: template tags
``cluster_badges`` and ``hit_ratios``).

An overview lists every cluster and every table behind them (200 rows for 100 clusters); the
dozen template tags, filters and includes of each row took ~0.2 ms, most of the page's time.
Values are formatted as everywhere else (``dashboard.templatetags.units``).

What the overview shows of the summaries (rows, totals) is then kept per process
(``overview_page``) under a key made of everything it is made of: each cluster's shown fields
and when its summary was written (its figures are written with it), each table's, the
viewer's timezone and language. New summaries or an edited cluster or table make a new key,
so nothing is invalidated; between collections a view reads two small queries instead of
every summary's figures.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.template.defaultfilters import date
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import SafeData, SafeString

from cachemetrics import summaries
from cachemetrics.models import CachedTable, DaxCluster
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


# --------------------------------------------------------------------------- the overview


@dataclass(frozen=True)
class OverviewPage:
    """What ``cachemetrics/overview.html`` shows of the summaries (``summaries.Overview``)."""

    clusters: int
    tables: int  # behind present clusters
    unmapped: list[dict]  # {pk, name} of the tables behind none
    as_of: datetime | None
    totals: dict
    cluster_rows: SafeString
    table_rows: SafeString


#: What the overview shows of each cluster and table, besides the figures of the summary.
CLUSTER_FIELDS = (
    "pk",
    "name",
    "region",
    "account__name",
    "status",
    "aws_status",
    "vanished_at",
    "node_type",
    "node_count",
    "hit_ratio_threshold",
    "summary__computed_at",  # the figures are written with it
)
TABLE_FIELDS = ("pk", "name", "region", "billing_mode")


def overview_page() -> OverviewPage:
    """The overview, from the cache when nothing it shows has changed since it was made."""
    key = _overview_key()
    page = cache.get(key)
    if page is None:
        overview = summaries.overview()
        page = OverviewPage(
            clusters=len(overview.clusters),
            tables=len(overview.tables),
            unmapped=[{"pk": t.pk, "name": t.name} for t in overview.unmapped],
            as_of=overview.as_of,
            totals=overview.totals,
            cluster_rows=cluster_rows(overview.clusters),
            table_rows=table_rows(overview.tables),
        )
        cache.set(key, page)
    return page


def _overview_key() -> str:
    """Everything the overview is made of (to this viewer: language and timezone), hashed."""
    shown = [
        translation.get_language(),
        timezone.get_current_timezone_name(),
        list(DaxCluster.objects.values_list(*CLUSTER_FIELDS)),
        list(CachedTable.objects.values_list(*TABLE_FIELDS)),
    ]
    return "cache-overview:" + hashlib.blake2b(repr(shown).encode(), digest_size=16).hexdigest()
