"""Cache pages: overview, cluster, table (with the mapping editor) and collections."""

from collections import defaultdict

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from aws.models import AwsAccount
from cachemetrics import charts, markup, summaries
from cachemetrics.cluster_page import cluster_page
from cachemetrics.forms import INPUT_FORMAT, RangeForm, TableMappingForm, range_query
from cachemetrics.models import (
    POINT_RETENTION,
    CachedTable,
    Collection,
    DaxCluster,
)
from cachemetrics.ranges import RANGES, Range
from cachemetrics.reports import table_report
from cachemetrics.rollup import rollup_retention
from cachemetrics.timeseries import table_timeseries


def _get_cluster_for_user(request, pk: int) -> DaxCluster:
    # Tuneboard has no per-team ownership of AWS accounts yet: every user sees every cluster.
    return get_object_or_404(DaxCluster.objects.select_related("account"), pk=pk)


def _get_table_for_user(request, pk: int) -> CachedTable:
    return get_object_or_404(CachedTable.objects.select_related("account"), pk=pk)


def range_form(request) -> RangeForm:
    """The page's time range: a preset, or a custom from/to checked by RangeForm."""
    keep = rollup_retention(settings.TUNEBOARD_RETENTION_DAYS)
    return RangeForm(request.GET, now=timezone.now(), rollup_keep=keep)


def _range_context(form: RangeForm, rng: Range, start, end) -> dict:
    """What _range.html needs: preset links, the custom range inputs (what was typed, else the
    window shown) and the query string that keeps the range in links."""
    shown = {
        name: timezone.localtime(ts).strftime(INPUT_FORMAT)
        for name, ts in (("from", start), ("to", end))
    }
    typed = {name: str(form.data.get(name) or "") for name in ("from", "to")}
    return {
        "range": rng,
        "range_form": form,
        "range_inputs": typed if form.custom else shown,
        "range_query": range_query(rng),
        "ranges": [
            {"key": r.key, "label": r.key, "title": r.label, "active": r.key == rng.key}
            for r in RANGES.values()
        ],
    }


@require_GET
def overview(request):
    overview = markup.overview_page()
    context = {
        "overview": overview,
        "latest": Collection.objects.select_related("account").first(),
        "recent_failures": Collection.objects.filter(status__in=["failed", "partial"])[:3],
        "has_accounts": not overview.clusters and AwsAccount.objects.exists(),  # empty state
    }
    return render(request, "cachemetrics/overview.html", context)


@require_GET
def cluster_detail(request, pk: int):
    cluster = _get_cluster_for_user(request, pk)
    form = range_form(request)
    rng = form.selected()
    page = cluster_page(cluster, rng)
    # only the empty state shows it
    last_collection = (
        None
        if page.has_data
        else Collection.objects.filter(account=cluster.account, region=cluster.region).first()
    )
    return render(
        request,
        "cachemetrics/cluster_detail.html",
        {
            "cluster": cluster,
            "report": page.report,
            **_range_context(form, rng, page.report.start, page.report.end),
            "charts": page.charts,
            "has_data": page.has_data,
            "last_collection": last_collection,
        },
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def table_detail(request, pk: int):
    table = _get_table_for_user(request, pk)
    can_edit = request.user.has_perm("cachemetrics.change_cachedtable")
    ranged = range_form(request)
    rng = ranged.selected()
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Editing the mapping needs the change_cachedtable permission.")
        form = TableMappingForm(request.POST, instance=table)
        if form.is_valid():
            before = list(table.clusters.all())
            form.save()
            # the overview shows these clusters' tables: its figures follow the new mapping
            summaries.write({*before, *table.clusters.all()})
            messages.success(request, f"Mapping of {table.name} saved.")
            return redirect(f"{request.path}?{range_query(rng)}")
    else:
        form = TableMappingForm(instance=table)
    report = table_report(table, rng)
    chart_html = {}
    if report.parts:
        series = table_timeseries(report)
        if any(series.served) or any(series.reaching):
            label = charts.bucket_label(rng.bucket_s)
            chart_html = {
                "reads": charts.table_reads(
                    series.buckets, series.served, series.reaching, series.estimated, label
                ),
                "ratio": charts.table_hit_ratio(
                    series.buckets, series.item_ratio, series.estimated
                ),
            }
    start, end = _table_window(report)
    return render(
        request,
        "cachemetrics/table_detail.html",
        {
            "table": table,
            "report": report,
            **_range_context(ranged, rng, start, end),
            "charts": chart_html,
            "form": form,
            "can_edit": can_edit,
        },
        status=400 if ranged.errors else 200,
    )


def _table_window(report):
    """The window a table page shows: its first cluster's (they all end at their last
    collected minute), else the range's own."""
    if report.parts:
        part = report.parts[0][0]
        return part.start, part.end
    return report.range.window(timezone.now().replace(second=0, microsecond=0))


@require_GET
def collection_list(request):
    collections = list(Collection.objects.select_related("account")[:100])
    by_status = defaultdict(int)
    for c in collections:
        by_status[c.status] += 1
    stats = Collection.objects.aggregate(n=Count("id"), last=Max("started_at"))
    return render(
        request,
        "cachemetrics/collection_list.html",
        {
            "collections": collections,
            "stats": stats,
            "by_status": dict(by_status),
            "point_retention_days": POINT_RETENTION.days,
            "rollup_retention": rollup_retention(settings.TUNEBOARD_RETENTION_DAYS),
            "retention_days": settings.TUNEBOARD_RETENTION_DAYS,
        },
    )
