"""Power Tuning's autoOptimizeAlias: auto-apply (and apply) to an alias creates it when it is
missing, on a version published with the chosen size; a failure leaves nothing half-made.
Real worker, Redis, PostgreSQL and the sandbox."""

import pytest
from django.contrib.auth import get_user_model

from tests.integration.test_apply import finished, versions_of
from tests.integration.test_sweep import function_state, wait_finished
from tests.tuning.runfactory import make_run, start_run
from tuning import runs
from tuning.models import MemoryChange, RunStatus

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ada():
    return get_user_model().objects.create_superuser("ada", "ada@example.com", "pw-42-horse")


@pytest.mark.parametrize("existing", [False, True], ids=["missing alias", "existing alias"])
def test_a_sweeps_auto_apply_points_the_alias_at_a_version_with_the_winner_creating_it_if_missing(
    existing, worker, in_sandbox, make_function, lambda_client, client, ada
):
    name = make_function(MemorySize=128, Environment={"Variables": {"STAGE": "prod"}})
    kept = []
    if existing:
        kept = [lambda_client.publish_version(FunctionName=name)["Version"]]
        lambda_client.create_alias(FunctionName=name, Name="prod", FunctionVersion=kept[0])
    before = function_state(lambda_client, name)
    run = start_run(
        function=name, memory_sizes=[128, 256], invocations_per_size=2, auto_apply_target="prod"
    )
    run = wait_finished(run, worker=worker)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    winner = run.recommendation()["memory_mb"]
    change = run.memory_changes.get()
    assert change.state == MemoryChange.State.DONE, change.message
    alias = lambda_client.get_alias(FunctionName=name, Name="prod")
    # The sweep's own versions are gone: only the one the alias needs (and any kept) is left.
    # A winner of 128 MB publishes nothing new: $LATEST is unchanged since version 1.
    assert versions_of(lambda_client, name) == sorted({*kept, alias["FunctionVersion"]})
    live = lambda_client.get_function_configuration(FunctionName=name, Qualifier="prod")
    assert live["MemorySize"] == winner
    assert live["Environment"]["Variables"] == {"STAGE": "prod"}
    after = function_state(lambda_client, name)
    assert {k: after[k] for k in ("memory", "environment", "code")} == {
        k: before[k] for k in ("memory", "environment", "code")
    }
    client.force_login(ada)
    page = client.get(f"/runs/{run.id}/").content.decode()
    created = f"Alias prod did not exist: created on version {alias['FunctionVersion']}"
    assert (created in page) is not existing
    assert run.applied_to == "prod" and run.applied_memory_mb == winner


def test_a_failed_publish_for_a_missing_alias_makes_no_alias_no_version_and_keeps_latest(
    worker, in_sandbox, make_function, lambda_client, ada
):
    name = make_function(MemorySize=128, Environment={"Variables": {"STAGE": "prod"}})
    before = function_state(lambda_client, name)
    run = make_run(function=name, sizes=(128, 512))
    in_sandbox.inject_fault("PublishVersion", error="AccessDeniedException", function=name)
    change = finished(runs.request_apply(run, ada, target="prod", memory_mb=512))
    assert change.state == MemoryChange.State.FAILED
    assert "Access denied" in change.message
    assert function_state(lambda_client, name) == before  # no alias, no version, $LATEST as found
    run.refresh_from_db()
    assert not run.owns_function and run.applied_memory_mb is None


def test_when_neither_the_alias_nor_the_cleanup_can_be_made_the_change_names_the_left_version(
    worker, in_sandbox, make_function, lambda_client, ada
):
    name = make_function(MemorySize=128)
    run = make_run(function=name, sizes=(128, 512))
    in_sandbox.inject_fault("CreateAlias", error="AccessDeniedException", function=name)
    in_sandbox.inject_fault("DeleteFunction", error="AccessDeniedException", function=name)
    change = finished(runs.request_apply(run, ada, target="prod", memory_mb=512))
    assert change.state == MemoryChange.State.FAILED
    [left] = versions_of(lambda_client, name)
    assert f"Version {left}, published for the alias, could not be deleted" in change.message
    assert lambda_client.list_aliases(FunctionName=name)["Aliases"] == []
    assert lambda_client.get_function_configuration(FunctionName=name)["MemorySize"] == 128
