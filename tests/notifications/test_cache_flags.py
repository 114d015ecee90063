"""A DAX collection that raises a new flag notifies once; the next collection, with the flag
still raised, sends nothing; a flag that is new at a later collection is sent then."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import mail

from cachemetrics import collector
from cachemetrics.models import DaxCluster
from notifications.models import ActiveFlag, Event, Notification, TeamNotifications
from tests.cachemetrics.conftest import T0, aws  # noqa: F401  (the moto server fixture)

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)


@pytest.fixture(scope="module")
def seeded(aws):  # noqa: F811
    """The sandbox's three demo clusters; sessions-cache is flagged (it is bypassed)."""
    return aws.seed(hours=1)


@pytest.fixture
def team(webhook_server):
    group = Group.objects.create(name="platform")
    return TeamNotifications.objects.create(
        team=group,
        webhook_url=webhook_server.url(),
        emails=["platform@example.com"],
        events=[Event.CACHE_FLAG],
    )


def collect(eager_tasks):
    with eager_tasks():
        [collection] = collector.collect_all(now=T0, since=HOUR)
    assert collection.status == "succeeded", collection.errors
    return collection


def flag_posts(webhook_server, cluster="sessions-cache"):
    return [p for p in webhook_server.posts() if p["text"].startswith(f"DAX cluster {cluster}:")]


def test_a_new_flag_is_notified_once_and_not_again_while_it_persists(
    seeded, team, webhook_server, eager_tasks, settings
):
    settings.TUNEBOARD_BASE_URL = "https://tuneboard.example.com"
    collect(eager_tasks)

    sessions = DaxCluster.objects.get(name="sessions-cache")
    flags = set(ActiveFlag.objects.filter(cluster=sessions).values_list("code", flat=True))
    assert "bypass" in flags
    posts = flag_posts(webhook_server)
    assert len(posts) == len(flags)  # one message per new flag
    [bypass] = [p for p in posts if "Reads bypass the cache" in p["text"]]
    assert f"https://tuneboard.example.com/cache/clusters/{sessions.pk}/" in bypass["text"]
    raw = b"".join(r["body"] for r in webhook_server.requests).decode()
    assert "arn:aws" not in raw and "123456789012" not in raw and ":role/" not in raw
    first_mails = len(mail.outbox)
    assert first_mails == Notification.objects.count() > 0
    assert all(m.to == ["platform@example.com"] for m in mail.outbox)
    sent_before = len(webhook_server.requests)

    collect(eager_tasks)  # the same flags again

    assert len(webhook_server.requests) == sent_before
    assert len(mail.outbox) == first_mails


def test_a_flag_raised_at_a_later_collection_is_new_then(seeded, team, webhook_server, eager_tasks):
    collect(eager_tasks)
    orders = DaxCluster.objects.get(name="orders-cache")
    assert not low_hit_ratio_posts(webhook_server)  # ~85 % hits, above its 80 % threshold
    sent_before = len(webhook_server.requests)

    # The team asks more of this cache: its hit ratio now falls below the threshold.
    orders.hit_ratio_threshold = 0.99
    orders.save()
    collect(eager_tasks)

    [post] = low_hit_ratio_posts(webhook_server)
    assert "below this cluster's threshold of 99.0 %" in post["text"]
    assert len(webhook_server.requests) == sent_before + 1  # only the new flag

    # Back to normal: the flag clears; raised again later, it is notified again.
    orders.hit_ratio_threshold = 0.5
    orders.save()
    collect(eager_tasks)
    assert not ActiveFlag.objects.filter(cluster=orders, code="low_hit_ratio").exists()
    orders.hit_ratio_threshold = 0.99
    orders.save()
    collect(eager_tasks)
    assert len(low_hit_ratio_posts(webhook_server)) == 2


def low_hit_ratio_posts(webhook_server):
    return [
        p
        for p in flag_posts(webhook_server, "orders-cache")
        if p["text"].startswith("DAX cluster orders-cache: Low hit ratio")
    ]


def test_without_a_team_that_wants_cache_flags_nothing_is_computed_or_sent(
    seeded, webhook_server, eager_tasks
):
    TeamNotifications.objects.create(
        team=Group.objects.create(name="sweeps-only"),
        webhook_url=webhook_server.url(),
        events=[Event.SWEEP_FAILED],
    )
    collect(eager_tasks)

    assert webhook_server.requests == []
    assert not ActiveFlag.objects.exists()
