"""Sweeps end to end: a real Celery worker process, Redis, PostgreSQL and the sandbox.

The sandbox runs real Python handlers with CPU shares proportional to memory. Invocation
counts and work per call are kept small so the file runs in a few minutes on 2 cores.
"""

import io
import json
import time
import zipfile

import pytest

from sandbox.seed_functions import build_zip
from tests.tuning.runfactory import start_run
from tuning import runs
from tuning.models import Invocation, Phase, ResultStatus, RunStatus, SweepRefused, TuningRun
from tuning.serializers import run_to_dict

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

#: tuneboard-cpu work per call: ~36 ms on a full vCPU, ~0.5 s at 128 MB.
LIGHT_CPU = {"iterations": 100_000}
#: ~110 ms on a full vCPU: longer than the 100 ms CPU-quota period, so the share shows.
MEASURABLE_CPU = {"iterations": 300_000}
FINISHED = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)


def wait_for(predicate, what: str, timeout: float = 240.0, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out waiting for {what}")


def wait_finished(run, timeout: float = 240.0, worker=None) -> TuningRun:
    def finished():
        run.refresh_from_db()
        return run.status in FINISHED

    try:
        wait_for(finished, f"run {run.id} to finish", timeout)
    except pytest.fail.Exception:
        if worker is not None:
            print(worker.log()[-6000:])
        raise
    return run


def function_state(lambda_client, name: str) -> dict:
    aliases = lambda_client.list_aliases(FunctionName=name)["Aliases"]
    versions = lambda_client.list_versions_by_function(FunctionName=name)["Versions"]
    config = lambda_client.get_function_configuration(FunctionName=name)
    return {
        "aliases": sorted(a["Name"] for a in aliases),
        "versions": sorted(v["Version"] for v in versions),
        "memory": config["MemorySize"],
        "environment": (config.get("Environment") or {}).get("Variables", {}),
        "code": config["CodeSha256"],
    }


def leftovers_of(run, lambda_client) -> dict:
    aliases = lambda_client.list_aliases(FunctionName=run.function_name)["Aliases"]
    versions = lambda_client.list_versions_by_function(FunctionName=run.function_name)["Versions"]
    return {
        "aliases": [a["Name"] for a in aliases if a["Name"].startswith(run.alias_prefix)],
        "versions": [
            v["Version"]
            for v in versions
            if (v.get("Description") or "").startswith(run.version_marker)
        ],
    }


@pytest.fixture
def worker(sandbox, start_celery_worker):
    """One worker with 4 processes; requested after the sandbox so it inherits its endpoints."""
    return start_celery_worker(concurrency=4)


def test_a_full_sweep_of_the_cpu_function_gets_faster_with_memory_and_leaves_nothing_behind(
    sandbox, start_celery_worker, lambda_client
):
    # One worker process: sizes are measured one after the other, so none competes with
    # another for this machine's 2 cores (two at once made 1769 MB look slower than 1024 MB).
    worker = start_celery_worker(concurrency=1)
    before = function_state(lambda_client, "tuneboard-cpu")
    run = start_run(
        function="tuneboard-cpu",
        memory_sizes=[3008, 128, 512, 1024, 1769, 512],
        invocations_per_size=3,
        payload=MEASURABLE_CPU,
        discard_fraction=0,
    )
    assert run.memory_sizes == [128, 512, 1024, 1769, 3008]
    run = wait_finished(run, worker=worker)

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert run.phase == Phase.DONE
    results = {r.memory_mb: r for r in run.results.all()}
    assert all(r.status == ResultStatus.SUCCEEDED for r in results.values())
    assert Invocation.objects.filter(run=run).count() == 15
    # CPU share grows with memory up to one vCPU at 1769 MB. Only pairs whose expected gap is
    # far outside the noise of a busy machine are compared: 128→512 MB and 512→1769 MB (≥ 3.4×).
    duration = {mb: r.avg_duration_ms for mb, r in results.items()}
    assert duration[128] > duration[512] > duration[1769], duration
    assert duration[512] > duration[3008], duration
    # Costs include the request fee and come from the billed durations.
    assert all(r.avg_cost_usd > 0 for r in results.values())
    assert run.best() is not None
    data = run_to_dict(run)
    assert set(data["recommendation"]) == {"cost", "speed", "balanced"}
    assert data["recommendation"]["speed"]["memory_mb"] in (1024, 1769, 3008)
    assert data["progress"] == {"done": 15, "total": 15, "percent": 100}
    # The worker builds the page's and the share page's figures right after the run is final.
    wait_for(lambda: run.figures.count() == 2, "the run's figures")
    assert all(len(figures.html) == 3 for figures in run.figures.all())

    after = function_state(lambda_client, "tuneboard-cpu")
    assert after == before  # no alias or version of the run left, $LATEST as it was
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}
    assert run.original_config["MemorySize"] == before["memory"]
    assert f"run={run.id}" in worker.log()  # structured logs carry the run id


def test_a_sweep_of_a_snapstart_function_waits_until_each_version_is_active(
    sandbox, worker, lambda_client, make_function
):
    """A new version of a SnapStart function is Pending until Lambda has made its snapshot,
    and invoking it meanwhile fails: the sweep waits before measuring it."""
    name = make_function(
        seeded="tuneboard-io",
        Runtime="python3.12",
        Timeout=10,
        SnapStart={"ApplyOn": "PublishedVersions"},
    )
    before = function_state(lambda_client, name)
    snap_start = lambda_client.get_function_configuration(FunctionName=name)["SnapStart"]
    invokes_before = sandbox.stats()["calls_by_operation"].get("Invoke", 0)
    run = start_run(function=name, memory_sizes=[128, 256], invocations_per_size=2)
    run = wait_finished(run, worker=worker)

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert Invocation.objects.filter(run=run, error_type="").count() == 4
    # Each Invoke call succeeded the first time: none was refused (and retried) because its
    # version was still Pending.
    assert sandbox.stats()["calls_by_operation"]["Invoke"] - invokes_before == 4
    assert function_state(lambda_client, name) == before
    assert lambda_client.get_function_configuration(FunctionName=name)["SnapStart"] == snap_start
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}


def test_the_memory_hungry_function_fails_at_128_mb_and_the_run_still_recommends_a_size(
    worker, lambda_client
):
    run = start_run(
        function="tuneboard-memory",
        memory_sizes=[128, 512, 1024],
        invocations_per_size=2,
        parallel=True,
        concurrency=4,
    )
    run = wait_finished(run, worker=worker)

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    results = {r.memory_mb: r for r in run.results.all()}
    assert results[128].status == ResultStatus.FAILED
    assert "Out of memory at 128 MB" in results[128].error_message
    assert results[512].status == ResultStatus.SUCCEEDED
    assert results[1024].status == ResultStatus.SUCCEEDED
    for strategy in ("cost", "speed", "balanced"):
        assert run.recommendation(strategy)["memory_mb"] in (512, 1024)
    assert run.analysis["failed_sizes"] == [128]
    assert function_state(lambda_client, "tuneboard-memory")["memory"] == 128
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}


def test_a_dry_run_invokes_each_size_once_measures_nothing_and_names_the_size_that_failed(
    worker, lambda_client, client, django_user_model
):
    before = function_state(lambda_client, "tuneboard-memory")
    run = start_run(function="tuneboard-memory", memory_sizes=[128, 512, 1024], dry_run=True)
    assert run.invocations_per_size == 1
    run = wait_finished(run, worker=worker)

    assert run.status == RunStatus.FAILED
    assert run.error_message.startswith("Dry run: 1 size(s) failed. 128 MB: Out of memory")
    assert Invocation.objects.filter(run=run).count() == 3
    results = {r.memory_mb: r for r in run.results.all()}
    assert results[512].status == results[1024].status == ResultStatus.SUCCEEDED
    assert all(r.avg_duration_ms is None for r in results.values())  # nothing measured
    assert run.recommendation() is None and not run.figures.exists()
    client.force_login(django_user_model.objects.create_user("viewer"))
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert 'id="dry-run-note"' in page and "dry run, 2 of 3 sizes answered" in page
    assert function_state(lambda_client, "tuneboard-memory") == before
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}


def test_a_second_sweep_of_the_same_function_is_refused_while_the_first_is_active(
    worker, lambda_client
):
    first = start_run(function="tuneboard-io", memory_sizes=[128, 256], invocations_per_size=2)
    with pytest.raises(SweepRefused) as refused:
        start_run(function="tuneboard-io", memory_sizes=[512], invocations_per_size=1)
    assert "tuneboard-io already has an active sweep (started" in str(refused.value)
    assert TuningRun.objects.filter(function_name="tuneboard-io").count() == 1
    wait_finished(first, worker=worker)
    assert first.status == RunStatus.SUCCEEDED, first.error_message
    # Once finished, the function can be swept again.
    second = start_run(function="tuneboard-io", memory_sizes=[512], invocations_per_size=1)
    assert wait_finished(second, worker=worker).status == RunStatus.SUCCEEDED


def test_a_throttled_parallel_sweep_records_every_invocation_eventually(
    sandbox, worker, lambda_client
):
    run = start_run(
        function="tuneboard-io",
        memory_sizes=[128, 256, 512],
        invocations_per_size=8,
        parallel=True,
        concurrency=10,
    )
    # Other functions take the account's concurrency after the sweep was accepted (it is
    # refused up front when it asks for more than is unreserved).
    previous = sandbox.configure(concurrency_limit=2)
    try:
        run = wait_finished(run, worker=worker)
        throttled = sandbox.stats()["throttled"]
    finally:
        sandbox.configure(**previous)

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert throttled > 0  # the sandbox really refused some calls
    assert Invocation.objects.filter(run=run).count() == 24
    assert Invocation.objects.filter(run=run).exclude(error_type="").count() == 0
    assert sorted(
        Invocation.objects.filter(run=run, memory_mb=256).values_list("sequence", flat=True)
    ) == list(range(8))
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}


def test_cancelling_mid_sweep_stops_invoking_and_cleans_up(worker, lambda_client):
    before = function_state(lambda_client, "tuneboard-cpu")
    run = start_run(
        function="tuneboard-cpu",
        memory_sizes=[128, 256],
        invocations_per_size=40,
        payload=LIGHT_CPU,
    )
    wait_for(lambda: Invocation.objects.filter(run=run).count() >= 2, "the first invocations", 120)
    runs.request_cancel(run)
    run = wait_finished(run, worker=worker)

    assert run.status == RunStatus.CANCELLED
    assert Invocation.objects.filter(run=run).count() < 80
    assert set(run.results.values_list("status", flat=True)) == {ResultStatus.CANCELLED}
    assert function_state(lambda_client, "tuneboard-cpu") == before
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}


def test_a_code_change_mid_sweep_stops_the_run_with_that_reason(worker, lambda_client):
    run = start_run(
        function="tuneboard-cpu",
        memory_sizes=[128, 256],
        invocations_per_size=40,
        payload=LIGHT_CPU,
    )
    wait_for(lambda: Invocation.objects.filter(run=run).count() >= 2, "invocations", 120)
    try:
        deploy(lambda_client, "tuneboard-cpu", changed_code("tuneboard-cpu"))
        run = wait_finished(run, worker=worker)
        assert run.status == RunStatus.FAILED
        assert "code changed during the sweep" in run.error_message
        assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}
        assert function_state(lambda_client, "tuneboard-cpu")["memory"] == 128
    finally:
        deploy(lambda_client, "tuneboard-cpu", build_zip("tuneboard-cpu"))


def changed_code(function: str) -> bytes:
    """The function's deployment package with one more line in handler.py."""
    changed = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(build_zip(function))) as source,
        zipfile.ZipFile(changed, "w") as target,
    ):
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "handler.py":
                data += b"\n# a new deployment\n"
            target.writestr(item, data)
    return changed.getvalue()


def deploy(lambda_client, function: str, code: bytes) -> None:
    """UpdateFunctionCode, retried while a sweep's own configuration update is in progress."""
    waiter = lambda_client.get_waiter("function_updated_v2")
    for _ in range(50):
        waiter.wait(FunctionName=function, WaiterConfig={"Delay": 0.2})
        try:
            lambda_client.update_function_code(FunctionName=function, ZipFile=code)
            break
        except lambda_client.exceptions.ResourceConflictException:
            time.sleep(0.2)
    else:
        pytest.fail(f"{function} stayed busy; its code could not be updated")
    waiter.wait(FunctionName=function, WaiterConfig={"Delay": 0.2})


def test_a_code_change_after_the_last_code_check_still_fails_the_run(worker, lambda_client):
    # Two 1.5 s invocations end before the executor's periodic code check (every 5 s), so
    # only the check made while finishing can see the new deployment.
    run = start_run(
        function="tuneboard-io",
        memory_sizes=[256],
        invocations_per_size=2,
        payload={"wait_s": 1.5},
    )
    wait_for(lambda: Invocation.objects.filter(run=run).exists(), "the first invocation", 120)
    try:
        deploy(lambda_client, "tuneboard-io", changed_code("tuneboard-io"))
        run = wait_finished(run, worker=worker)
        assert run.status == RunStatus.FAILED
        assert "code changed during the sweep" in run.error_message
        assert run.invocations_done == 2
        assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}
    finally:
        deploy(lambda_client, "tuneboard-io", build_zip("tuneboard-io"))


def reap_until_final(run, *, timeout: float = 180.0) -> TuningRun:
    """Run the reaper (as its beat task would, told that 2 s without heartbeat is stale)
    until the run is final."""
    from tuning.engine.reaper import reap_stale_runs
    from tuning.tasks import invoke_batch_task

    def reaped():
        reap_stale_runs(enqueue_batch=invoke_batch_task.delay, stale_seconds=2)
        run.refresh_from_db()
        if run.status in FINISHED:
            return True
        time.sleep(1)
        return False

    wait_for(reaped, "the reaper to finish the run", timeout, every=0)
    return run


def test_a_worker_killed_mid_sweep_leaves_the_function_as_found_and_the_run_truthful(
    sandbox, start_celery_worker, lambda_client
):
    before = function_state(lambda_client, "tuneboard-cpu")
    first = start_celery_worker(concurrency=2, env={"TUNEBOARD_STALE_RUN_SECONDS": "2"})
    run = start_run(
        function="tuneboard-cpu",
        memory_sizes=[128, 256, 512],
        invocations_per_size=30,
        payload=LIGHT_CPU,
    )
    wait_for(lambda: Invocation.objects.filter(run=run).count() >= 2, "invocations", 120)
    first.kill()
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    killed_in = run.phase

    fresh = start_celery_worker(concurrency=2, env={"TUNEBOARD_STALE_RUN_SECONDS": "2"})
    reap_until_final(run)
    if killed_in == Phase.PUBLISHING:  # the publisher died: cleaned up, failed with the reason
        assert run.status == RunStatus.FAILED, fresh.log()[-4000:]
        assert "stopped responding" in run.error_message
    else:  # only executors died: the missing batches were sent again and the run finished
        assert run.status == RunStatus.SUCCEEDED, run.error_message
        assert Invocation.objects.filter(run=run).count() == 90
        assert "were sent again" in run.events[0]["what"]
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}
    assert function_state(lambda_client, "tuneboard-cpu") == before


def test_a_sweep_whose_queued_batches_were_lost_is_resumed_not_failed(
    sandbox, start_celery_worker, lambda_client
):
    """The broker lost the queued batches (a restart without persistence, a purge, a
    failover): the reaper sends again what the database says is missing, and no sequence is
    invoked twice."""
    from dashboard.celery import app

    before = function_state(lambda_client, "tuneboard-io")
    worker = start_celery_worker(concurrency=1, env={"TUNEBOARD_STALE_RUN_SECONDS": "2"})
    invoked_before = sandbox.stats()["invocations"]
    run = start_run(function="tuneboard-io", memory_sizes=[128, 256, 512], invocations_per_size=4)
    wait_for(lambda: Invocation.objects.filter(run=run).exists(), "the first invocation", 120)
    with app.connection_for_write() as connection:
        lost = connection.default_channel.queue_purge("invocations")
    # One process: it runs one batch at a time and holds no other, so the others were queued.
    assert lost >= 1
    reap_until_final(run)
    assert run.status == RunStatus.SUCCEEDED, (run.error_message, worker.log()[-4000:])
    assert Invocation.objects.filter(run=run).count() == 12
    assert sandbox.stats()["invocations"] - invoked_before == 12
    assert "were sent again" in run.events[0]["what"]
    assert function_state(lambda_client, "tuneboard-io") == before


def test_a_sweep_waiting_behind_a_long_one_is_not_failed(sandbox, start_celery_worker):
    """One worker process: the second sweep's batches wait while the first one's long batch
    runs. Waiting for a free worker is not death: the reaper leaves it alone."""
    from tuning.engine.reaper import reap_stale_runs
    from tuning.tasks import invoke_batch_task

    start_celery_worker(concurrency=1, env={"TUNEBOARD_STALE_RUN_SECONDS": "2"})
    long = start_run(
        function="tuneboard-io",
        memory_sizes=[128],
        invocations_per_size=12,
        payload={"wait_s": 1.0},
    )
    queued = start_run(function="tuneboard-cpu", memory_sizes=[1769], payload=LIGHT_CPU)

    def both_final():
        reap_stale_runs(enqueue_batch=invoke_batch_task.delay, stale_seconds=2)
        time.sleep(0.5)
        return all(TuningRun.objects.get(pk=r.pk).status in FINISHED for r in (long, queued))

    wait_for(both_final, "both sweeps to finish", 240, every=0)
    for run in (long, queued):
        run.refresh_from_db()
        assert run.status == RunStatus.SUCCEEDED, run.error_message
        # Never failed for waiting; at most one harmless re-send, in the moment between the
        # long run's end and the queued batch's start (no worker busy, no lease yet).
        assert len(run.events) <= 1
        assert Invocation.objects.filter(run=run).count() == run.invocations_total


def test_cold_starts_only_measures_a_cold_start_every_time_and_auto_apply_sets_the_winner(
    worker, lambda_client
):
    before = function_state(lambda_client, "tuneboard-io")
    run = start_run(
        function="tuneboard-io",
        memory_sizes=[128, 256],
        invocations_per_size=3,
        cold_starts_only=True,
        weighted_payloads=[
            {"payload": {"wait_s": 0.01}, "weight": 2},
            {"payload": {"wait_s": 0.05}, "weight": 1},
        ],
        strategy="speed",
        auto_apply_target="$LATEST",
    )
    run = wait_finished(run, worker=worker)
    try:
        assert run.status == RunStatus.SUCCEEDED, run.error_message
        invocations = Invocation.objects.filter(run=run)
        assert invocations.count() == 6
        assert all(i.cold_start and i.init_duration_ms for i in invocations)
        assert sorted(
            invocations.filter(memory_mb=128).values_list("payload_index", flat=True)
        ) == [0, 0, 1]
        winner = run.recommendation("speed")["memory_mb"]
        after = function_state(lambda_client, "tuneboard-io")
        assert (run.applied_memory_mb, run.applied_to) == (winner, "$LATEST")
        assert after["memory"] == winner
        assert after["environment"] == before["environment"]  # no TUNEBOARD_COLD_START left
        assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}
    finally:
        lambda_client.update_function_configuration(
            FunctionName="tuneboard-io", MemorySize=before["memory"]
        )
        lambda_client.get_waiter("function_updated_v2").wait(
            FunctionName="tuneboard-io", WaiterConfig={"Delay": 0.2}
        )


def test_a_size_with_too_many_errors_fails_while_the_others_are_measured(worker, lambda_client):
    run = start_run(
        function="tuneboard-flaky",
        memory_sizes=[128, 256],
        invocations_per_size=4,
        weighted_payloads=[
            {"payload": {"failure_rate": 0}, "weight": 1},
            {"payload": {"failure_rate": 1}, "weight": 1},
        ],
        max_error_share=0.2,
    )
    run = wait_finished(run, worker=worker)
    # Half the calls raise at every size: more than 20 % errors, so no size is usable.
    assert run.status == RunStatus.FAILED
    assert run.error_message.startswith("No memory size succeeded.")
    for result in run.results.all():
        assert result.status == ResultStatus.FAILED
        assert "invocations failed (more than 20% allowed)" in result.error_message
        assert "FlakyError" in result.error_message
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}


def test_an_allowed_exception_is_measured_and_shown_but_does_not_fail_a_size(
    worker, lambda_client, client, django_user_model
):
    run = start_run(
        function="tuneboard-flaky",
        memory_sizes=[128, 256],
        invocations_per_size=4,
        weighted_payloads=[
            {"payload": {"failure_rate": 0}, "weight": 1},
            {"payload": {"failure_rate": 1}, "weight": 1},
        ],
        max_error_share=0.2,
        allowed_exceptions=["FlakyError"],
    )
    run = wait_finished(run, worker=worker)
    # The same half of failing calls as above, of an allowed type: every size is measured.
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    for result in run.results.all():
        assert result.status == ResultStatus.SUCCEEDED
        assert result.errors == result.allowed_errors == 2
        assert result.avg_duration_ms is not None
    client.force_login(django_user_model.objects.create_user("viewer"))
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert "(2 allowed)" in page
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}


SECRET = "s3cret-value-42"


def test_environment_values_are_never_stored_or_logged_and_cold_starts_keep_them(
    worker, lambda_client, make_function
):
    name = make_function(Environment={"Variables": {"DB_PASSWORD": SECRET, "STAGE": "prod"}})
    before = function_state(lambda_client, name)
    run = wait_finished(
        start_run(function=name, memory_sizes=[128, 256], invocations_per_size=2,
                  cold_starts_only=True),
        worker=worker,
    )  # fmt: skip
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert function_state(lambda_client, name) == before  # variables as found, nothing left
    assert "Environment" not in run.original_config
    assert SECRET not in json.dumps(run.original_config)
    assert SECRET not in json.dumps(run_to_dict(run))
    assert SECRET not in worker.log()


def test_a_duplicated_batch_never_invokes_a_sequence_twice(worker, sandbox):
    """A redelivered batch (Redis's visibility timeout, a duplicated message) arrives while the
    first execution is still invoking: it waits on the batch's lease instead of invoking."""
    from tuning.tasks import invoke_batch_task

    invoked_before = sandbox.stats()["invocations"]
    run = start_run(
        function="tuneboard-io",
        memory_sizes=[256],
        invocations_per_size=8,
        payload={"wait_s": 0.3},
    )
    result = run.results.get()
    wait_for(lambda: Invocation.objects.filter(result=result).exists(), "the first invocation", 120)
    invoke_batch_task.delay(str(run.id), result.pk, 0, 0, 8)  # the duplicate
    wait_finished(run, worker=worker)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert Invocation.objects.filter(result=result).count() == 8
    assert sandbox.stats()["invocations"] - invoked_before == 8
