"""JSON API plumbing: authentication by session or per-user token, JSON errors."""

import logging
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from dashboard.models import ApiToken, TokenRefused

csrf_log = logging.getLogger("django.security.csrf")


def api_error(message: str, status: int, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def body_too_big() -> JsonResponse:
    """The answer to a body over DATA_UPLOAD_MAX_MEMORY_SIZE, naming the limit."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return api_error(
        f"The request body is larger than the {limit:,} bytes ({limit / 2**20:g} MiB) "
        "Tuneboard accepts (DATA_UPLOAD_MAX_MEMORY_SIZE).",
        413,
        limit=limit,
    )


class _CsrfCheck(CsrfViewMiddleware):
    """Django's CSRF check, answering the reason it refuses instead of the HTML 403 page (as
    Django REST framework does)."""

    def _reject(self, request, reason):
        return reason


def csrf_failure(request) -> str | None:
    """Why Django's CSRF protection refuses this request (None when it passes or is safe)."""
    check = _CsrfCheck(lambda request: None)
    check.process_request(request)  # reads the CSRF cookie, as the middleware does
    return check.process_view(request, None, (), {})


def api_view(view_func):
    """An API view: logged-in session or `Authorization: Bearer <token>`, else a JSON 401.

    The one place the API authenticates. The CSRF middleware lets API views through: a token
    request is not authenticated by a cookie, so a forged cross-site request cannot carry it;
    a session request is checked here instead, so a refusal is a JSON 403, not an HTML page.
    A read-only token may only read.
    """

    @wraps(view_func)
    def wrapper(request, *args, **kwargs):
        header = request.headers.get("Authorization", "")
        if header.startswith(("Bearer ", "Token ")):
            try:
                token = ApiToken.authenticate(header.split(" ", 1)[1].strip())
            except TokenRefused as refused:
                return api_error(str(refused), 401)
            if not token.allows(request.method):
                return api_error(
                    f"This API token is read-only: {request.method} needs a read-write token.",
                    403,
                )
            request.user = token.user
        elif not request.user.is_authenticated:
            return api_error("Authentication required.", 401)
        else:
            reason = csrf_failure(request)
            if reason:
                csrf_log.warning("Forbidden (%s): %s", reason, request.path)
                return api_error(
                    f"CSRF check failed: {reason} A logged-in session must send the csrftoken "
                    "cookie's value in an X-CSRFToken header; scripts should use an API token.",
                    403,
                )
        return view_func(request, *args, **kwargs)

    # The login middleware lets API views through: they answer a JSON 401 themselves, and token
    # requests are only authenticated here.
    return login_not_required(csrf_exempt(wrapper))
