"""An architecture comparison (the run on the function and its companion run on a temporary
copy) ends with one notification, once both runs are final: the recommendation across both
architectures and a link to the run on the function."""

from __future__ import annotations

import pytest
from django.core import mail

from dashboard.templatetags.units import format_pct
from notifications.models import Event, Notification
from tests.tuning.runfactory import SANDBOX_ACCOUNT, make_comparison
from tuning import runs
from tuning.models import RunStatus, TuningRun
from tuning.params import SweepParams
from tuning.signals import announce_finished

pytestmark = pytest.mark.django_db

BASE = "https://tuneboard.example.com"


def test_a_comparison_is_told_once_when_its_second_run_ends_with_the_pick_across_both(
    team, webhook_server, eager_tasks, settings
):
    settings.TUNEBOARD_BASE_URL = BASE
    user, _ = team
    run, copy = make_comparison(user=user)
    # The copy's run ended first: nothing is sent while the run on the function goes on.
    TuningRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
    with eager_tasks():
        announce_finished(copy)
    assert webhook_server.posts() == [] and mail.outbox == []
    assert not Notification.objects.exists()

    TuningRun.objects.filter(pk=run.pk).update(status=RunStatus.SUCCEEDED)
    run.refresh_from_db()
    with eager_tasks():
        announce_finished(run)
        announce_finished(copy)  # announced again: still one notification

    [body] = webhook_server.posts()
    assert [n.key for n in Notification.objects.all()] == [f"run:{run.pk}"]
    pick = run.architecture_comparison()["recommendation"]["cost"]
    own = pick["original"]
    # Same durations on both: arm64's lower price makes it cheaper at the same size.
    assert (pick["architecture"], own["architecture"]) == ("arm64", "x86_64")
    assert pick["memory_mb"] == own["memory_mb"]
    assert body["blocks"][0]["text"]["text"] == "Architecture comparison succeeded: orders"
    text = body["text"]
    assert text.startswith(
        "Architecture comparison succeeded: orders: orders in us-east-1, 128 MB, 512 MB, "
        "1024 MB: x86_64 and arm64 compared, succeeded. "
        f"arm64 at {pick['memory_mb']} MB ($"
    ), text
    assert "is cheapest across both. Best on the function's own architecture: x86_64 at " in text
    assert f"the pick across both changes cost {format_pct(pick['cost_change'])}, duration" in text
    assert text.endswith(f" {BASE}/runs/{run.pk}/")  # the run on the function, not the copy's
    assert str(copy.pk) not in text and copy.copy_function not in text
    assert sorted(m.to[0] for m in mail.outbox) == ["ana@example.com", "payments@example.com"]
    assert {m.subject for m in mail.outbox} == {
        "[Tuneboard] Architecture comparison succeeded: orders"
    }


def test_a_failed_copy_fails_the_comparison_and_says_only_the_class_of_its_error(
    team, webhook_server, eager_tasks
):
    user, settings_row = team
    settings_row.events = [Event.SWEEP_FAILED]  # a team told of failures only
    settings_row.save()
    reason = f"CreateFunction kept throttling (Rate exceeded) for arn:aws:iam::{SANDBOX_ACCOUNT}:x"
    run, copy = make_comparison(user=user, copy_status="FAILED", error_message=reason)
    TuningRun.objects.filter(pk=run.pk).update(error_message="")
    run.refresh_from_db()
    with eager_tasks():
        announce_finished(run)
        announce_finished(copy)

    [body] = webhook_server.posts()
    assert body["text"].startswith("Architecture comparison failed: orders: ")
    assert "The copy's run failed: throttled." in body["text"], body["text"]
    assert "The function's run failed" not in body["text"]
    assert SANDBOX_ACCOUNT not in body["text"] and "arn:" not in body["text"]
    assert Notification.objects.get().event == Event.SWEEP_FAILED


def test_cancelling_a_pending_comparison_is_told_once(team, webhook_server, eager_tasks):
    user, _ = team
    params = SweepParams.parse(
        {"function": "orders", "memory_sizes": [128, 512], "compare_architectures": True}
    )
    run = runs.start_run(params, created_by=user)
    with eager_tasks():
        runs.request_cancel(run, user)  # cancels both runs; each announces its end

    assert TuningRun.objects.filter(status=RunStatus.CANCELLED).count() == 2
    [body] = webhook_server.posts()
    assert body["text"].startswith("Architecture comparison cancelled: orders: orders in us-east-1")
    assert [n.key for n in Notification.objects.all()] == [f"run:{run.pk}"]
    assert len(mail.outbox) == 2  # creator + team address, once each
