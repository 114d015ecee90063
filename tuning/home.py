"""The home page card "Latest tuning runs" (dashboard.views collects one card per app)."""

from django.db.models import Prefetch
from django.urls import reverse

from tuning.models import PowerResult, TuningRun
from tuning.runs import can_start

LATEST = 5


def home_card(request) -> dict:
    runs = list(
        TuningRun.objects.select_related("created_by")
        .prefetch_related(Prefetch("results", queryset=PowerResult.objects.order_by("memory_mb")))
        .order_by("-created_at")[:LATEST]
    )
    rows = [{"run": run, "winner": run.winner()} for run in runs]
    return {
        "title": "Latest tuning runs",
        "url": reverse("tuning:run_list"),
        "template": "tuning/_home_card.html",
        "data": {
            "rows": rows,
            "new_url": reverse("tuning:run_new"),
            "can_start": can_start(request.user),
        },
    }
