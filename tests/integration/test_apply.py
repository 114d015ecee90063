"""Apply through a real worker: one change at a time per function, recorded, with the previous
size read after any update in progress. Real worker, Redis, PostgreSQL and the sandbox."""

import pytest
from django.contrib.auth import get_user_model

from tests.integration.test_sweep import wait_for
from tests.tuning.runfactory import make_run, start_run
from tuning import runs
from tuning.models import MemoryChange, SweepRefused

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ada():
    return get_user_model().objects.create_superuser("ada", "ada@example.com", "pw-42-horse")


def finished(change) -> MemoryChange:
    def done():
        change.refresh_from_db()
        return not change.in_progress

    wait_for(done, f"the apply of {change.memory_mb} MB", 120)
    return change


def test_two_applies_in_a_row_make_one_change_and_the_second_waits_its_turn(
    worker, sandbox, in_sandbox, make_function, lambda_client, ada
):
    name = make_function(MemorySize=128)
    run = make_run(function=name, sizes=(128, 512, 1024))
    # The first change is held in Lambda for 3 s: the second request certainly meets it.
    sandbox.inject_fault("UpdateFunctionConfiguration", error=None, delay_s=3, function=name)
    first = runs.request_apply(run, ada, target="$LATEST", memory_mb=1024)
    with pytest.raises(SweepRefused, match="is busy"):
        runs.request_apply(run, ada, target="$LATEST", memory_mb=512)
    with pytest.raises(SweepRefused):
        start_run(function=name, memory_sizes=[256])  # no sweep either, meanwhile
    assert finished(first).state == MemoryChange.State.DONE, first.message
    assert (first.previous_mb, first.requested_by) == (128, ada)
    assert lambda_client.get_function_configuration(FunctionName=name)["MemorySize"] == 1024
    run.refresh_from_db()
    assert not run.owns_function
    assert (run.applied_memory_mb, run.applied_to, run.applied_by) == (1024, "$LATEST", ada)
    second = runs.request_apply(run, ada, target="$LATEST", memory_mb=512)  # now its turn
    assert finished(second).previous_mb == 1024
    assert lambda_client.get_function_configuration(FunctionName=name)["MemorySize"] == 512


def test_an_apply_to_an_alias_publishes_a_version_and_puts_latest_back(
    worker, in_sandbox, make_function, lambda_client, ada
):
    name = make_function(MemorySize=128)
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    run = make_run(function=name, sizes=(128, 512))
    change = finished(runs.request_apply(run, ada, target="live", memory_mb=512))
    assert change.state == MemoryChange.State.DONE, change.message
    assert change.previous_mb == 128
    alias = lambda_client.get_alias(FunctionName=name, Name="live")
    live = lambda_client.get_function_configuration(
        FunctionName=name, Qualifier=alias["FunctionVersion"]
    )
    assert live["MemorySize"] == 512
    assert lambda_client.get_function_configuration(FunctionName=name)["MemorySize"] == 128


def test_an_apply_to_an_alias_whose_version_is_configured_otherwise_is_refused(
    worker, in_sandbox, make_function, lambda_client, ada
):
    """The version an apply publishes is $LATEST at the new size: when the alias runs another
    configuration, moving it would change more than its memory."""
    name = make_function(MemorySize=128, Environment={"Variables": {"STAGE": "prod"}})
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    lambda_client.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"STAGE": "staging"}}
    )
    lambda_client.get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 0.2}
    )
    versions = lambda_client.list_versions_by_function(FunctionName=name)["Versions"]
    run = make_run(function=name, sizes=(128, 512))
    change = finished(runs.request_apply(run, ada, target="live", memory_mb=512))
    assert change.state == MemoryChange.State.FAILED
    assert f"points at version {version}, which differs from $LATEST in environment" in (
        change.message
    )
    assert "staging" not in change.message
    assert lambda_client.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == version
    assert lambda_client.list_versions_by_function(FunctionName=name)["Versions"] == versions


def test_an_apply_to_an_alias_of_a_snapstart_function_points_it_at_an_active_version(
    worker, in_sandbox, make_function, lambda_client, ada
):
    """The version an apply publishes is Pending until its snapshot is made: live traffic
    through the alias would fail if the alias pointed at it before it is Active."""
    name = make_function(
        MemorySize=128, Runtime="python3.12", SnapStart={"ApplyOn": "PublishedVersions"}
    )
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.get_waiter("published_version_active").wait(
        FunctionName=name, Qualifier=version, WaiterConfig={"Delay": 0.2}
    )
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    run = make_run(function=name, sizes=(128, 512))
    previous = in_sandbox.configure(snapstart_delay_s=3)
    try:
        change = finished(runs.request_apply(run, ada, target="live", memory_mb=512))
        live = lambda_client.get_function_configuration(FunctionName=name, Qualifier="live")
    finally:
        in_sandbox.configure(**previous)
    assert change.state == MemoryChange.State.DONE, change.message
    assert (live["MemorySize"], live["State"]) == (512, "Active")
    answer = lambda_client.invoke(FunctionName=name, Qualifier="live", Payload=b"{}")
    assert "FunctionError" not in answer


def test_a_failed_apply_says_why_and_releases_the_function(
    worker, in_sandbox, make_function, lambda_client, ada
):
    name = make_function(MemorySize=128)
    run = make_run(function=name, sizes=(128, 512))
    in_sandbox.inject_fault("UpdateFunctionConfiguration", error="AccessDeniedException")
    change = finished(runs.request_apply(run, ada, target="$LATEST", memory_mb=512))
    assert change.state == MemoryChange.State.FAILED
    assert "Access denied" in change.message
    run.refresh_from_db()
    assert not run.owns_function
    assert lambda_client.get_function_configuration(FunctionName=name)["MemorySize"] == 128


def versions_of(lambda_client, name: str) -> list[str]:
    listed = lambda_client.list_versions_by_function(FunctionName=name)["Versions"]
    return [v["Version"] for v in listed if v["Version"] != "$LATEST"]


def test_an_apply_to_a_missing_alias_creates_it_on_a_version_with_the_size(
    worker, in_sandbox, make_function, lambda_client, ada, client
):
    name = make_function(MemorySize=128)
    run = make_run(function=name, sizes=(128, 512))
    change = finished(runs.request_apply(run, ada, target="prod", memory_mb=512))
    assert change.state == MemoryChange.State.DONE, change.message
    assert change.previous_mb is None and "did not exist: created" in change.message
    alias = lambda_client.get_alias(FunctionName=name, Name="prod")
    assert versions_of(lambda_client, name) == [alias["FunctionVersion"]]
    live = lambda_client.get_function_configuration(
        FunctionName=name, Qualifier=alias["FunctionVersion"]
    )
    assert live["MemorySize"] == 512
    assert lambda_client.get_function_configuration(FunctionName=name)["MemorySize"] == 128
    client.force_login(ada)
    assert "Alias prod did not exist: created" in client.get(f"/runs/{run.id}/").content.decode()


def test_a_missing_alias_that_cannot_be_created_leaves_no_version_behind(
    worker, sandbox, in_sandbox, make_function, lambda_client, ada
):
    name = make_function(MemorySize=128)
    run = make_run(function=name, sizes=(128, 512))
    sandbox.inject_fault("CreateAlias", error="AccessDeniedException", function=name, times=0)
    change = finished(runs.request_apply(run, ada, target="prod", memory_mb=512))
    assert change.state == MemoryChange.State.FAILED
    assert versions_of(lambda_client, name) == []
    assert lambda_client.list_aliases(FunctionName=name)["Aliases"] == []
    assert lambda_client.get_function_configuration(FunctionName=name)["MemorySize"] == 128
