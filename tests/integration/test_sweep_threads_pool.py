"""A worker process with a thread pool (``celery worker -P threads -c N``) runs N batches at
once: a batch mostly waits on Lambda, so one process reaches a run's concurrency cap, where a
prefork process runs one batch (at most 16 invocations) at a time. Same guarantees as prefork:
every invocation recorded once, the function left as found, a killed worker's run resumed."""

from collections import Counter

import pytest

from tests.integration.test_sweep import (
    FINISHED,
    function_state,
    leftovers_of,
    reap_until_final,
    wait_for,
)
from tests.tuning.runfactory import start_run
from tuning.engine.execute import MAX_THREADS_PER_BATCH
from tuning.models import BatchLease, Invocation, Phase, RunStatus

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def most_in_flight_until_finished(sandbox, run, worker) -> int:
    """The most invocations the sandbox had in progress at once until the run ended."""
    most = 0

    def sample() -> bool:
        nonlocal most
        most = max(most, sandbox.stats()["in_flight"])
        run.refresh_from_db()
        return run.status in FINISHED

    try:
        wait_for(sample, f"run {run.id} to finish", every=0.02)
    except pytest.fail.Exception:
        print(worker.log()[-6000:])
        raise
    return most


def test_one_threaded_worker_process_runs_batches_side_by_side_and_leaves_the_function_as_found(
    sandbox, start_celery_worker, lambda_client
):
    before = function_state(lambda_client, "tuneboard-io")
    worker = start_celery_worker(concurrency=4, pool="threads")
    # Large sizes: few environments start (the sandbox runs 3 at 1024 MB and 2 at 1536 MB at
    # once; the other calls wait in flight), each with enough CPU to start within the
    # function's 10 s timeout on a busy machine (32 at 128 MB did not).
    run = start_run(
        function="tuneboard-io",
        memory_sizes=[1024, 1536],
        invocations_per_size=64,  # 2 batches of 32 per size
        payload={"wait_s": 0.02},
        parallel=True,
        concurrency=2 * MAX_THREADS_PER_BATCH,
    )
    most = most_in_flight_until_finished(sandbox, run, worker)

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    # More than one batch's threads at once: two batches ran side by side in the one process.
    assert MAX_THREADS_PER_BATCH < most <= run.concurrency
    sequences = Counter(Invocation.objects.filter(run=run).values_list("result_id", "sequence"))
    assert len(sequences) == 2 * 64 and set(sequences.values()) == {1}
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}
    assert function_state(lambda_client, "tuneboard-io") == before


@pytest.mark.parametrize("pool", ["prefork", "threads"])
def test_a_worker_killed_mid_parallel_sweep_leaves_no_gap_no_duplicate_and_the_function_as_found(
    sandbox, start_celery_worker, lambda_client, pool
):
    """The killed worker's lanes held concurrency slots: they come free with its leases, so
    the batches the next worker takes do not wait on them for ever (they did while their
    lease, renewed at each heartbeat, kept the reaper from resuming the run)."""
    before = function_state(lambda_client, "tuneboard-io")
    worker = {"concurrency": 2, "pool": pool, "env": {"TUNEBOARD_STALE_RUN_SECONDS": "2"}}
    first = start_celery_worker(**worker)
    run = start_run(
        function="tuneboard-io",
        memory_sizes=[512, 1024],  # environments that start well within the 10 s timeout
        invocations_per_size=120,  # 6 batches of 20 per size
        payload={"wait_s": 0.1},
        parallel=True,
        concurrency=10,
    )

    def every_slot_held() -> bool:
        run.refresh_from_db()
        return run.phase == Phase.INVOKING and run.slots_in_use() == run.concurrency

    wait_for(every_slot_held, "every size published and every slot held", 120, every=0.01)
    first.kill()  # while its lanes hold every slot and more batches wait in the queue
    dead_holders = set(BatchLease.objects.values_list("holder", flat=True))

    fresh = start_celery_worker(**worker)
    # The next worker takes a queued batch before the reaper sees the run stale, as any other
    # worker process would in production: the batch waits for the dead lanes' slots.
    wait_for(
        lambda: BatchLease.objects.exclude(holder__in=dead_holders).exists(),
        "the next worker to take a queued batch",
        120,
        every=0.02,
    )
    try:
        run = reap_until_final(run)
    except pytest.fail.Exception:
        print(fresh.log()[-6000:])
        raise

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    sequences = Counter(Invocation.objects.filter(run=run).values_list("result_id", "sequence"))
    assert len(sequences) == 2 * 120 and set(sequences.values()) == {1}
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}
    assert function_state(lambda_client, "tuneboard-io") == before
