import uuid

from django.db import models


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


class ApiToken(models.Model):
    """A per-user token for the JSON API and CI scripts. Only a SHA-256 of the token is stored."""

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What uses it, e.g. 'CI pipeline'.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=8, editable=False, help_text="First characters, to tell tokens apart."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…) for {self.user}"

    @staticmethod
    def hash(key: str) -> str:
        import hashlib

        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user, name: str) -> tuple["ApiToken", str]:
        """Creates a token; returns it with the clear key, shown once and never stored."""
        import secrets

        key = "tb_" + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, key_hash=cls.hash(key), prefix=key[:8])
        return token, key

    @classmethod
    def user_for_key(cls, key: str):
        from django.utils import timezone

        token = cls.objects.select_related("user").filter(key_hash=cls.hash(key)).first()
        if token is None or not token.user.is_active:
            return None
        cls.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token.user
