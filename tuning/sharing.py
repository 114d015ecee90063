"""Read-only public links to a run: unguessable token (stored hashed), expiry, revocable; and
what a public answer may show of an error."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from tuning.models import ShareLink

#: 32 random bytes = 256 bits, URL-safe: 43 characters.
TOKEN_BYTES = 32
#: Characters of the token kept in clear, to tell links apart on the run page.
PREFIX_CHARS = 6
#: Permission needed to create a share link (a public link bypasses the login).
CREATE_PERMISSION = "tuning.add_sharelink"
#: Expiry choices in days. There is no "never": a forgotten public link would leak the run
#: for ever.
EXPIRY_DAYS = (1, 7, 30, 90)
DEFAULT_EXPIRY_DAYS = 7


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def can_create(user) -> bool:
    return bool(user and user.has_perm(CREATE_PERMISSION))


def create_link(run, user, expires_at=None) -> tuple[ShareLink, str]:
    """A new link (expiring in DEFAULT_EXPIRY_DAYS unless ``expires_at`` says otherwise) and
    its token, which is not stored: the caller shows it once."""
    if expires_at is None:
        expires_at = timezone.now() + timedelta(days=DEFAULT_EXPIRY_DAYS)
    if expires_at <= timezone.now():
        raise ValueError("A share link's expiry must be in the future.")
    token = new_token()
    link = ShareLink.objects.create(
        run=run,
        token_hash=ShareLink.hash(token),
        prefix=token[:PREFIX_CHARS],
        created_by=user,
        expires_at=expires_at,
    )
    return link, token


def live_links():
    """Links that still open: not revoked, not expired (no expiry: made before it was
    required)."""
    now = timezone.now()
    return ShareLink.objects.filter(revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )


def resolve(token: str) -> ShareLink | None:
    """The live link with this token, or None (unknown, revoked or expired)."""
    if not token or len(token) > 64:
        return None
    return (
        live_links()
        .select_related("run", "run__account")
        .filter(token_hash=ShareLink.hash(token))
        .first()
    )


def can_revoke(link: ShareLink, user) -> bool:
    """The run's owner, the link's creator and staff."""
    if not user.is_authenticated:
        return False
    return user.is_staff or user.pk in (link.created_by_id, link.run.created_by_id)


def revoke(link: ShareLink, user=None) -> None:
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])


def is_live(link: ShareLink) -> bool:
    return link.revoked_at is None and (link.expires_at is None or link.expires_at > timezone.now())


# --------------------------------------------------------------------------- public errors

_ERROR_CLASSES = (
    # (class, lower-case words any of which in the type or message means it), first match wins
    ("out of memory", ("outofmemory", "memoryerror", "out of memory")),
    ("timeout", ("timed out", "timedout", "timeout")),
    ("throttled", ("throttl", "toomanyrequests", "rate exceeded")),
)


def public_error(message: str, error_type: str = "") -> str:
    """What a public answer (share page, its CSV and JSON) shows of an error: its class, never
    its text, which can hold account ids, ARNs, role names or payload values. Derived from what
    the run, size or invocation stored (an invocation's error type and message, a size's or
    run's message); "" when there is no error."""
    text = f"{error_type} {message}".strip().lower()
    if not text:
        return ""
    for error_class, words in _ERROR_CLASSES:
        if any(word in text for word in words):
            return error_class
    if text.startswith("cancelled"):
        return "cancelled"
    # An invocation's error type, or a size failed by its invocations' errors.
    if error_type or "invocations failed" in text or "no successful invocation" in text:
        return "function error"
    return "error"
