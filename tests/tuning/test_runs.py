"""Starting, refusing, cancelling and re-running runs; payload shares, batch plans and the run's
state transitions.

No AWS here: start_run only writes rows and enqueues on commit (which a rolled-back test
transaction never reaches); the worker side is covered by tests/integration/test_sweep.py.
"""

import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import OperationalError, transaction
from django.utils import timezone

from aws.models import AwsAccount
from tests.tuning.runfactory import make_run, start_run
from tuning import runs
from tuning.engine.execute import batch_lease_seconds, batch_threads, payload_plan
from tuning.engine.liveness import Heartbeat
from tuning.engine.publish import plan_batches
from tuning.models import (
    BatchLease,
    Phase,
    PowerResult,
    ResultStatus,
    RunStatus,
    SweepRefused,
    TuningRun,
)
from tuning.params import InvalidSweep

pytestmark = pytest.mark.django_db


def start(**overrides):
    params = {"function": "tuneboard-cpu", "memory_sizes": [128, 512], "invocations_per_size": 5}
    params.update(overrides)
    return start_run(**params)


def test_start_run_creates_a_pending_run_with_sorted_unique_sizes_and_one_row_per_size():
    run = start(memory_sizes=[1024, 128, "512", 1024])
    assert run.status == RunStatus.PENDING
    assert run.phase == Phase.QUEUED
    assert run.memory_sizes == [128, 512, 1024]
    assert list(run.results.values_list("memory_mb", flat=True)) == [128, 512, 1024]
    assert run.invocations_total == 15
    assert run.function_key == "-:us-east-1:tuneboard-cpu"
    assert run.progress == {"done": 0, "total": 15, "percent": 0}


def test_start_run_enqueues_the_sweep_only_when_the_transaction_commits(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks() as callbacks:
        start()
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"memory_sizes": []}, "at least one memory size"),
        ({"memory_sizes": [64]}, "64 MB is below Lambda's minimum of 128 MB"),
        ({"memory_sizes": [128, 20000]}, "20000 MB is above Lambda's maximum of 10240 MB"),
        ({"memory_sizes": [128.5]}, "“128.5” is not a whole number of MB"),
        ({"invocations_per_size": 0}, "Invocations per size must be between 1 and 1000"),
        ({"function": "not a function!"}, "is not a Lambda function name or ARN"),
        ({"strategy": "cheapest"}, "Unknown strategy 'cheapest'"),
        ({"balanced_weight": 1.5}, "Balanced weight must be between 0 and 1"),
        ({"discard_fraction": 0.5}, "Discard fraction must be between 0 and 0.4"),
        ({"region": "mars-north-1"}, "'mars-north-1' is not an AWS region where Lambda runs"),
        ({"parallel": True, "concurrency": 0}, "Concurrency cap must be between 1 and 1000"),
        ({"payload": {"when": object()}}, "Payload must be JSON"),
        ({"auto_apply_target": "42"}, "must be $LATEST or an alias name"),
        (
            {"weighted_payloads": [{"payload": {}, "weight": 1}] * 6},
            "6 weighted payloads need at least 6 invocations per size",
        ),
        ({"weighted_payloads": [{"payload": {}, "weight": 0}]}, "must be greater than 0"),
        (
            {"function": "arn:aws:lambda:eu-west-1:123456789012:function:f", "region": "us-east-1"},
            "The ARN is in region eu-west-1, not us-east-1",
        ),
    ],
)
def test_start_run_refuses_bad_input_with_a_clear_message(overrides, message):
    with pytest.raises(ValueError) as raised:
        start(**overrides)
    assert message in str(raised.value)
    assert not TuningRun.objects.exists()


def test_a_qualified_arn_gives_the_name_qualifier_and_region():
    run = start(function="arn:aws:lambda:eu-west-1:123456789012:function:orders:prod")
    assert (run.function_name, run.qualifier, run.region) == ("orders", "prod", "eu-west-1")
    # Keyed on the function's ARN at once; a bare name only until the worker resolves it.
    assert run.function_key == "arn:aws:lambda:eu-west-1:123456789012:function:orders"


def test_a_second_active_sweep_of_the_same_function_is_refused_and_names_who_started_the_first():
    alice = get_user_model().objects.create_user("alice")
    start(created_by=alice)
    with pytest.raises(SweepRefused) as refused:
        start(function="tuneboard-cpu:live", memory_sizes=[256])
    assert "tuneboard-cpu already has an active sweep (started" in str(refused.value)
    assert "by alice" in str(refused.value)
    assert TuningRun.objects.count() == 1


def test_the_same_function_name_in_another_account_or_region_is_not_refused():
    account = AwsAccount.objects.create(name="staging")
    start()
    start(region="eu-west-1")
    start(account=account)
    assert TuningRun.objects.count() == 3


def test_a_finished_sweep_no_longer_blocks_the_function():
    first = start()
    TuningRun.objects.filter(pk=first.pk).update(status=RunStatus.SUCCEEDED)
    assert start().status == RunStatus.PENDING


def test_the_refusal_is_raised_inside_an_outer_transaction_without_breaking_it():
    start()
    with transaction.atomic():
        with pytest.raises(SweepRefused):
            start()
        assert TuningRun.objects.count() == 1  # the outer transaction is still usable


def test_cancelling_a_pending_run_cancels_it_at_once():
    user = get_user_model().objects.create_user("bob")
    run = start()
    runs.request_cancel(run, user)
    assert run.status == RunStatus.CANCELLED
    assert run.error_message == "Cancelled by bob."
    assert set(run.results.values_list("status", flat=True)) == {ResultStatus.CANCELLED}
    assert start().status == RunStatus.PENDING  # the function is free again


def test_rerun_starts_a_new_run_with_the_same_parameters():
    run = start(parallel=True, concurrency=3, strategy="balanced", balanced_weight=0.3)
    TuningRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED)
    admin = get_user_model().objects.create_superuser("ada")
    again = runs.rerun(run, admin)
    assert again.created_by == admin
    assert again.pk != run.pk
    for field in ("function_arn", "memory_sizes", "parallel", "concurrency", "strategy"):
        assert getattr(again, field) == getattr(run, field)
    assert again.balanced_weight == 0.3


def test_weighted_payloads_get_their_share_of_the_invocations_interleaved():
    plan = payload_plan(10, [{"payload": "a", "weight": 3}, {"payload": "b", "weight": 1}])
    assert len(plan) == 10
    assert plan.count(0) == 7 or plan.count(0) == 8
    assert plan.count(0) + plan.count(1) == 10
    assert plan[:4] != [0, 0, 0, 0] or plan[4:8] != [0, 0, 0, 0]  # spread, not grouped
    # Every payload runs at least once, however small its weight.
    rare = payload_plan(3, [{"payload": 1, "weight": 100}, {"payload": 2, "weight": 0.01}])
    assert sorted(rare) == [0, 0, 1]


def test_without_weighted_payloads_every_invocation_uses_the_single_payload():
    assert payload_plan(4, []) == [0, 0, 0, 0]


def test_serial_runs_use_one_executor_task_per_size_and_parallel_runs_split_into_batches():
    serial = start(invocations_per_size=50)
    assert plan_batches(serial) == [(0, 50)]
    parallel = start(function="f2", invocations_per_size=50, parallel=True, concurrency=10)
    assert plan_batches(parallel) == [(0, 20), (20, 20), (40, 10)]


def test_a_high_concurrency_cap_fans_out_into_batches_of_at_most_sixteen_threads():
    run = start(function="f3", invocations_per_size=100, parallel=True, concurrency=100)
    assert batch_threads(run) == 16
    assert plan_batches(run) == [(0, 32), (32, 32), (64, 32), (96, 4)]
    assert batch_threads(start(function="f4", parallel=True, concurrency=3)) == 3
    assert batch_threads(start(function="f5", concurrency=100)) == 1  # serial


def test_only_one_worker_can_claim_a_pending_run():
    run = start()
    other = TuningRun.objects.get(pk=run.pk)
    assert run.claim_start() is True
    assert other.claim_start() is False
    run.refresh_from_db()
    assert (run.status, run.phase) == (RunStatus.RUNNING, Phase.PUBLISHING)


def test_a_run_is_finished_only_when_every_size_is_closed_and_only_once():
    run = start()
    run.claim_start()
    assert run.mark_published()
    assert run.claim_finish() is False  # both sizes still open
    run.results.update(status=ResultStatus.SUCCEEDED)
    assert TuningRun.objects.get(pk=run.pk).claim_finish() is True
    assert TuningRun.objects.get(pk=run.pk).claim_finish() is False


def test_a_cancel_request_keeps_the_finisher_away():
    run = start()
    run.claim_start()
    run.mark_published()
    run.results.update(status=ResultStatus.SUCCEEDED)
    TuningRun.objects.filter(pk=run.pk).update(cancel_requested=True)
    assert run.claim_finish() is False


def test_a_redelivered_batch_counts_once_towards_completing_its_size():
    run = start()
    result = run.results.get(memory_mb=128)
    PowerResult.objects.filter(pk=result.pk).update(batches_total=2)
    assert result.complete_batch(0) is False
    assert result.complete_batch(0) is False  # the same batch again
    assert result.complete_batch(1) is True


def test_the_first_stop_reason_wins():
    run = start()
    run.claim_start()
    assert run.request_stop("Access denied: ...") is True
    assert TuningRun.objects.get(pk=run.pk).request_stop("later problem") is False
    run.refresh_from_db()
    assert run.stop_reason == "Access denied: ..."


def lease_of(result, batch: int, holder: str) -> BatchLease:
    assert BatchLease.acquire(result, batch, holder, 60) == 0
    return BatchLease.objects.get(result=result, batch=batch)


def test_the_concurrency_slots_never_exceed_the_cap():
    run = start(parallel=True, concurrency=5)
    first, second = (lease_of(result, 0, "holder") for result in run.results.all())
    assert run.acquire_slots(first, 3) == 3
    assert run.acquire_slots(second, 3) == 2  # what is left
    assert run.acquire_slots(first, 1) == 0
    run.release_slots(first, 2)
    assert run.acquire_slots(second, 4) == 2
    assert run.slots_in_use() == 5
    run.release_slots(first, 9)  # never below zero
    assert run.slots_in_use() == 4


def test_a_dead_holders_slots_come_free_when_its_lease_runs_out():
    """A worker killed mid-sweep never gives its slots back: the batches after it waited on
    them for ever while their own heartbeat kept the run from being reaped."""
    run = start(parallel=True, concurrency=4)
    dead, alive = (lease_of(result, 0, "holder") for result in run.results.all())
    assert run.acquire_slots(dead, 4) == 4
    assert run.acquire_slots(alive, 2) == 0
    BatchLease.objects.filter(pk=dead.pk).update(expires_at=timezone.now())
    assert run.acquire_slots(alive, 2) == 2
    # The batch taken over by another execution starts with none of the dead holder's slots.
    assert BatchLease.acquire(dead.result, 0, "next execution", 60) == 0
    assert BatchLease.objects.get(pk=dead.pk).slots == 0
    assert run.slots_in_use() == 2


def run_with_cleanup_pending(function="tuneboard-cpu"):
    """A run whose cleanup left an alias behind (the engine's own transitions)."""
    run = make_run(function=function, status="RUNNING")
    assert run.claim_cleanup(from_phases=[Phase.PUBLISHING])
    assert run.finish(RunStatus.FAILED, "Cleanup pending.", left="1 alias (AccessDenied)")
    return run


def test_a_run_whose_cleanup_is_pending_keeps_its_function_until_resolved():
    earlier = run_with_cleanup_pending()
    assert earlier.owns_function and earlier.cleanup_attempts == 1
    with pytest.raises(SweepRefused) as refused:
        start()
    assert "the cleanup of an earlier sweep" in str(refused.value)
    assert "1 alias (AccessDenied)" in str(refused.value)
    # The database refuses a second owner whatever the web side checked.
    other = make_run(function="other-fn", status="RUNNING")
    with pytest.raises(SweepRefused):
        other.take_ownership(earlier.function_key)

    reviewer = get_user_model().objects.create_user("rita")
    with pytest.raises(PermissionDenied):
        runs.resolve_cleanup(earlier, reviewer)
    reviewer.user_permissions.add(Permission.objects.get(codename="change_tuningrun"))
    reviewer = get_user_model().objects.get(pk=reviewer.pk)
    runs.resolve_cleanup(earlier, reviewer)
    earlier.refresh_from_db()
    assert not earlier.owns_function
    assert "Cleanup marked resolved by rita" in earlier.error_message
    assert "was pending: 1 alias (AccessDenied)" in earlier.error_message
    assert start().status == RunStatus.PENDING


def test_a_cleanup_retry_that_leaves_something_waits_longer_each_time(monkeypatch):
    monkeypatch.setattr("aws.retry.random.random", lambda: 1.0)  # no jitter: the full delay
    run = run_with_cleanup_pending()
    assert not run.claim_cleanup_retry(60)  # not due yet
    TuningRun.objects.filter(pk=run.pk).update(cleanup_retry_at=timezone.now())
    assert run.claim_cleanup_retry(60)
    assert not run.claim_cleanup_retry(60)  # taken: another reaper leaves it alone

    def retry_leaving_something():
        before = timezone.now()
        run.record_cleanup_retry("1 alias (AccessDenied)")
        run.refresh_from_db()
        return before, timezone.now()

    # Exponential backoff from 1 min: 2 min after the 2nd attempt, 4 min after the 3rd.
    for attempts, wait in ((2, 120), (3, 240)):
        before, after = retry_leaving_something()
        assert run.cleanup_attempts == attempts and run.owns_function
        due = timedelta(seconds=wait)
        assert before + due <= run.cleanup_retry_at <= after + due
    run.record_cleanup_retry("")
    run.refresh_from_db()
    assert not run.owns_function and run.cleanup_retry_at is None
    assert run.error_message.endswith("Cleanup completed on attempt 4.")


def test_a_resolved_function_is_refused_by_name_while_its_run_is_active():
    active = make_run(function="tuneboard-io", status="RUNNING")
    assert active.function_key.startswith("arn:")
    with pytest.raises(SweepRefused) as refused:
        start(function="tuneboard-io")
    assert "tuneboard-io already has an active sweep" in str(refused.value)


def test_a_batch_lease_has_one_holder_until_released_or_expired():
    run = start()
    result = run.results.first()
    assert BatchLease.acquire(result, 0, "first", 60) == 0
    assert BatchLease.acquire(result, 0, "first", 60) == 0  # the holder renews by acquiring
    waiting = BatchLease.acquire(result, 0, "copy", 60)
    assert 0 < waiting <= 60
    assert BatchLease.acquire(result, 1, "copy", 60) == 0  # other batches are free
    BatchLease.objects.filter(result=result, batch=0).update(expires_at=timezone.now())
    assert BatchLease.acquire(result, 0, "copy", 60) == 0  # the first holder died: taken over
    BatchLease.release(result, 0, "first")  # no longer its lease: nothing happens
    assert BatchLease.acquire(result, 0, "first", 60) > 0
    BatchLease.release(result, 0, "copy")
    assert BatchLease.acquire(result, 0, "first", 60) == 0


@pytest.mark.parametrize(("stale_seconds", "lease_seconds"), [(120, 60), (20, 30), (2, 10)])
def test_a_batch_lease_outlives_six_missed_beats_and_ten_seconds(
    settings, stale_seconds, lease_seconds
):
    settings.TUNEBOARD_STALE_RUN_SECONDS = stale_seconds
    assert batch_lease_seconds() == lease_seconds


def test_a_failed_beat_does_not_stop_the_heartbeat(settings):
    """A database restart makes one beat fail; the next beats still renew (the run and its
    batch lease would otherwise go stale while the work goes on)."""
    settings.TUNEBOARD_STALE_RUN_SECONDS = 1  # a beat every 0.25 s
    beats = []

    def renew():
        beats.append(time.monotonic())
        if len(beats) == 1:
            raise OperationalError("server closed the connection unexpectedly")

    with Heartbeat(start().id, always=True, also=renew):
        deadline = time.monotonic() + 60
        while len(beats) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(beats) >= 3


def test_only_functions_on_the_accounts_allow_list_can_be_swept(settings):
    AwsAccount.objects.create(name="prod", allowed_functions="orders-*\n*-staging")
    with pytest.raises(InvalidSweep) as refused:
        start(function="tuneboard-io", account="prod")
    assert refused.value.field == "function"
    assert "not among the functions account 'prod' may sweep (orders-*, *-staging)" in str(
        refused.value
    )
    assert start(function="orders-api", account="prod").status == RunStatus.PENDING
    assert start(function="search-staging", account="prod").status == RunStatus.PENDING

    settings.TUNEBOARD_ALLOWED_FUNCTIONS = ["tuneboard-*"]  # the workers' own credentials
    with pytest.raises(InvalidSweep, match="TUNEBOARD_ALLOWED_FUNCTIONS"):
        start(function="orders-api")
    assert start(function="tuneboard-io").status == RunStatus.PENDING


def test_cold_starts_mode_is_capped_in_versions_per_run(settings):
    settings.TUNEBOARD_MAX_COLD_START_VERSIONS = 10
    with pytest.raises(InvalidSweep) as refused:
        start(cold_starts_only=True, memory_sizes=[128, 256], invocations_per_size=6)
    assert refused.value.field == "invocations_per_size"
    assert "2 sizes × 6 = 12 versions, more than the 10" in str(refused.value)
    assert start(cold_starts_only=True, memory_sizes=[128, 256], invocations_per_size=5)


def test_parallel_sweeps_are_capped_per_account(settings):
    AwsAccount.objects.create(name="prod", max_concurrency=10)
    with pytest.raises(InvalidSweep) as refused:
        start(account="prod", parallel=True, concurrency=20)
    assert refused.value.field == "concurrency"
    assert "At most 10 invocations at once for a sweep in account 'prod'" in str(refused.value)
    settings.TUNEBOARD_MAX_CONCURRENCY = 4  # the workers' own credentials
    with pytest.raises(InvalidSweep, match="At most 4 invocations at once"):
        start(parallel=True, concurrency=5)


def test_a_sweep_may_not_ask_for_more_than_the_accounts_unreserved_concurrency(stubbed):
    cache.clear()
    limits = {"ConcurrentExecutions": 100, "UnreservedConcurrentExecutions": 30}
    stubbed().add_response("get_account_settings", {"AccountLimit": limits})
    with pytest.raises(InvalidSweep) as refused:
        start(parallel=True, concurrency=50)
    assert refused.value.field == "concurrency"
    assert "30 unreserved concurrent executions in us-east-1" in str(refused.value)
    assert start(parallel=True, concurrency=30).status == RunStatus.PENDING  # cached answer
    cache.clear()
