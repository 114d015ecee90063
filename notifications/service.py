"""Deciding who is told what, once per event, and telling them.

The hooks (receivers.py) only enqueue a task; everything here runs on a worker, so a slow
chat service or mail server never holds a sweep or a collection. Each delivery (one webhook,
one address) is a task of its own with its own retries: a failing channel never re-sends to
one that worked."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.core.mail import send_mail
from django.db import IntegrityError, transaction

from cachemetrics.models import Collection, CollectionStatus, DaxCluster
from cachemetrics.reports import cluster_report
from notifications import summaries, webhook
from notifications.models import (
    ActiveFlag,
    Event,
    Notification,
    TeamNotifications,
    UserPreference,
)
from tuning.models import TuningRun

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """One message to send: to a team's webhook (``team_id``) or to one e-mail ``address``."""

    notification_id: int
    team_id: int | None = None
    address: str = ""


class DeliveryFailed(Exception):
    """A delivery did not get through; ``transient`` ones are retried."""

    def __init__(self, message: str, *, transient: bool):
        super().__init__(message)
        self.transient = transient


# --------------------------------------------------------------------------- events


def notify_run(run_id) -> list[Delivery]:
    """A run ended: its creator (unless they opted out) and the creator's teams that want this
    kind of ending. The two runs of an architecture comparison are one notification, sent when
    the second of them ends, about the comparison and linking to the run on the function."""
    run = TuningRun.objects.select_related("created_by").filter(pk=run_id).first()
    if run is None or summaries.run_event(run) is None:
        return []
    partner = run.architecture_partner()
    if partner is not None and partner.is_active:
        return []  # told when the partner ends
    if partner is not None:
        original, copy = (partner, run) if run.copy_of_id else (run, partner)
        run, message = original, summaries.comparison_message(original, copy)
    else:
        message = summaries.run_message(run)
    creator = run.created_by
    teams = teams_wanting(message.event, Group.objects.filter(user=creator)) if creator else []
    addresses = []
    if creator and creator.email and UserPreference.emails_creator(creator):
        addresses.append(creator.email)
    if not teams and not addresses:
        return []
    # Keyed on the run on the function: both runs' endings may see the comparison complete.
    notification = record(f"run:{run.pk}", message)
    return deliveries(notification, teams, addresses)


def check_cache_flags(collection_id: int) -> list[Delivery]:
    """After a collection: flags of its clusters that were not raised at the last check are
    new and notified once; flags that cleared are forgotten (they are new if they come back)."""
    collection = Collection.objects.filter(pk=collection_id).first()
    if collection is None or collection.status == CollectionStatus.FAILED:
        return []
    teams = teams_wanting(Event.CACHE_FLAG)
    if not teams:
        return []
    found = []
    clusters = DaxCluster.objects.filter(
        account=collection.account, region=collection.region, vanished_at__isnull=True
    )
    for cluster in clusters:
        flags = {flag.code: flag for flag in cluster_report(cluster).flags}
        ActiveFlag.objects.filter(cluster=cluster).exclude(code__in=list(flags)).delete()
        for code, flag in flags.items():
            row, created = ActiveFlag.objects.get_or_create(cluster=cluster, code=code)
            if created:
                notification = record(f"flag:{row.pk}", summaries.flag_message(cluster, flag))
                found += deliveries(notification, teams, [])
    return found


def send_test(team: TeamNotifications) -> list[Delivery]:
    """The team's channels, now, whatever events they chose."""
    notification = record(f"test:{uuid.uuid4()}", summaries.test_message(team.team))
    return deliveries(notification, [team], [])


def teams_wanting(event: str, groups=None) -> list[TeamNotifications]:
    rows = TeamNotifications.objects.select_related("team")
    if groups is not None:
        rows = rows.filter(team__in=groups)
    return [row for row in rows if row.wants(event)]


def record(key: str, message: summaries.Message) -> Notification | None:
    """The notification of this event, or None when it was recorded (and sent) before."""
    try:
        with transaction.atomic():
            return Notification.objects.create(
                key=key,
                event=message.event,
                title=message.title[:300],
                text=message.text,
                url=message.url,
            )
    except IntegrityError:
        return None


def deliveries(notification, teams, addresses) -> list[Delivery]:
    if notification is None:
        return []
    found = [Delivery(notification.pk, team_id=t.pk) for t in teams if t.webhook_url]
    emails = dict.fromkeys([*addresses, *(a for t in teams for a in t.emails)])
    return found + [Delivery(notification.pk, address=a) for a in emails]


# --------------------------------------------------------------------------- sending


def deliver(delivery: Delivery) -> None:
    """Send one delivery; DeliveryFailed when it did not get through. The webhook URL is
    never part of an error or a log line."""
    notification = Notification.objects.get(pk=delivery.notification_id)
    message = summaries.Message(
        notification.event, notification.title, notification.text, notification.url
    )
    if delivery.team_id is not None:
        team = TeamNotifications.objects.select_related("team").get(pk=delivery.team_id)
        if not team.webhook_url:
            return  # removed since
        try:
            webhook.post(team.webhook_url, summaries.webhook_body(message))
        except webhook.WebhookError as exc:
            raise DeliveryFailed(f"team {team.team.name}: {exc}", transient=exc.transient) from None
        return
    try:
        send_mail(
            f"[Tuneboard] {message.title}",
            message.as_plain_text(),
            None,
            [delivery.address],
        )
    except OSError as exc:  # SMTP errors are OSErrors
        raise DeliveryFailed(f"e-mail: {type(exc).__name__}", transient=True) from None
