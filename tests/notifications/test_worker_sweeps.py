"""Sweeps through the real worker (sandbox Lambda, Redis/PostgreSQL as configured) notify the
creator and the team exactly once, with nothing of the account in the message."""

from __future__ import annotations

import json
import re
import time
from email import message_from_string

import pytest
from django.contrib.auth.models import Group

from notifications.models import Notification, TeamNotifications
from tests.tuning.runfactory import SANDBOX_ACCOUNT, start_run
from tuning.models import RunStatus, TuningRun

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BASE = "https://tuneboard.example.com"
FAILING = (
    "def handler(event, context):\n"
    "    raise RuntimeError('cannot assume arn:aws:iam::123456789012:role/payments-db with "
    "DB_PASSWORD=hunter2')\n"
)


def wait_for(predicate, what: str, timeout: float = 240.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def sent_mails(folder) -> list:
    """Messages the worker's file-based mail backend wrote (one file per connection)."""
    messages = []
    for path in sorted(folder.glob("*.log")):
        for chunk in path.read_text().split("-" * 79):
            if chunk.strip():
                messages.append(message_from_string(chunk.strip()))
    return messages


@pytest.fixture
def team(django_user_model, webhook_server):
    user = django_user_model.objects.create_user("ana", "ana@example.com", "pw-ana-12345")
    group = Group.objects.create(name="payments")
    user.groups.add(group)
    TeamNotifications.objects.create(
        team=group, webhook_url=webhook_server.url(), emails=["payments@example.com"]
    )
    return user


@pytest.fixture
def worker(sandbox, start_celery_worker, tmp_path):
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    process = start_celery_worker(
        concurrency=2,
        env={
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(mail_dir),
            "TUNEBOARD_BASE_URL": BASE,
            "TUNEBOARD_SANDBOX": "1",
        },
    )
    process.mail_dir = mail_dir
    return process


def finished(run) -> TuningRun:
    def done():
        run.refresh_from_db()
        return run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)

    wait_for(done, f"run {run.id} to finish")
    return run


def test_a_sweep_run_by_the_worker_notifies_the_team_and_the_creator_once(
    team, worker, webhook_server
):
    run = start_run(
        created_by=team, function="tuneboard-io", memory_sizes=[128, 256], invocations_per_size=2
    )
    run = finished(run)
    assert run.status == RunStatus.SUCCEEDED, run.error_message

    wait_for(lambda: webhook_server.requests, "the webhook", timeout=60)
    wait_for(lambda: len(sent_mails(worker.mail_dir)) >= 2, "two e-mails", timeout=60)
    [request] = webhook_server.requests
    body = json.loads(request["body"])
    assert request["headers"]["Content-Type"] == "application/json"
    assert body["text"].startswith("Sweep succeeded: tuneboard-io: tuneboard-io in us-east-1")
    assert "MB is cheapest" in body["text"] and f"{BASE}/runs/{run.pk}/" in body["text"]
    assert body["blocks"][0]["text"]["text"] == "Sweep succeeded: tuneboard-io"
    raw = request["body"].decode()
    assert SANDBOX_ACCOUNT not in raw and "arn:aws" not in raw
    mails = sent_mails(worker.mail_dir)
    assert sorted(m["To"] for m in mails) == ["ana@example.com", "payments@example.com"]
    assert all(m["Subject"] == "[Tuneboard] Sweep succeeded: tuneboard-io" for m in mails)
    assert Notification.objects.filter(key=f"run:{run.pk}").count() == 1


def test_a_failed_sweep_sends_only_the_class_of_its_error(
    team, worker, webhook_server, make_function
):
    name = make_function(FAILING)
    run = start_run(created_by=team, function=name, memory_sizes=[128], invocations_per_size=2)
    run = finished(run)
    assert run.status == RunStatus.FAILED
    assert "payments-db" in run.error_message  # the private page has it; the message must not

    wait_for(lambda: webhook_server.requests, "the webhook", timeout=60)
    wait_for(lambda: len(sent_mails(worker.mail_dir)) >= 2, "two e-mails", timeout=60)
    [request] = webhook_server.requests
    raw = request["body"].decode()
    assert f"Sweep failed: {name}" in raw and "Reason: function error." in raw
    for secret in (SANDBOX_ACCOUNT, "arn:aws", "payments-db", "hunter2", "RuntimeError"):
        assert secret not in raw
        assert all(secret not in m.as_string() for m in sent_mails(worker.mail_dir))


def test_an_architecture_comparison_run_by_the_worker_is_told_once_with_its_pick(
    team, worker, webhook_server, make_function
):
    name = make_function("def handler(event, context):\n    return {}\n", Timeout=10)
    run = start_run(
        created_by=team,
        function=name,
        memory_sizes=[128, 256],
        invocations_per_size=2,
        compare_architectures=True,
    )
    copy = TuningRun.objects.get(copy_of=run)
    run, copy = finished(run), finished(copy)
    assert (run.status, copy.status) == (RunStatus.SUCCEEDED, RunStatus.SUCCEEDED)

    # Each run's end is announced; both announcements have been handled.
    handled = re.compile(r"notify_run_task\[[0-9a-f-]+\] succeeded")
    wait_for(lambda: len(handled.findall(worker.log())) == 2, "both runs' notify tasks")
    wait_for(lambda: len(sent_mails(worker.mail_dir)) >= 2, "two e-mails", timeout=60)
    [request] = webhook_server.requests
    text = json.loads(request["body"])["text"]
    assert text.startswith(f"Architecture comparison succeeded: {name}: {name} in us-east-1")
    assert "x86_64 and arm64 compared" in text and "is cheapest across both" in text
    assert f"{BASE}/runs/{run.pk}/" in text and str(copy.pk) not in text
    assert sorted(m["To"] for m in sent_mails(worker.mail_dir)) == [
        "ana@example.com",
        "payments@example.com",
    ]
    assert [n.key for n in Notification.objects.all()] == [f"run:{run.pk}"]
