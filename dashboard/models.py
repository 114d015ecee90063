import hashlib
import secrets
import uuid

from django.db import models
from django.utils import timezone


class WorkerProbe(models.Model):
    """A round trip through broker, worker and database: proves the whole path works."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return (
            f"probe {self.id} ({'handled by ' + self.handled_by if self.handled_at else 'waiting'})"
        )


class TokenRefused(Exception):
    """An API key that does not authenticate; the message says why (a JSON 401)."""


class ApiToken(models.Model):
    """A per-user token for the JSON API and CI scripts. Only a SHA-256 of the key is stored.

    Its owner, scope and expiry are fixed when it is issued; afterwards it can only be
    renamed or revoked (the row stays, so its owner sees when it was revoked).
    """

    class Scope(models.TextChoices):
        READ = "read", "Read only"
        WRITE = "write", "Read and write"

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What uses it, e.g. 'CI pipeline'.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=8, editable=False, help_text="First characters, to tell tokens apart."
    )
    scope = models.CharField(max_length=5, choices=Scope.choices, default=Scope.WRITE)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…) for {self.user}"

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(
        cls, user, name: str, *, scope: str = Scope.WRITE, expires_at=None
    ) -> tuple["ApiToken", str]:
        """Creates a token; returns it with the clear key, shown once and never stored."""
        if scope not in cls.Scope.values:
            raise ValueError(f"Unknown token scope {scope!r}.")
        if expires_at is not None and expires_at <= timezone.now():
            raise ValueError("A token's expiry must be in the future.")
        key = "tb_" + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            name=name,
            key_hash=cls.hash(key),
            prefix=key[:8],
            scope=scope,
            expires_at=expires_at,
        )
        return token, key

    @classmethod
    def authenticate(cls, key: str) -> "ApiToken":
        """The token with this key, its use recorded; TokenRefused when it cannot be used."""
        token = cls.objects.select_related("user").filter(key_hash=cls.hash(key)).first()
        if token is None or not token.user.is_active:
            raise TokenRefused("Invalid API token.")
        if token.revoked_at is not None:
            raise TokenRefused("This API token was revoked.")
        if token.is_expired:
            raise TokenRefused(
                f"This API token expired at {token.expires_at.isoformat(timespec='seconds')}."
            )
        token.last_used_at = timezone.now()
        cls.objects.filter(pk=token.pk).update(last_used_at=token.last_used_at)
        return token

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def status(self) -> str:
        """One of "active", "expired", "revoked"."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.is_expired else "active"

    def allows(self, method: str) -> bool:
        """A read-only token may only read (GET, HEAD, OPTIONS)."""
        return self.scope == self.Scope.WRITE or method in ("GET", "HEAD", "OPTIONS")

    def revoke(self) -> None:
        """Stops the token working at once; revoking twice keeps the first time."""
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            ApiToken.objects.filter(pk=self.pk, revoked_at__isnull=True).update(
                revoked_at=self.revoked_at
            )
