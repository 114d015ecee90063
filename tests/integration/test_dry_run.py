"""Power Tuning's dryRun through a real worker and the sandbox: one invocation per size,
a failing size named with its reason, the function left exactly as found."""

import io

import pytest
from django.core.management import call_command

from tests.integration.test_sweep import function_state, leftovers_of, wait_finished
from tests.integration.test_sweep_cli import manage_sweep
from tests.tuning.runfactory import start_run
from tuning.models import Invocation, ResultStatus, RunStatus, TuningRun
from tuning.serializers import run_to_dict

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_dry_run_checks_each_size_once_names_the_failing_one_and_leaves_the_function_as_found(
    worker, lambda_client, client, django_user_model
):
    before = function_state(lambda_client, "tuneboard-memory")
    run = start_run(
        function="tuneboard-memory",
        memory_sizes=[128, 512],
        invocations_per_size=5,
        dry_run=True,
    )
    run = wait_finished(run, worker=worker)

    # The memory-hungry function runs out of memory at 128 MB: the dry run says so and fails.
    assert run.status == RunStatus.FAILED
    assert run.error_message.startswith("Dry run: 1 size(s) failed. 128 MB: Out of memory")
    results = {r.memory_mb: r for r in run.results.all()}
    assert results[128].status == ResultStatus.FAILED
    assert results[512].status == ResultStatus.SUCCEEDED
    assert Invocation.objects.filter(run_id=run.pk).count() == 2  # one per size
    for result in results.values():
        assert result.invocations_done == 1
        assert result.avg_duration_ms is None and result.p95_duration_ms is None
    assert run.recommendation() is None and run.applied_memory_mb is None
    # Nothing changed: memory, environment, code; the run's versions and aliases are gone.
    assert function_state(lambda_client, "tuneboard-memory") == before
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}

    data = run_to_dict(run)
    assert data["dry_run"] is True and data["best"] is None
    assert [(r["memory_mb"], r["status"]) for r in data["results"]] == [
        (128, "FAILED"),
        (512, "SUCCEEDED"),
    ]
    client.force_login(django_user_model.objects.create_user("viewer"))
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert 'id="dry-run-note"' in page and "Out of memory at 128 MB" in page
    assert "tuneboard-memory: dry run, 1 of 2 sizes answered" in page
    out = io.StringIO()
    call_command("show_run", str(run.id), stdout=out)
    assert "Dry run: 1 size(s) failed" in out.getvalue()


def test_a_dry_run_where_every_size_passes_succeeds_and_measures_nothing(worker, lambda_client):
    before = function_state(lambda_client, "tuneboard-io")
    run = start_run(function="tuneboard-io", memory_sizes=[128, 256], dry_run=True)
    run = wait_finished(run, worker=worker)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert all(r.status == ResultStatus.SUCCEEDED for r in run.results.all())
    assert run.recommendation() is None
    assert function_state(lambda_client, "tuneboard-io") == before
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}


def test_sweep_dry_run_wait_says_it_was_a_dry_run_and_exits_0_when_every_size_passed(worker):
    done = manage_sweep("tuneboard-io", "--power", "128,256", "--dry-run", "--wait")
    assert done.returncode == 0, done.stderr
    assert "dry run: one invocation per size, nothing measured" in done.stdout
    assert TuningRun.objects.get().dry_run
