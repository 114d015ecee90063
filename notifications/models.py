"""Who is told what: a team's (Django Group's) webhook and e-mail addresses, each user's own
choice, and a record of every notification sent (which also keeps an event from being sent
twice)."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone


class Event(models.TextChoices):
    SWEEP_SUCCEEDED = "sweep_succeeded", "A sweep succeeded"
    SWEEP_FAILED = "sweep_failed", "A sweep failed"
    SWEEP_CANCELLED = "sweep_cancelled", "A sweep was cancelled"
    CACHE_FLAG = "cache_flag", "A DAX cluster got a new flag"
    TEST = "test", "Test notification"


#: What a team gets unless it chooses otherwise.
DEFAULT_EVENTS = [
    Event.SWEEP_SUCCEEDED,
    Event.SWEEP_FAILED,
    Event.SWEEP_CANCELLED,
    Event.CACHE_FLAG,
]
#: Permission a team member needs to change the team's notifications (staff need none).
CHANGE_PERMISSION = "notifications.change_teamnotifications"
MAX_EMAILS = 20


def default_events() -> list[str]:
    return [str(e) for e in DEFAULT_EVENTS]


def mask_url(url: str) -> str:
    """A webhook URL is a secret (whoever has it can post to the channel): only its scheme,
    host and last four characters are ever shown, e.g. "https://hooks.slack.com/…/XXXX"."""
    if not url:
        return ""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}/…/{url[-4:]}"


class TeamNotifications(models.Model):
    """What a team (a Django Group: a user's teams are their groups) is notified of, and where."""

    team = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="notifications")
    webhook_url = models.CharField(
        max_length=2048,
        blank=True,
        help_text="Slack-compatible incoming webhook. A secret: shown masked once saved.",
    )
    emails = models.JSONField(default=list, blank=True, help_text="Team e-mail addresses.")
    events = models.JSONField(default=default_events, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "team notifications"
        verbose_name_plural = "team notifications"

    def __str__(self):
        return f"Notifications of {self.team.name}"

    @property
    def masked_webhook(self) -> str:
        return mask_url(self.webhook_url)

    @property
    def event_labels(self) -> list[str]:
        return [Event(e).label for e in self.events if e in Event.values]

    def wants(self, event: str) -> bool:
        return event in self.events and bool(self.webhook_url or self.emails)


class UserPreference(models.Model):
    """A user's own choice; a user without a row gets the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_my_sweeps = models.BooleanField(
        default=True, verbose_name="E-mail me when a sweep I started ends"
    )

    def __str__(self):
        return f"Notification preference of {self.user}"

    @classmethod
    def emails_creator(cls, user) -> bool:
        row = cls.objects.filter(user=user).first()
        return row.email_my_sweeps if row else True


class NotificationQuerySet(models.QuerySet):
    def expired(self, days: int, now: datetime | None = None):
        """Sent more than ``days`` ago (none when ``days`` is 0: kept for ever)."""
        if not days:
            return self.none()
        return self.filter(created_at__lt=(now or timezone.now()) - timedelta(days=days))


class Notification(models.Model):
    """One event told to its recipients. ``key`` names the event ("run:<id>",
    "flag:<active flag id>"): a second attempt to notify the same event finds it and sends
    nothing."""

    key = models.CharField(max_length=200, unique=True)
    event = models.CharField(max_length=32, choices=Event.choices)
    title = models.CharField(max_length=300)
    text = models.TextField(help_text="The share-safe summary that was sent.")
    url = models.CharField(max_length=2048, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.title


class ActiveFlag(models.Model):
    """A cache flag raised at the last check and not cleared since: a flag that persists over
    collections is notified once; one that clears and comes back is new again."""

    cluster = models.ForeignKey(
        "cachemetrics.DaxCluster", on_delete=models.CASCADE, related_name="+"
    )
    code = models.CharField(max_length=64)
    raised_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "code"], name="one_active_flag_per_code")
        ]

    def __str__(self):
        return f"{self.code} on cluster {self.cluster_id}"
