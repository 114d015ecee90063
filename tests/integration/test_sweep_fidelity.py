"""Sweeps measure what Lambda would measure: cold starts with their Init Duration, SnapStart
restores counted and costed, and a qualified target's own configuration (or a clear refusal).
A real Celery worker, Redis, PostgreSQL and the sandbox."""

import pytest
from django.test import Client

from tests.integration.test_sweep import function_state, leftovers_of, wait_finished
from tests.tuning.runfactory import start_run
from tuning import pricing
from tuning.models import Invocation, ResultStatus, RunStatus

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SNAPSTART_ON = {"ApplyOn": "PublishedVersions"}
#: tuneboard-init's module load sleeps this long (its INIT_SECONDS variable).
INIT_S = 1.0


def as_stored(value, cost) -> bool:
    """Is ``value`` ``cost`` as a 12-decimal column holds it? The database rounds it, and its
    rule for a tie (PostgreSQL: half away from zero) is not Python's (half even): one unit of
    the last place either way (a tie at the 13th decimal failed an exact comparison)."""
    return abs(value - cost) <= type(cost)("1e-12")


def test_cold_starts_only_counts_the_init_duration_of_a_slow_to_initialise_function(
    worker, lambda_client, make_function, django_user_model
):
    name = make_function(seeded="tuneboard-init", Timeout=10)
    before = function_state(lambda_client, name)
    run = start_run(
        function=name,
        memory_sizes=[128, 256],
        invocations_per_size=2,
        cold_starts_only=True,
        payload={"wait_s": 0.01},
        discard_fraction=0,
    )
    run = wait_finished(run, worker=worker)

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    for result in run.results.all():
        rows = list(result.invocations.all())
        assert len(rows) == 2 and result.cold_starts == 2
        assert all(r.init_duration_ms >= INIT_S * 1000 for r in rows)
        assert all(r.duration_ms < INIT_S * 1000 for r in rows)  # the handler alone: ~10 ms
        # The statistics are what a caller waits on a cold start: handler + init.
        expected = sum(r.duration_ms + r.init_duration_ms for r in rows) / 2
        assert result.avg_duration_ms == pytest.approx(expected)
        assert result.avg_duration_ms >= INIT_S * 1000
        for r in rows:  # Billed Duration holds the init (billed since 2025-08-01)
            assert r.billed_duration_ms >= r.duration_ms + r.init_duration_ms
            assert as_stored(
                r.cost_usd, pricing.invocation_cost(result.memory_mb, r.billed_duration_ms)
            )
    assert run.recommendation("speed")["avg_duration_ms"] >= INIT_S * 1000
    assert function_state(lambda_client, name) == before
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}

    user = django_user_model.objects.create_user("viewer", password="x")  # noqa: S106
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert "every duration includes its Init Duration" in page
    assert "(incl. init)" in page


def test_a_snapstart_function_counts_and_costs_each_restore(worker, lambda_client, make_function):
    name = make_function(
        seeded="tuneboard-init", Runtime="python3.12", Timeout=10, SnapStart=SNAPSTART_ON
    )
    before = function_state(lambda_client, name)
    run = start_run(
        function=name,
        memory_sizes=[128, 1024],
        invocations_per_size=2,
        payload={"wait_s": 0.01},
        discard_fraction=0,
    )
    run = wait_finished(run, worker=worker)

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    for result in run.results.all():
        first, second = result.invocations.order_by("sequence")
        # The version's first invocation restores a new environment from its snapshot: a cold
        # start with Restore Duration and Billed Restore Duration, no Init Duration.
        assert first.cold_start and first.init_duration_ms is None
        assert first.restore_duration_ms >= INIT_S * 1000  # the sandbox loads the module again
        assert first.billed_restore_duration_ms >= 1
        assert not second.cold_start and second.restore_duration_ms is None
        assert result.cold_starts == 1
        mb = result.memory_mb
        assert as_stored(
            first.cost_usd,
            pricing.invocation_cost(mb, first.billed_duration_ms)
            + pricing.restore_cost(mb, first.billed_restore_duration_ms),
        )
        assert as_stored(second.cost_usd, pricing.invocation_cost(mb, second.billed_duration_ms))
        # The restore dominates what the first call costs (here the per-GB restore charge).
        assert first.cost_usd > 5 * second.cost_usd
        # Normal mode: the statistics stay the handler's durations.
        assert result.avg_duration_ms == pytest.approx((first.duration_ms + second.duration_ms) / 2)
    assert function_state(lambda_client, name) == before
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}


def test_cold_starts_only_on_snapstart_counts_the_restore_in_every_duration(
    worker, lambda_client, make_function
):
    name = make_function(
        seeded="tuneboard-init", Runtime="python3.12", Timeout=10, SnapStart=SNAPSTART_ON
    )
    before = function_state(lambda_client, name)
    run = start_run(
        function=name,
        memory_sizes=[256],
        invocations_per_size=2,
        cold_starts_only=True,
        discard_fraction=0,
    )
    run = wait_finished(run, worker=worker)

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    result = run.results.get()
    rows = list(Invocation.objects.filter(result=result))
    assert result.cold_starts == 2
    assert all(r.restore_duration_ms and r.init_duration_ms is None for r in rows)
    expected = sum(r.duration_ms + r.restore_duration_ms for r in rows) / 2
    assert result.avg_duration_ms == pytest.approx(expected)
    assert function_state(lambda_client, name) == before


def publish_alias(lambda_client, name: str, alias: str) -> str:
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.create_alias(FunctionName=name, Name=alias, FunctionVersion=version)
    return version


def test_an_alias_configured_like_latest_is_swept_through_the_worker(
    worker, lambda_client, make_function
):
    name = make_function(seeded="tuneboard-io", Environment={"Variables": {"STAGE": "prod"}})
    version = publish_alias(lambda_client, name, "live")
    arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}:live"
    before = function_state(lambda_client, name)
    run = start_run(function=arn, memory_sizes=[128, 256], invocations_per_size=2)
    run = wait_finished(run, worker=worker)

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert (run.function_name, run.qualifier) == (name, "live")
    assert Invocation.objects.filter(run=run, error_type="").count() == 4
    assert all(r.status == ResultStatus.SUCCEEDED for r in run.results.all())
    after = function_state(lambda_client, name)
    assert after == before  # alias, its version and $LATEST as found
    assert lambda_client.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == version


def test_an_alias_whose_version_differs_from_latest_is_refused_and_nothing_changes(
    worker, sandbox, lambda_client, make_function
):
    name = make_function(seeded="tuneboard-io", Environment={"Variables": {"STAGE": "prod"}})
    publish_alias(lambda_client, name, "live")
    # $LATEST moves on: new variables and a longer timeout, not yet published.
    lambda_client.update_function_configuration(
        FunctionName=name, Timeout=20, Environment={"Variables": {"STAGE": "next", "NEW": "1"}}
    )
    lambda_client.get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 0.2}
    )
    before = function_state(lambda_client, name)
    updates = sandbox.stats()["calls_by_operation"].get("UpdateFunctionConfiguration", 0)
    run = wait_finished(
        start_run(function=f"{name}:live", memory_sizes=[256], invocations_per_size=1),
        worker=worker,
    )

    assert run.status == RunStatus.FAILED
    assert f"{name}:live is not configured like $LATEST apart from memory" in run.error_message
    assert "timeout, environment variables NEW, STAGE" in run.error_message
    assert "next" not in run.error_message  # variable names only, never values
    assert Invocation.objects.filter(run=run).count() == 0
    assert sandbox.stats()["calls_by_operation"].get("UpdateFunctionConfiguration", 0) == updates
    assert function_state(lambda_client, name) == before
    assert not run.owns_function


@pytest.mark.parametrize(
    ("operation", "nth"),
    [("GetAlias", 1), ("GetFunctionConfiguration", 2), ("CreateAlias", 2), ("Invoke", 2)],
)
def test_a_failure_while_sweeping_an_alias_leaves_the_alias_and_latest_as_found(
    worker, sandbox, lambda_client, make_function, operation, nth
):
    name = make_function(seeded="tuneboard-io")
    publish_alias(lambda_client, name, "live")
    before = function_state(lambda_client, name)
    sandbox.inject_fault(operation, nth=nth, error="AccessDeniedException", function=name)
    run = wait_finished(
        start_run(function=f"{name}:live", memory_sizes=[128, 256], invocations_per_size=1),
        worker=worker,
    )
    assert [rule["fired"] for rule in sandbox.faults()] == [1]
    assert run.status == RunStatus.FAILED
    assert "AccessDenied" in run.error_message or "Access denied" in run.error_message
    assert function_state(lambda_client, name) == before
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}
