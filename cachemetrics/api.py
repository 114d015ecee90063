"""JSON: /api/cache/clusters/, /api/cache/clusters/<id>/?range=24h (or ?from=…&to=…, in the
request's timezone), /api/cache/tables/."""

from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_GET

from cachemetrics import summaries
from cachemetrics.models import DaxCluster
from cachemetrics.ranges import DEFAULT_RANGE, RANGES
from cachemetrics.reports import cluster_report
from cachemetrics.timeseries import cluster_timeseries
from cachemetrics.views import range_form
from dashboard.api import api_error, api_view


def _iso(ts):
    return ts.isoformat() if ts else None


def _round(value, digits=6):
    return None if value is None else round(value, digits)


def _savings(s):
    if s is None:
        return None
    return {
        "window_hours": s["window_hours"],
        "cache_hits": s["hits"],
        "read_units_saved": _round(s["read_units_saved"], 3),
        "monthly_saving_usd": _round(s["monthly_saving_usd"], 4),
        "monthly_cost_usd": _round(s["monthly_cost_usd"], 4),
        "net_monthly_usd": _round(s["net_monthly_usd"], 4),
        "break_even_hit_ratio": _round(s["break_even_hit_ratio"]),
        "caveats": s["caveats"],
    }


def _cluster(cluster, figures: dict, request) -> dict:
    """A cluster and its figures (``summaries.figures``; empty before its first summary)."""
    c, f = cluster, figures
    return {
        "id": c.pk,
        "name": c.name,
        "arn": c.arn,
        "account": c.account_label,
        "region": c.region,
        "status": c.status,
        "present": c.is_present,
        "vanished_at": _iso(c.vanished_at),
        "last_seen": _iso(c.last_seen),
        "node_type": c.node_type,
        "node_count": c.node_count,
        "url": request.build_absolute_uri(reverse("cachemetrics:cluster_detail", args=[c.pk])),
        "range": f.get("range"),
        "bucket_seconds": f.get("bucket_seconds"),
        "window": f.get("window"),
        "current_hit_ratio": {k: _round(v) for k, v in f.get("current_hit_ratio", {}).items()},
        "hit_ratio": {k: _round(v) for k, v in f.get("hit_ratio", {}).items()},
        "counts": f.get("counts"),
        "node_hourly_usd": f.get("node_hourly_usd"),
        "price_source": f.get("price_source"),
        "price_as_of": f.get("price_as_of"),
        "monthly_cost_usd": _round(f.get("monthly_cost_usd"), 4),
        "savings": _savings(f.get("savings")),
        "flags": f.get("flags", []),
        "tables": [
            {
                "id": t["id"],
                "name": t["name"],
                "figures": t["figures"],
                "share": _round(t["share"]),
                "item_hit_ratio": _round(t["item_hit_ratio"]),
                "consumed_read_units": t["consumed_read_units"],
                "method": t["method"],
            }
            for t in f.get("tables", [])
        ],
    }


@api_view
@require_GET
def cluster_list(request):
    """Every cluster with its last 24 h as of its summary (written by each collection)."""
    clusters = [
        {**_cluster(row.cluster, row.figures, request), "as_of": _iso(row.computed_at)}
        for row in summaries.overview().clusters
    ]
    return JsonResponse({"clusters": clusters})


@api_view
@require_GET
def cluster_detail(request, pk: int):
    form = range_form(request)
    if form.custom and not form.is_valid():
        errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
        return api_error("Invalid time range.", 400, errors=errors)
    wanted = request.GET.get("range", DEFAULT_RANGE)
    if not form.custom and wanted not in RANGES:
        return api_error(f"Unknown range {wanted!r}.", 400, allowed=list(RANGES))
    rng = form.selected()
    cluster = get_object_or_404(DaxCluster, pk=pk)
    report = cluster_report(cluster, rng)
    ts = cluster_timeseries(cluster, rng)
    data = _cluster(cluster, summaries.figures(report), request)
    data["inventory"] = {
        "endpoint": cluster.endpoint,
        "nodes": cluster.nodes,
        "security_groups": cluster.security_groups,
        "subnet_group": cluster.subnet_group,
        "parameter_group": cluster.parameter_group,
        "item_ttl_ms": cluster.item_ttl_ms,
        "query_ttl_ms": cluster.query_ttl_ms,
    }
    data["totals"] = {k: _round(v) for k, v in sorted(report.totals.items())}
    data["nodes"] = {
        node: {k: _round(v) for k, v in sorted(metrics.items())}
        for node, metrics in sorted(report.node_totals.items())
    }
    data["per_node"] = [
        {
            "id": n.id,
            "requests": n.requests,
            "item_hit_ratio": _round(n.item_hit_ratio),
            "query_requests": n.queries,
            "scan_requests": n.scans,
            "scan_share": _round(n.scan_share),
            "query_hit_ratio": _round(n.query_hit_ratio),
            "cpu_credits_lowest": _round(n.credits_lowest, 2) if report.burstable else None,
            "cpu_credits_latest": _round(n.credits_latest, 2) if report.burstable else None,
        }
        for n in report.nodes
    ]
    data["failures"] = {
        "failed_requests": report.totals.get("FailedRequestCount"),
        "user_errors": report.user_errors,
        "throttled_requests": report.totals.get("ThrottledRequestCount"),
        "fault_requests": report.totals.get("FaultRequestCount"),
    }
    data["network_bytes_per_second"] = {
        "in": _round(report.network_in_per_s, 1),
        "out": _round(report.network_out_per_s, 1),
    }
    data["timeseries"] = {
        "bucket_seconds": ts.range.bucket_s,
        "buckets": [_iso(b) for b in ts.buckets],
        "hit_ratio": {
            "item": [_round(v) for v in ts.ratio("item")],
            "query": [_round(v) for v in ts.ratio("query")],
            "scan": [_round(v) for v in ts.ratio("scan")],
            "combined": [_round(v) for v in ts.combined_ratio()],
        },
        "metrics": {k: [_round(v) for v in values] for k, values in sorted(ts.cluster.items())},
    }
    return JsonResponse(data)


def _table(request, table, **figures) -> dict:
    return {
        "id": table.pk,
        "name": table.name,
        "region": table.region,
        "billing_mode": table.billing_mode,
        "avg_item_kb": table.avg_item_kb,
        **figures,
        "url": request.build_absolute_uri(reverse("cachemetrics:table_detail", args=[table.pk])),
    }


@api_view
@require_GET
def table_list(request):
    overview = summaries.overview()
    tables = [
        _table(
            request,
            row.table,
            clusters=[c.name for c in row.clusters],
            figures="exact" if row.exact else "estimated",
            item_hit_ratio_24h=_round(row.hit_ratio),
            reads_served_by_cache_24h=_round(row.served, 3),
            reads_reaching_table_24h=_round(row.reaching, 3),
        )
        for row in overview.tables
    ]
    tables += [_table(request, t, clusters=[], figures=None) for t in overview.unmapped]
    return JsonResponse({"tables": tables})
