"""Pre-/post-processor functions (Power Tuning's preProcessorARN / postProcessorARN) in real
sweeps: a Celery worker, Redis, PostgreSQL and the sandbox Lambda running every handler."""

import pytest

from tests.integration.test_sweep import function_state, leftovers_of, wait_finished
from tests.tuning.runfactory import start_run
from tuning.models import Invocation, ResultStatus, RunStatus

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Sleeps ~1 s (never measured), then rewrites the payload: tuneboard-io waits "wait_s".
PRE = """
import time

def handler(event, context):
    time.sleep(event["pre_sleep_s"])
    return {"wait_s": event["then_wait_s"]}
"""
# Needs the measured function's output; sleeps ~1 s (never measured).
POST = """
import time

def handler(event, context):
    if "waited_ms" not in (event or {}):
        raise ValueError("not the function's output: %r" % (event,))
    time.sleep(1.0)
"""
FAILING = """
def handler(event, context):
    raise RuntimeError("cannot prepare the test data")
"""


@pytest.fixture
def worker(sandbox, start_celery_worker):
    return start_celery_worker(concurrency=2)


def invokes(sandbox) -> int:
    return sandbox.stats()["calls_by_operation"].get("Invoke", 0)


def test_processors_run_around_every_invocation_and_are_not_measured(
    sandbox, worker, lambda_client, make_function
):
    name = make_function(seeded="tuneboard-io", Timeout=10)
    pre, post = make_function(PRE, Timeout=10), make_function(POST, Timeout=10)
    before = {f: function_state(lambda_client, f) for f in (name, pre, post)}
    calls = invokes(sandbox)

    run = start_run(
        function=name,
        memory_sizes=[128, 256],
        invocations_per_size=2,
        # Without the pre-processor the function would wait 2 s per call.
        payload={"wait_s": 2.0, "pre_sleep_s": 1.0, "then_wait_s": 0.01},
        pre_processor=pre,
        post_processor=f"arn:aws:lambda:us-east-1:123456789012:function:{post}",
    )
    run = wait_finished(run, worker=worker)

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    measured = list(Invocation.objects.filter(run=run))
    assert len(measured) == 4 and all(not i.error_type for i in measured)
    # The rewritten payload was measured (~10 ms, not 2 s) and neither processor's second of
    # sleep is in any duration.
    assert all(i.duration_ms < 1000 for i in measured)
    assert all(r.avg_duration_ms < 1000 for r in run.results.all())
    # Each measured invocation had its pre- and post-processor call: 3 Invoke calls each.
    assert invokes(sandbox) - calls == 3 * 4
    # Processors are only invoked: never published, aliased or reconfigured.
    assert {f: function_state(lambda_client, f) for f in (name, pre, post)} == before
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}


def test_a_failing_pre_processor_fails_the_invocations_naming_it(
    sandbox, worker, lambda_client, make_function
):
    name = make_function(seeded="tuneboard-io", Timeout=10)
    pre = make_function(FAILING, Timeout=10)
    before = {f: function_state(lambda_client, f) for f in (name, pre)}
    calls = invokes(sandbox)

    run = wait_finished(
        start_run(function=name, memory_sizes=[128], invocations_per_size=2, pre_processor=pre),
        worker=worker,
    )

    assert run.status == RunStatus.FAILED
    result = run.results.get()
    assert result.status == ResultStatus.FAILED and result.errors >= 1
    assert "PreProcessorError" in result.error_message
    failed = list(Invocation.objects.filter(run=run))
    assert failed and all(i.error_type == "PreProcessorError" for i in failed)
    assert all(i.duration_ms is None for i in failed)
    assert all(
        i.error_message == f"Pre-processor {pre} failed: RuntimeError: cannot prepare the test data"
        for i in failed
    )
    # Only the pre-processor was invoked: the function never ran with an unprepared payload.
    assert invokes(sandbox) - calls == len(failed)
    assert {f: function_state(lambda_client, f) for f in (name, pre)} == before
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}


def test_a_missing_processor_is_refused_before_anything_changes(
    sandbox, worker, lambda_client, make_function
):
    name = make_function(seeded="tuneboard-io", Timeout=10)
    before = function_state(lambda_client, name)
    calls = invokes(sandbox)

    run = wait_finished(
        start_run(
            function=name,
            memory_sizes=[128],
            invocations_per_size=2,
            payload={"wait_s": 0.01},
            post_processor="test-no-such-cleanup",
        ),
        worker=worker,
    )

    assert run.status == RunStatus.FAILED
    assert run.error_message.startswith(
        "Post-processor test-no-such-cleanup does not exist in us-east-1: nothing was changed."
    ), run.error_message
    assert not Invocation.objects.filter(run=run).exists()
    assert invokes(sandbox) == calls
    assert function_state(lambda_client, name) == before
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}


def test_a_processor_of_another_account_is_refused_before_anything_changes(
    sandbox, worker, lambda_client, make_function
):
    name = make_function(seeded="tuneboard-io", Timeout=10)
    before = function_state(lambda_client, name)
    calls = invokes(sandbox)
    # Named by name, the function's account is known only to the worker (STS).
    other = "arn:aws:lambda:us-east-1:210987654321:function:cleanup"

    run = wait_finished(
        start_run(function=name, memory_sizes=[128], invocations_per_size=2, post_processor=other),
        worker=worker,
    )

    assert run.status == RunStatus.FAILED
    assert run.error_message.startswith(
        f"Post-processor {other} is in AWS account 210987654321, but the sweep's credentials "
        "act in account 123456789012: nothing was changed."
    ), run.error_message
    assert not Invocation.objects.filter(run=run).exists()
    assert invokes(sandbox) == calls
    assert function_state(lambda_client, name) == before
