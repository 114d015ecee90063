"""Configuration problems of notifications, as Django system checks."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Warning, register

from dashboard.checks import CONFIGURATION


@register(CONFIGURATION)
def check_base_url(app_configs, **kwargs):
    base = settings.TUNEBOARD_BASE_URL
    if not base:
        if settings.DEBUG:  # in development a missing link is no news
            return []
        return [
            Warning(
                "TUNEBOARD_BASE_URL is not set: notifications carry no link to the run or "
                "cache page.",
                hint="Set TUNEBOARD_BASE_URL to the address users open Tuneboard at, e.g. "
                "https://tuneboard.example.com",
                id="notifications.W001",
            )
        ]
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [
            Error(
                f"TUNEBOARD_BASE_URL {base!r} is not an http(s) address.",
                hint="e.g. https://tuneboard.example.com",
                id="notifications.E001",
            )
        ]
    return []
