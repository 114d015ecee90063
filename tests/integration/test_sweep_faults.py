"""A failure at any step of a sweep leaves the function exactly as found: memory, environment,
code, versions and aliases. Real worker, Redis, PostgreSQL; the sandbox fails the chosen Lambda
call (its fault-injection API)."""

import pytest
from django.utils import timezone

from tests.integration.test_sweep import function_state, wait_finished, wait_for
from tests.tuning.runfactory import start_run
from tuning.engine.reaper import retry_pending_cleanups
from tuning.models import RunStatus, TuningRun

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FUNCTION = "tuneboard-io"

# (Lambda operation, which call of the run fails, error, the run's final status). Two sizes of
# two invocations: 3 configuration updates (2 sizes + the restore), 2 publishes, 2 aliases,
# 4 invocations, then 2 alias and 2 version deletions.
STEPS = [
    ("GetFunctionConfiguration", 1, "AccessDeniedException", RunStatus.FAILED),  # record
    ("UpdateFunctionConfiguration", 2, "AccessDeniedException", RunStatus.FAILED),
    ("UpdateFunctionConfiguration", 3, "AccessDeniedException", RunStatus.FAILED),  # restore
    ("PublishVersion", 2, "AccessDeniedException", RunStatus.FAILED),
    ("PublishVersion", 1, "TooManyRequestsException", RunStatus.SUCCEEDED),  # retried
    ("CreateAlias", 2, "AccessDeniedException", RunStatus.FAILED),
    ("Invoke", 3, "AccessDeniedException", RunStatus.FAILED),
    ("DeleteAlias", 1, "AccessDeniedException", RunStatus.FAILED),  # cleanup
    ("DeleteFunction", 2, "AccessDeniedException", RunStatus.FAILED),  # a version's deletion
]


# The module's shared worker (tests/integration/conftest.py) has 4 processes.
WORKER_CONCURRENCY = 4


@pytest.mark.parametrize(("operation", "nth", "error", "status"), STEPS)
def test_a_failure_at_any_step_leaves_the_function_as_found(
    worker, sandbox, lambda_client, operation, nth, error, status
):
    before = function_state(lambda_client, FUNCTION)
    sandbox.inject_fault(operation, nth=nth, error=error, function=FUNCTION)
    run = start_run(function=FUNCTION, memory_sizes=[256, 512], invocations_per_size=2)
    wait_finished(run, worker=worker)
    fired = [rule["fired"] for rule in sandbox.faults()]
    assert fired == [1], f"the fault never fired: {sandbox.faults()}"
    assert run.status == status, run.error_message
    if status == RunStatus.FAILED and operation in ("DeleteAlias", "DeleteFunction"):
        # Cleanup could not finish: the run says what is left and keeps the function ...
        left = {"DeleteAlias": "2 aliases, 2 versions", "DeleteFunction": "1 version"}
        assert f"Cleanup pending: {left[operation]} (Access denied" in run.error_message
        assert run.cleanup_pending and run.owns_function
        # ... until the reaper's retry (made due now) removes it.
        TuningRun.objects.filter(pk=run.pk).update(cleanup_retry_at=timezone.now())
        assert retry_pending_cleanups() == [str(run.id)]
        run.refresh_from_db()
        assert not run.owns_function
        assert run.error_message.endswith("Cleanup completed on attempt 2.")
    elif status == RunStatus.FAILED:
        assert error in run.error_message
        assert not run.cleanup_pending
    assert function_state(lambda_client, FUNCTION) == before


def test_a_version_published_with_another_memory_size_stops_the_run(worker, sandbox, lambda_client):
    """Someone changes $LATEST between the sweep's update and its publish: the version does not
    have the size it would be measured as, so the run stops, and cleanup puts back what it
    found."""
    before = function_state(lambda_client, FUNCTION)
    sandbox.inject_fault("PublishVersion", error=None, delay_s=3, function=FUNCTION)
    run = start_run(function=FUNCTION, memory_sizes=[256], invocations_per_size=2)

    def publish_held():
        return sandbox.faults()[0]["seen"] >= 1

    wait_for(publish_held, "the sweep's publish", 120)
    lambda_client.update_function_configuration(FunctionName=FUNCTION, MemorySize=3008)
    wait_finished(run, worker=worker)
    assert run.status == RunStatus.FAILED
    assert "published with 3008 MB instead of 256 MB" in run.error_message
    assert function_state(lambda_client, FUNCTION) == before
