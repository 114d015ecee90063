import zoneinfo
from urllib.parse import unquote

from django.contrib.auth import middleware as auth_middleware
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.urls import reverse
from django.utils import timezone

TIMEZONE_COOKIE = "tz"


class ViewerTimezoneMiddleware:
    """Shows times in the viewer's timezone, which base.html stores in a cookie from the browser."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = unquote(request.COOKIES.get(TIMEZONE_COOKIE, ""))
        try:
            timezone.activate(zoneinfo.ZoneInfo(name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return self.get_response(request)


class LoginRequiredMiddleware(auth_middleware.LoginRequiredMiddleware):
    """Every page needs a login, except views marked `login_not_required` (health, login, share
    links, API views: they check the session or a token themselves).

    A script calling /api/ gets a JSON 401 rather than a login form, and the admin sends
    visitors to its own login page.
    """

    def handle_no_permission(self, request, view_func):
        if request.path.startswith("/api/"):
            return JsonResponse({"error": "Authentication required."}, status=401)
        if request.resolver_match.namespace == "admin":
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return super().handle_no_permission(request, view_func)
