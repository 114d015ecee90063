"""The home page card "Cache health" (dashboard.views collects one card per app)."""

from django.urls import reverse

from cachemetrics import summaries
from cachemetrics.models import Collection

SHOWN = 5


def home_card(request) -> dict:
    present = summaries.overview().present
    rows = sorted(present, key=lambda r: (-len(r.flags), r.cluster.name))
    return {
        "title": "Cache health",
        "url": reverse("cachemetrics:overview"),
        "template": "cachemetrics/_home_card.html",
        "data": {
            "rows": rows[:SHOWN],
            "more": max(0, len(rows) - SHOWN),
            "clusters": len(rows),
            "flagged": sum(1 for r in rows if r.flags),
            "latest": Collection.objects.first(),
            "collections_url": reverse("cachemetrics:collection_list"),
        },
    }
