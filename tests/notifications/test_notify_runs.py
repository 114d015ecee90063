"""A finished sweep notifies its creator and their teams once, with the share-safe summary."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core import mail

from notifications.models import Event, Notification, TeamNotifications, UserPreference
from tests.tuning.runfactory import SANDBOX_ACCOUNT, make_run
from tuning import runs
from tuning.engine.finish import cleanup_and_finish
from tuning.models import RunStatus, TuningRun

pytestmark = pytest.mark.django_db

BASE = "https://tuneboard.example.com"


def finish_failing(run, message):
    """The engine's own ending of a running run: cleanup (nothing recorded, so nothing to do)
    and the final transition."""
    run.claim_cleanup(from_phases=[run.phase])
    cleanup_and_finish(run, RunStatus.FAILED, message)


def test_a_succeeded_sweep_posts_the_summary_and_a_link_and_e_mails_creator_and_team(
    team, webhook_server, eager_tasks, settings
):
    settings.TUNEBOARD_BASE_URL = BASE
    user, _ = team
    run = make_run(user=user, status="RUNNING")
    # Nothing was changed in AWS yet (no original configuration): cleanup has nothing to do.
    TuningRun.objects.filter(pk=run.pk).update(original_config={})
    run.refresh_from_db()

    with eager_tasks():
        finish_failing(run, f"Analysis failed: arn:aws:lambda:us-east-1:{SANDBOX_ACCOUNT}:x")

    [body] = webhook_server.posts()
    assert set(body) == {"text", "blocks"}
    assert body["text"].startswith("Sweep failed: tuneboard-cpu: tuneboard-cpu in us-east-1")
    assert f"{BASE}/runs/{run.pk}/" in body["text"]
    assert "Reason: error." in body["text"]
    raw = webhook_server.requests[0]["body"].decode()
    assert SANDBOX_ACCOUNT not in raw and "arn:" not in raw and "Analysis failed" not in raw
    assert '"n": 25' not in raw  # the payload
    assert sorted(m.to[0] for m in mail.outbox) == ["ana@example.com", "payments@example.com"]
    assert all(SANDBOX_ACCOUNT not in m.body for m in mail.outbox)
    assert mail.outbox[0].subject == "[Tuneboard] Sweep failed: tuneboard-cpu"


def test_the_summary_of_a_succeeded_run_names_the_winner_without_account_or_arn(team):
    from notifications import summaries

    user, _ = team
    run = make_run(user=user)
    message = summaries.run_message(run)

    assert message.event == Event.SWEEP_SUCCEEDED
    assert "1024 MB is cheapest" in message.text or "MB is cheapest" in message.text
    assert "per call" in message.text
    assert SANDBOX_ACCOUNT not in message.text + message.title
    assert message.url == ""  # no TUNEBOARD_BASE_URL: no link


def test_a_run_is_notified_once_even_if_its_end_is_announced_again(
    team, webhook_server, eager_tasks
):
    from tuning.signals import announce_finished

    user, _ = team
    run = make_run(user=user, status="CANCELLED")
    with eager_tasks():
        announce_finished(run)
        announce_finished(run)  # a re-finished or resumed run announcing again

    assert len(webhook_server.posts()) == 1
    assert Notification.objects.filter(key=f"run:{run.pk}").count() == 1
    assert len(mail.outbox) == 2  # creator + team address, once each


def test_cancelling_a_pending_sweep_notifies_once(team, webhook_server, eager_tasks):
    user, _ = team
    run = make_run(user=user, status="PENDING")
    with eager_tasks():
        runs.request_cancel(run, user)
        runs.request_cancel(run, user)  # a second click: nothing changes, nothing sent

    [body] = webhook_server.posts()
    assert body["text"].startswith("Sweep cancelled: tuneboard-cpu")


def test_a_creator_who_opted_out_gets_no_e_mail_and_a_team_without_the_event_nothing(
    team, webhook_server, eager_tasks
):
    user, settings_row = team
    UserPreference.objects.create(user=user, email_my_sweeps=False)
    settings_row.events = [Event.SWEEP_FAILED]
    settings_row.save()
    run = make_run(user=user, status="PENDING")
    with eager_tasks():
        runs.request_cancel(run, user)

    assert webhook_server.posts() == []
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_a_failing_webhook_is_retried_and_its_url_never_logged(
    team, webhook_server, eager_tasks, caplog
):
    user, _ = team
    webhook_server.answers = [500, 503]
    run = make_run(user=user, status="PENDING")
    with eager_tasks():
        runs.request_cancel(run, user)

    assert len(webhook_server.requests) == 3  # two failures, then delivered
    assert "retrying: team payments: webhook answered HTTP 500" in caplog.text
    assert "secretpart1234" not in caplog.text and "127.0.0.1" not in caplog.text


def test_a_webhook_that_keeps_failing_gives_up_after_the_retries_and_e_mail_still_goes(
    team, webhook_server, eager_tasks, caplog
):
    user, _ = team
    webhook_server.answers = [500] * 10
    run = make_run(user=user, status="PENDING")
    with eager_tasks():
        runs.request_cancel(run, user)

    assert len(webhook_server.requests) == 4  # the first attempt and 3 retries
    assert "not delivered: team payments: webhook answered HTTP 500" in caplog.text
    assert "secretpart1234" not in caplog.text
    assert len(mail.outbox) == 2


def test_a_redirecting_webhook_is_not_followed(team, webhook_server, eager_tasks, caplog):
    user, _ = team
    webhook_server.answers = [302]
    webhook_server.redirect_to = webhook_server.url("/stolen")
    run = make_run(user=user, status="PENDING")
    with eager_tasks():
        runs.request_cancel(run, user)

    assert [r["path"] for r in webhook_server.requests] == ["/services/T000/B000/secretpart1234"]
    assert "a redirect (not followed)" in caplog.text


def test_an_unreachable_webhook_never_fails_the_sweep(team, eager_tasks, caplog):
    user, settings_row = team
    settings_row.webhook_url = "http://127.0.0.1:9/closed"
    settings_row.save()
    run = make_run(user=user, status="PENDING")
    with eager_tasks():
        runs.request_cancel(run, user)

    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert "webhook not reachable" in caplog.text and "/closed" not in caplog.text


# The reaper closes its database connection at the end of a round: not inside a test transaction.
@pytest.mark.django_db(transaction=True)
def test_a_sweep_no_worker_started_is_notified_when_the_reaper_fails_it(
    team, webhook_server, eager_tasks
):
    from datetime import timedelta

    from django.utils import timezone

    from tuning.engine.reaper import reap_stale_runs

    user, _ = team
    run = make_run(user=user, status="PENDING", created_at=timezone.now() - timedelta(hours=1))
    with eager_tasks():
        reap_stale_runs(enqueue_batch=lambda *args: None)
        reap_stale_runs(enqueue_batch=lambda *args: None)

    [body] = webhook_server.posts()
    assert body["text"].startswith("Sweep failed: tuneboard-cpu")
    assert "Reason: error." in body["text"]  # not the reaper's text about queues
    assert Notification.objects.get().key == f"run:{run.pk}"


def test_notifications_older_than_the_retention_are_purged_with_the_runs(settings):
    from datetime import timedelta

    from django.utils import timezone

    from dashboard import retention

    settings.TUNEBOARD_RETENTION_DAYS = 30
    old = Notification.objects.create(key="run:old", event=Event.SWEEP_FAILED, title="t", text="")
    new = Notification.objects.create(key="run:new", event=Event.SWEEP_FAILED, title="t", text="")
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))

    assert retention.purge(dry_run=True)["notifications"] == 1
    counts = retention.purge()

    assert counts["notifications"] == 1
    assert list(Notification.objects.all()) == [new]


def test_the_base_url_check_warns_in_production_only_and_refuses_a_non_http_address(settings):
    from notifications.checks import check_base_url

    settings.TUNEBOARD_BASE_URL = ""
    settings.DEBUG = True
    assert check_base_url(None) == []
    settings.DEBUG = False
    [warning] = check_base_url(None)
    assert warning.id == "notifications.W001" and "no link" in warning.msg
    settings.TUNEBOARD_BASE_URL = "tuneboard.example.com"
    assert [e.id for e in check_base_url(None)] == ["notifications.E001"]
    settings.TUNEBOARD_BASE_URL = "https://tuneboard.example.com"
    assert check_base_url(None) == []


def test_a_creator_in_no_team_still_gets_an_e_mail_and_no_webhook_is_called(
    django_user_model, webhook_server, eager_tasks
):
    TeamNotifications.objects.create(
        team=Group.objects.create(name="others"), webhook_url=webhook_server.url()
    )
    user = django_user_model.objects.create_user("solo", "solo@example.com", "pw-solo-12345")
    run = make_run(user=user, status="PENDING")
    with eager_tasks():
        runs.request_cancel(run, user)

    assert [m.to for m in mail.outbox] == [["solo@example.com"]]
    assert mail.outbox[0].subject == "[Tuneboard] Sweep cancelled: tuneboard-cpu"
    assert webhook_server.requests == []
