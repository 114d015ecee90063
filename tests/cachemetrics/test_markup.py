"""The overview's rows written in Python: escaped, a vanished cluster marked with its date in the
viewer's timezone, a cluster without figures yet, flags and table links."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime

from django.utils import timezone

from cachemetrics import charts, markup
from cachemetrics.models import CachedTable, DaxCluster
from cachemetrics.summaries import ClusterRow, TableRow

HOSTILE = '<script>alert("x")</script>'


def cluster(**fields) -> DaxCluster:
    return DaxCluster(
        pk=7, region="us-east-1", name="orders-cache", node_type="dax.r5.large", **fields
    )


FIGURES = {
    "current_hit_ratio": {"item": 0.5, "query": None},
    "monthly_cost_usd": 589.11,
    "savings": {"net_monthly_usd": -12.5},
    "flags": [{"level": "warn", "title": "Low hit ratio", "reason": HOSTILE}],
    "item_hit_ratio_hourly": [0.5, None, 0.9],
}


def test_a_cluster_row_escapes_what_aws_and_users_named_and_shows_its_figures():
    row = ClusterRow(
        cluster(status="available", aws_status=HOSTILE, node_count=3),
        datetime(2026, 11, 29, tzinfo=UTC),
        FIGURES,
    )

    html = markup.cluster_rows([row])

    assert HOSTILE not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert 'href="/cache/clusters/7/"' in html and "dax.r5.large × 3" in html
    assert '<td class="num cm-bad">50.0 %</td>' in html  # under the 0.8 threshold
    assert '<td class="num cm-bad">−$12.50</td>' in html
    assert 'class="cm-flag warn"' in html and '<svg class="cm-spark"' in html


def test_a_cluster_row_shows_the_sparkline_its_summary_stored_drawn_as_it_is():
    svg = str(charts.sparkline_svg([0.5, None, 0.9]))  # a plain string, as read from JSON
    figures = {**FIGURES, "sparkline_svg": svg, "item_hit_ratio_hourly": [0.1, 0.2]}
    row = ClusterRow(cluster(status="available"), datetime(2026, 11, 29, tzinfo=UTC), figures)

    assert f"<td>{svg}</td>" in markup.cluster_rows([row])


def test_a_vanished_cluster_without_figures_says_since_when_in_the_viewers_timezone():
    gone = cluster(status="vanished", vanished_at=datetime(2026, 11, 29, 2, 0, tzinfo=UTC))

    with timezone.override(zoneinfo.ZoneInfo("Europe/Paris")):
        html = markup.cluster_rows([ClusterRow(gone, None, {})])

    assert '<tr class="cm-gone"' in html
    assert 'title="Not returned by DescribeClusters since 2026-11-29 03:00 CET"' in html
    assert "No figures yet" in html


def test_a_table_row_links_its_clusters_and_says_whether_its_figures_are_estimated():
    table = CachedTable(pk=3, region="us-east-1", name=HOSTILE)
    row = TableRow(table, reaching=10.0, clusters=[cluster()], hits=3.0, misses=1.0, exact=False)

    html = markup.table_rows([row])

    assert HOSTILE not in html and 'href="/cache/tables/3/"' in html
    assert '<a href="/cache/clusters/7/">orders-cache</a>' in html
    assert "75.0 %" in html and ">estimated</span>" in html
