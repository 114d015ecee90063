import zoneinfo
from urllib.parse import unquote

from django.contrib.auth.views import redirect_to_login
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


class LoginRequiredEverywhereMiddleware:
    """Every page needs a login, except views marked with @public (health, login, share links)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "tuneboard_public", False) or request.user.is_authenticated:
            return None
        if request.path.startswith("/admin/"):
            return None  # the admin has its own login
        if request.path.startswith("/api/"):
            from django.http import JsonResponse

            return JsonResponse({"error": "Authentication required."}, status=401)
        return redirect_to_login(request.get_full_path())


def public(view_func):
    """Marks a view as reachable without login."""
    view_func.tuneboard_public = True
    return view_func
