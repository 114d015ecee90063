"""Executor batches store their invocations in batches (tuning.engine.recording): every
invocation recorded exactly once with counters that match the rows, far fewer INSERT
transactions than invocations, and nothing lost or doubled when a worker dies mid-batch.

PostgreSQL only: rows inserted by one transaction share its id (the ``xmin`` system column),
so the distinct ``xmin`` of a run's rows count the transactions that inserted them.
"""

import time
from collections import Counter

import pytest
from django.db import connection

from tests.integration.test_sweep import reap_until_final, wait_finished, wait_for
from tests.tuning.runfactory import start_run
from tuning.engine.publish import plan_batches
from tuning.models import Invocation, RunStatus, TuningRun

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def insert_transactions(run) -> int:
    if connection.vendor != "postgresql":
        pytest.skip("counts transactions by PostgreSQL's xmin")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT xmin::text) FROM tuning_invocation WHERE run_id = %s",
            [str(run.pk)],
        )
        return cursor.fetchone()[0]


def test_every_invocation_is_recorded_once_with_counters_matching_the_rows(
    sandbox, start_celery_worker
):
    worker = start_celery_worker(concurrency=2)
    run = start_run(
        function="tuneboard-flaky",
        memory_sizes=[128, 256],
        invocations_per_size=30,
        payload={"failure_rate": 0.3},
        allowed_exceptions=["FlakyError"],
        parallel=True,
        concurrency=8,
    )
    run = wait_finished(run, worker=worker)

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert run.invocations_done == 60
    for result in run.results.all():
        rows = list(Invocation.objects.filter(result=result))
        assert sorted(row.sequence for row in rows) == list(range(30))
        errors = sum(1 for row in rows if row.error_type)
        assert 0 < errors < 30  # some of each, so the error counters are really tested
        assert result.invocations_done == 30
        assert result.errors == errors
        assert result.allowed_errors == errors
        assert result.cold_starts == sum(1 for row in rows if row.cold_start)


def test_a_sweep_inserts_its_invocations_in_a_few_transactions(sandbox, start_celery_worker):
    # Flushes by count only (the interval is longer than the sweep): every flush but a
    # batch's last stores at least 10 rows, whatever the machine's speed.
    worker = start_celery_worker(
        concurrency=2,
        env={"TUNEBOARD_RECORD_FLUSH_ROWS": "10", "TUNEBOARD_RECORD_FLUSH_MS": "600000"},
    )
    run = start_run(
        function="tuneboard-io",
        memory_sizes=[128, 256],
        invocations_per_size=40,
        payload={"wait_s": 0.02},
        parallel=True,
        concurrency=8,
    )
    run = wait_finished(run, worker=worker)

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert Invocation.objects.filter(run=run).count() == 80
    batches = plan_batches(run)  # (start, count) of each size's batches
    at_most = len(run.memory_sizes) * sum(count // 10 + 1 for _start, count in batches)
    assert insert_transactions(run) <= at_most < 80 / 4


def other_connections() -> int:
    """Connections to the test database besides this one (the worker's)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_a_parallel_sweep_holds_a_database_connection_per_lane_and_leaves_none_open(
    sandbox, start_celery_worker
):
    """Each invoking thread closes its connection when it ends: a closed thread's connection
    otherwise stays open until the garbage collector finds it, and a big sweep on a few worker
    processes ran PostgreSQL out of connections ("too many clients")."""
    if connection.vendor != "postgresql":
        pytest.skip("counts PostgreSQL's connections")
    processes = 2
    worker = start_celery_worker(concurrency=processes)
    run = start_run(
        function="tuneboard-io",
        memory_sizes=[128, 256, 512],
        invocations_per_size=200,
        payload={"wait_s": 0.02},
        parallel=True,
        concurrency=16,
    )
    most = 0
    while TuningRun.objects.filter(pk=run.pk, status__in=["PENDING", "RUNNING"]).exists():
        most = max(most, other_connections())
        time.sleep(0.05)
    run = wait_finished(run, worker=worker)

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    # The lanes (one per concurrency slot) and, per process, its task, heartbeat and recorder.
    assert most <= run.concurrency + 3 * processes + 1
    assert other_connections() <= processes + 1


def test_a_worker_killed_with_unstored_invocations_leaves_no_gap_and_no_duplicate(
    sandbox, start_celery_worker
):
    # Serial: one batch of 60 sequences, stored every 5; the kill comes after the first
    # store, while later outcomes wait in the dead worker's buffer (never committed).
    flush = {"TUNEBOARD_RECORD_FLUSH_ROWS": "5", "TUNEBOARD_RECORD_FLUSH_MS": "600000"}
    stale = {"TUNEBOARD_STALE_RUN_SECONDS": "2"}
    first = start_celery_worker(concurrency=1, env={**flush, **stale})
    invoked_before = sandbox.stats()["invocations"]
    run = start_run(
        function="tuneboard-io",
        memory_sizes=[128],
        invocations_per_size=60,
        payload={"wait_s": 0.05},
    )
    wait_for(lambda: Invocation.objects.filter(run=run).count() >= 5, "the first store", 120)
    first.kill()
    stored_when_killed = Invocation.objects.filter(run=run).count()
    assert stored_when_killed < 60

    start_celery_worker(concurrency=1, env={**flush, **stale})
    run = reap_until_final(run)

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    sequences = Counter(Invocation.objects.filter(run=run).values_list("sequence", flat=True))
    assert sorted(sequences) == list(range(60))  # no gap
    assert set(sequences.values()) == {1}  # no duplicate
    result = run.results.get()
    assert result.invocations_done == run.invocations_done == 60
    # What the dead worker had not stored was invoked again, never recorded twice.
    assert sandbox.stats()["invocations"] - invoked_before >= 60
