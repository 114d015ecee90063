"""Slack-compatible incoming webhooks: which URLs are accepted, and posting one message.

The URL is a secret: it is never logged, and errors name only the HTTP status or the kind of
failure. Redirects are not followed (a redirect could carry the message elsewhere)."""

from __future__ import annotations

import ipaddress
import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings

#: Seconds to connect and to read the answer: a slow chat service must not hold a worker.
TIMEOUT_SECONDS = 5
MAX_URL_LENGTH = 2048


class WebhookError(Exception):
    """Posting failed; the message never contains the URL."""

    def __init__(self, message: str, *, transient: bool):
        super().__init__(message)
        self.transient = transient


def plain_http_allowed() -> bool:
    """Plain http only for local tests and development (DEBUG or the sandbox)."""
    return bool(settings.DEBUG or settings.TUNEBOARD_SANDBOX)


def validation_error(url: str) -> str:
    """Why ``url`` cannot be a webhook ("" when it can)."""
    if len(url) > MAX_URL_LENGTH:
        return f"Use at most {MAX_URL_LENGTH} characters."
    if any(c.isspace() or ord(c) < 32 for c in url):
        return "The URL must not contain spaces or control characters."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError:
        return "This is not a valid URL."
    schemes = ("https", "http") if plain_http_allowed() else ("https",)
    if parts.scheme not in schemes:
        return (
            "Use an https:// URL (plain http is accepted only in development)."
            if parts.scheme == "http"
            else "Use an https:// URL, e.g. https://hooks.slack.com/services/…"
        )
    if not parts.hostname:
        return "The URL has no host name."
    if parts.username or parts.password:
        return "The URL must not contain a user name or password."
    if not plain_http_allowed() and _is_internal_address(parts.hostname):
        return "The webhook must be a public address, not a private or local one."
    return ""


def _is_internal_address(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError with the 3xx status


_opener = urllib.request.build_opener(_NoRedirects)


def post(url: str, body: dict) -> int:
    """POST ``body`` as JSON; returns the HTTP status. WebhookError (transient for timeouts,
    connection errors, 429 and 5xx) otherwise."""
    problem = validation_error(url)
    if problem:
        raise WebhookError(f"webhook URL refused: {problem}", transient=False)
    request = urllib.request.Request(  # noqa: S310  (scheme checked above: http(s) only)
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "Tuneboard"},
        method="POST",
    )
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        transient = exc.code == 429 or exc.code >= 500
        kind = "a redirect (not followed)" if 300 <= exc.code < 400 else f"HTTP {exc.code}"
        raise WebhookError(f"webhook answered {kind}", transient=transient) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WebhookError(
            f"webhook not reachable ({type(reason).__name__})", transient=True
        ) from None
