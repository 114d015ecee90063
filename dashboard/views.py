from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from dashboard import health


@require_GET
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
    healthy, state = health.overall()
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **state}, status=200 if healthy else 503
    )
