"""Read-only public links to a run: unguessable token, optional expiry, revocable."""

from __future__ import annotations

import secrets

from django.db.models import Q
from django.utils import timezone

from tuning.models import ShareLink

#: 32 random bytes = 256 bits (the issue asks for at least 128), URL-safe: 43 characters.
TOKEN_BYTES = 32


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def create_link(run, user, expires_at=None) -> ShareLink:
    if expires_at is not None and expires_at <= timezone.now():
        raise ValueError("A share link's expiry must be in the future.")
    return ShareLink.objects.create(
        run=run, token=new_token(), created_by=user, expires_at=expires_at
    )


def live_links():
    """Links that still open: not revoked, not expired."""
    now = timezone.now()
    return ShareLink.objects.filter(revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )


def resolve(token: str) -> ShareLink | None:
    """The live link with this token, or None (unknown, revoked or expired)."""
    if not token or len(token) > 64:
        return None
    return live_links().select_related("run", "run__account").filter(token=token).first()


def can_revoke(link: ShareLink, user) -> bool:
    return bool(
        user.is_authenticated
        and (link.created_by_id == user.pk or user.has_perm("tuning.delete_sharelink"))
    )


def revoke(link: ShareLink, user=None) -> None:
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])


def is_live(link: ShareLink) -> bool:
    return link.revoked_at is None and (link.expires_at is None or link.expires_at > timezone.now())
