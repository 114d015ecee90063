"""x86_64 vs arm64 in one run through a real worker, Redis, PostgreSQL and the sandbox: a
companion run sweeps a temporary copy of the function with the other architecture; the copy is
gone afterwards whatever happens (success, a failing Lambda call, cancel, a killed worker), and
the user's function is exactly as found."""

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.integration.test_sweep import (
    function_state,
    leftovers_of,
    reap_until_final,
    wait_finished,
    wait_for,
)
from tests.integration.test_sweep_cli import manage_sweep
from tests.tuning.runfactory import start_run
from tuning.engine.copy import COPY_PREFIX, copy_name
from tuning.engine.reaper import retry_pending_cleanups
from tuning.models import Invocation, RunStatus, TuningRun
from tuning.serializers import run_to_dict

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SECRET = "copy-me-but-never-store-me-7d1e"
#: Fails unless the environment came along with the code; says which machine it runs on.
HANDLER = (
    "import os\n"
    "def handler(event, context):\n"
    f"    assert os.environ['API_TOKEN'] == {SECRET!r}\n"
    "    return {'ok': True}\n"
)


@pytest.fixture
def worker(sandbox, start_celery_worker):
    return start_celery_worker(concurrency=4)


def copies_in(lambda_client) -> list[str]:
    """Every temporary copy the sandbox holds (any run's)."""
    names = []
    for page in lambda_client.get_paginator("list_functions").paginate():
        names += [f["FunctionName"] for f in page["Functions"]]
    return [name for name in names if name.startswith(COPY_PREFIX) and "-arm64-" in name]


def companion_of(run) -> TuningRun:
    return TuningRun.objects.get(copy_of=run)


def wait_both(run, worker, timeout: float = 240.0):
    run = wait_finished(run, timeout=timeout, worker=worker)
    return run, wait_finished(companion_of(run), timeout=timeout, worker=worker)


def test_a_comparison_measures_both_architectures_recommends_once_and_deletes_the_copy(
    worker, lambda_client, make_function, client, django_user_model
):
    name = make_function(HANDLER, Environment={"Variables": {"API_TOKEN": SECRET}}, Timeout=10)
    before = function_state(lambda_client, name)
    run = start_run(
        function=name, memory_sizes=[128, 512], invocations_per_size=3, compare_architectures=True
    )
    run, copy = wait_both(run, worker)

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert copy.status == RunStatus.SUCCEEDED, copy.error_message
    assert (run.architecture, copy.architecture) == ("x86_64", "arm64")
    assert copy.copy_function == copy_name(copy.id, "arm64", name)
    assert copy.copy_function.startswith(f"tuneboard-{copy.id.hex[:8]}-arm64-")
    # The copy really ran the code, with its environment: every invocation succeeded.
    assert Invocation.objects.filter(run=copy, error_type="").count() == 6
    # One recommendation across both; arm64 is cheaper per GB-second.
    comparison = run.architecture_comparison()
    assert comparison == copy.architecture_comparison()
    assert comparison["ready"] and comparison["copy_run"] == str(copy.id)
    cost = comparison["recommendation"]["cost"]
    assert cost["architecture"] in ("x86_64", "arm64")
    assert cost["original"]["architecture"] == "x86_64"
    # The copy is gone; the function is exactly as found; nothing of the run is left.
    assert copies_in(lambda_client) == []
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_function(FunctionName=copy.copy_function)
    assert function_state(lambda_client, name) == before
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}
    assert not run.owns_function and not copy.owns_function
    # No environment value is stored, shown or logged.
    stored = json.dumps([run_to_dict(r) for r in (run, copy)])
    stored += json.dumps([r.original_config for r in (run, copy)] + [copy.events])
    assert SECRET not in stored and SECRET not in worker.log()

    client.force_login(django_user_model.objects.create_user("viewer"))
    for page_run in (run, copy):
        page = client.get(f"/runs/{page_run.id}/").content.decode()
        assert 'id="architecture-comparison"' in page
        assert SECRET not in page
    assert f"/runs/{run.id}/" in client.get(f"/runs/{copy.id}/").content.decode()
    data = client.get(f"/api/runs/{run.id}/").json()
    assert data["architecture_comparison"]["recommendation"]["cost"] == cost
    out = io.StringIO()
    call_command("show_run", str(run.id), stdout=out)
    assert "Architecture comparison" in out.getvalue()


@pytest.mark.parametrize(
    ("operation", "error"),
    [("CreateFunction", "AccessDeniedException"), ("GetFunction", "AccessDeniedException")],
)
def test_a_copy_that_cannot_be_made_fails_its_run_and_leaves_nothing(
    worker, sandbox, lambda_client, operation, error
):
    before = function_state(lambda_client, "tuneboard-io")
    sandbox.inject_fault(operation, error=error)
    run = start_run(
        function="tuneboard-io",
        memory_sizes=[128],
        invocations_per_size=2,
        compare_architectures=True,
    )
    run, copy = wait_both(run, worker)
    assert [rule["fired"] for rule in sandbox.faults()] == [1]
    assert copy.status == RunStatus.FAILED and "Access denied" in copy.error_message
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert not copy.cleanup_pending
    assert run.architecture_comparison()["ready"] is False
    assert copies_in(lambda_client) == []
    assert function_state(lambda_client, "tuneboard-io") == before


def test_a_failing_invocation_of_the_copy_fails_its_run_and_the_copy_is_deleted(
    worker, sandbox, lambda_client
):
    before = function_state(lambda_client, "tuneboard-io")
    run = start_run(
        function="tuneboard-io",
        memory_sizes=[128],
        invocations_per_size=3,
        compare_architectures=True,
    )
    copy = companion_of(run)
    # Named after its run: the fault can name the copy before it exists.
    sandbox.inject_fault(
        "Invoke",
        nth=2,
        error="AccessDeniedException",
        function=copy_name(copy.id, "arm64", "tuneboard-io"),
    )
    run, copy = wait_both(run, worker)
    assert [rule["fired"] for rule in sandbox.faults()] == [1]
    assert copy.status == RunStatus.FAILED and "Access denied" in copy.error_message
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert copies_in(lambda_client) == []
    assert function_state(lambda_client, "tuneboard-io") == before


def test_a_copy_that_cannot_be_deleted_is_retried_until_gone(worker, sandbox, lambda_client):
    before = function_state(lambda_client, "tuneboard-io")
    run = start_run(
        function="tuneboard-io",
        memory_sizes=[128],
        invocations_per_size=2,
        compare_architectures=True,
    )
    copy = companion_of(run)
    name = copy_name(copy.id, "arm64", "tuneboard-io")
    sandbox.inject_fault("DeleteFunction", error="AccessDeniedException", function=name)
    run, copy = wait_both(run, worker)
    assert [rule["fired"] for rule in sandbox.faults()] == [1]
    assert copy.status == RunStatus.FAILED
    assert f"Cleanup pending: the temporary copy {name} (Access denied" in copy.error_message
    assert copy.owns_function and copies_in(lambda_client) == [name]
    # The reaper's retry (made due now) deletes it and releases the run.
    TuningRun.objects.filter(pk=copy.pk).update(cleanup_retry_at=timezone.now())
    assert retry_pending_cleanups() == [str(copy.id)]
    copy.refresh_from_db()
    assert not copy.owns_function
    assert copy.error_message.endswith("Cleanup completed on attempt 2.")
    assert copies_in(lambda_client) == []
    assert function_state(lambda_client, "tuneboard-io") == before


def test_cancelling_a_comparison_mid_sweep_cancels_both_and_deletes_the_copy(worker, lambda_client):
    before = function_state(lambda_client, "tuneboard-io")
    run = start_run(
        function="tuneboard-io",
        memory_sizes=[128, 256],
        invocations_per_size=40,
        compare_architectures=True,
    )
    copy = companion_of(run)
    wait_for(lambda: Invocation.objects.filter(run=copy).exists(), "the copy's invocations", 120)
    from tuning import runs

    runs.request_cancel(copy)
    run, copy = wait_both(run, worker)
    assert (run.status, copy.status) == (RunStatus.CANCELLED, RunStatus.CANCELLED)
    assert copies_in(lambda_client) == []
    assert function_state(lambda_client, "tuneboard-io") == before
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}


def test_a_container_image_is_refused_before_anything_is_created(worker, lambda_client):
    name = "test-image-app"
    lambda_client.create_function(
        FunctionName=name,
        PackageType="Image",
        Code={"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1"},
        Role="arn:aws:iam::123456789012:role/test",
    )
    try:
        before = function_state(lambda_client, name)
        run = start_run(function=name, memory_sizes=[128], compare_architectures=True)
        copy = wait_finished(companion_of(run), worker=worker)
        assert copy.status == RunStatus.FAILED
        assert f"{name} is a container image" in copy.error_message
        assert copy.copy_function == ""  # never named, never created
        assert copies_in(lambda_client) == []
        wait_finished(run, worker=worker)  # the sandbox cannot run images: it fails too
        assert function_state(lambda_client, name) == before
    finally:
        lambda_client.delete_function(FunctionName=name)


def test_a_worker_killed_mid_comparison_leaves_no_copy_and_the_function_as_found(
    sandbox, start_celery_worker, lambda_client
):
    before = function_state(lambda_client, "tuneboard-io")
    env = {"TUNEBOARD_STALE_RUN_SECONDS": "2"}
    first = start_celery_worker(concurrency=2, env=env)
    run = start_run(
        function="tuneboard-io",
        memory_sizes=[128, 256],
        invocations_per_size=30,
        compare_architectures=True,
    )
    copy = companion_of(run)
    wait_for(lambda: Invocation.objects.filter(run=copy).count() >= 2, "the copy's calls", 120)
    first.kill()
    start_celery_worker(concurrency=2, env=env)
    run, copy = reap_until_final(run), reap_until_final(copy)
    wait_for(lambda: not TuningRun.objects.get(pk=copy.pk).owns_function, "cleanup", 120)
    assert copies_in(lambda_client) == []
    assert function_state(lambda_client, "tuneboard-io") == before
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}


def test_sweep_compare_architectures_wait_prints_the_comparison(worker, lambda_client):
    done = manage_sweep(
        "tuneboard-io", "--power", "128", "--num", "2", "--compare-architectures", "--wait"
    )
    assert done.returncode == 0, done.stderr
    assert "Architecture comparison" in done.stdout
    run = TuningRun.objects.get(copy_of__isnull=True)
    assert run.compare_architectures and companion_of(run).status == RunStatus.SUCCEEDED
    assert copies_in(lambda_client) == []


def test_the_reaper_deletes_a_copy_that_appeared_after_its_run_was_cleaned_up(
    sandbox, lambda_client, make_function
):
    """Belt and braces: Lambda completed a CreateFunction after the run's cleanup found
    nothing to delete. The reaper's second look deletes it by its name."""
    from tuning.engine.reaper import delete_leftover_copies

    run = start_run(function="tuneboard-io", memory_sizes=[128], compare_architectures=True)
    copy = companion_of(run)
    late = copy_name(copy.id, "arm64", "tuneboard-io")
    make_function(FunctionName=late)
    TuningRun.objects.filter(pk__in=[run.pk, copy.pk]).update(
        status=RunStatus.FAILED, phase="done", finished_at=timezone.now()
    )
    TuningRun.objects.filter(pk=copy.pk).update(copy_function=late)
    assert delete_leftover_copies(timezone.now() - dt.timedelta(minutes=10)) == [str(copy.id)]
    assert copies_in(lambda_client) == []
    assert "leftover temporary copy" in TuningRun.objects.get(pk=copy.pk).events[-1]["what"]
    assert delete_leftover_copies(timezone.now() - dt.timedelta(minutes=10)) == []
