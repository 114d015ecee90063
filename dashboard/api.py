"""JSON API plumbing: authentication by session or per-user token, JSON errors."""

from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse

from dashboard.models import ApiToken


def api_error(message: str, status: int, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def api_view(view_func):
    """An API view: logged-in session or `Authorization: Bearer <token>`, else a JSON 401.

    Token requests carry no session cookie, so CSRF does not apply to them; session requests
    keep Django's CSRF protection for unsafe methods.
    """

    @wraps(view_func)
    def wrapper(request, *args, **kwargs):
        header = request.headers.get("Authorization", "")
        if header.startswith(("Bearer ", "Token ")):
            user = ApiToken.user_for_key(header.split(" ", 1)[1].strip())
            if user is None:
                return api_error("Invalid API token.", 401)
            request.user = user
            request._dont_enforce_csrf_checks = True
        elif not request.user.is_authenticated:
            return api_error("Authentication required.", 401)
        return view_func(request, *args, **kwargs)

    # The login middleware lets API views through: they answer a JSON 401 themselves, and token
    # requests are only authenticated here.
    return login_not_required(wrapper)
