"""The home page card "Cache health" (dashboard.views collects one card per app)."""

from django.urls import reverse

from cachemetrics.models import Collection, DaxCluster
from cachemetrics.reports import cluster_report

SHOWN = 5


def home_card(request) -> dict:
    clusters = list(DaxCluster.objects.filter(vanished_at__isnull=True).order_by("name"))
    rows = []
    for cluster in clusters:
        report = cluster_report(cluster, "24h")
        rows.append({"report": report, "flags": len(report.flags)})
    rows.sort(key=lambda r: (-r["flags"], r["report"].cluster.name))
    latest = Collection.objects.first()
    return {
        "title": "Cache health",
        "url": reverse("cachemetrics:overview"),
        "template": "cachemetrics/_home_card.html",
        "data": {
            "rows": rows[:SHOWN],
            "more": max(0, len(rows) - SHOWN),
            "clusters": len(clusters),
            "flagged": sum(1 for r in rows if r["flags"]),
            "latest": latest,
            "collections_url": reverse("cachemetrics:collection_list"),
        },
    }
