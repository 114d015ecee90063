from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard import health
from dashboard.api import api_error, body_too_big
from dashboard.forms import ApiTokenForm
from dashboard.models import ApiToken
from prices.lookup import last_refresh


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


# The answer that shows a new key must not be kept by the browser or a proxy; the key is not
# kept anywhere else either (not in the session or a message), so it is rendered, not redirected.
@never_cache
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    """The user's own API tokens: create one (its key is shown once), see their use, revoke."""
    form = ApiTokenForm(request.POST) if request.method == "POST" else ApiTokenForm()
    status, new_key = 200, None
    if form.is_bound:
        if form.is_valid():
            _token, new_key = form.issue(request.user)
            form, status = ApiTokenForm(), 201  # the page that shows the new key
        else:
            status = 400
    context = {"form": form, "tokens": request.user.api_tokens.all(), "new_key": new_key}
    return render(request, "dashboard/api_tokens.html", context, status=status)


@require_POST
def api_token_revoke(request, pk):
    # Only the user's own tokens: anyone else's is a 404, as if it did not exist.
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    token.revoke()
    messages.success(request, f"Token “{token.name}” ({token.prefix}…) revoked.")
    return redirect("api_tokens")


@never_cache
@require_GET
def status(request):
    healthy, state = health.status()
    # The last price refresh is shown, not judged: prices that failed to refresh keep working.
    context = {"healthy": healthy, "state": state, "price_refresh": last_refresh()}
    return render(request, "dashboard/status.html", context)


def bad_request(request, exception):
    """Django's 400, for a request refused before any view ran. A body over
    DATA_UPLOAD_MAX_MEMORY_SIZE (read by the CSRF check of a form POST) is a 413 that names
    the limit; the API answers JSON, as its views do."""
    too_big = isinstance(exception, RequestDataTooBig)
    if request.path.startswith("/api/"):
        return body_too_big() if too_big else api_error("Bad request.", 400)
    if too_big:
        limit_mib = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 2**20
        return render(request, "413.html", {"limit_mib": limit_mib}, status=413)
    return defaults.bad_request(request, exception)
