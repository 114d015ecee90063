from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from dashboard import health


def home(request):
    return render(request, "dashboard/home.html", {"cards": _home_cards(request)})


def _home_cards(request) -> list[dict]:
    """One card per area; each app contributes through a `home_card(request)` function."""
    from importlib import import_module

    cards = []
    for module_name in ("tuning.home", "cachemetrics.home"):
        try:
            module = import_module(module_name)
        except ModuleNotFoundError:
            continue
        cards.append(module.home_card(request))
    return cards


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """Liveness: the process answers requests. Touches nothing else (no database, no broker),
    so a load balancer never takes the dashboard out because of a part that is down."""
    return JsonResponse({"status": "ok"})


@login_not_required
@never_cache
@require_GET
def readyz(request):
    """Readiness: database and broker answer. Anonymous callers get coarse states only; the
    reasons are on the status page, for users who are logged in."""
    ready, state = health.readiness()
    checks = {name: "ok" if part["ok"] else "down" for name, part in state.items()}
    return JsonResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status=200 if ready else 503,
    )


@never_cache
@require_GET
def status(request):
    healthy, state = health.status()
    return render(request, "dashboard/status.html", {"healthy": healthy, "state": state})
