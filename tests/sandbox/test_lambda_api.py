"""The sandbox Lambda API, through an unmodified boto3 client against ``python -m sandbox``.

Each test creates its own throw-away functions (``make_function``) so the seeded demo
functions other tests rely on are left untouched.
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
import threading
import time
import zipfile

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.sandbox import wait_until_updated, zip_source

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"

SLEEPY = """
import time

def handler(event, context):
    time.sleep(float(event.get("sleep_s", 0)))
    print("x" * int(event.get("print_bytes", 0)))
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"slept": event.get("sleep_s", 0), "version": context.function_version}
"""

REPORT_RE = re.compile(
    r"REPORT RequestId: \S+\s+Duration: (?P<duration>[\d.]+) ms\s+"
    r"Billed Duration: (?P<billed>\d+) ms.*?(?:Init Duration: (?P<init>[\d.]+) ms)?\s*$",
    re.MULTILINE,
)


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def http_status(excinfo) -> int:
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def invoke_tail(client, name: str, payload: bytes = b"{}", **kwargs) -> tuple[dict, str]:
    response = client.invoke(FunctionName=name, LogType="Tail", Payload=payload, **kwargs)
    return response, base64.b64decode(response["LogResult"]).decode(errors="replace")


def report(log: str) -> dict:
    match = REPORT_RE.search(log)
    assert match, f"no REPORT line in log tail:\n{log}"
    return {k: (float(v) if v is not None else None) for k, v in match.groupdict().items()}


# ----------------------------------------------------------------------------- updates


def test_a_configuration_update_is_in_progress_until_the_function_updated_v2_waiter_returns(
    lambda_client, make_function
):
    name = make_function(SLEEPY)
    updated = lambda_client.update_function_configuration(FunctionName=name, MemorySize=256)
    assert updated["LastUpdateStatus"] == "InProgress"
    assert updated["LastUpdateStatusReason"]
    assert updated["State"] == "Active"
    assert (
        lambda_client.get_function(FunctionName=name)["Configuration"]["LastUpdateStatus"]
        == "InProgress"
    )

    lambda_client.get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )

    configuration = lambda_client.get_function_configuration(FunctionName=name)
    assert configuration["LastUpdateStatus"] == "Successful"
    assert configuration["MemorySize"] == 256


def test_the_function_updated_waiter_waits_for_a_code_update_too(lambda_client, make_function):
    name = make_function(SLEEPY)
    before = lambda_client.get_function_configuration(FunctionName=name)["CodeSha256"]
    updated = lambda_client.update_function_code(
        FunctionName=name, ZipFile=zip_source(SLEEPY + "\n# deploy 2\n")
    )
    assert updated["LastUpdateStatus"] == "InProgress"
    assert updated["CodeSha256"] != before
    lambda_client.get_waiter("function_updated").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    assert (
        lambda_client.get_function_configuration(FunctionName=name)["LastUpdateStatus"]
        == "Successful"
    )


def test_invocations_run_the_previous_configuration_until_the_update_is_done(
    sandbox, lambda_client, make_function
):
    name = make_function(SLEEPY, MemorySize=128)
    previous = sandbox.configure(update_delay_s=3)
    try:
        lambda_client.update_function_configuration(FunctionName=name, MemorySize=256)
        during = lambda_client.invoke(FunctionName=name, LogType="Tail")
        wait_until_updated(lambda_client, name)
    finally:
        sandbox.configure(**previous)
    after = lambda_client.invoke(FunctionName=name, LogType="Tail")
    assert "Memory Size: 128 MB" in base64.b64decode(during["LogResult"]).decode()
    assert "Memory Size: 256 MB" in base64.b64decode(after["LogResult"]).decode()


def test_a_second_update_while_one_is_in_progress_is_refused_with_a_resource_conflict(
    lambda_client, make_function
):
    name = make_function(SLEEPY)
    lambda_client.update_function_configuration(FunctionName=name, MemorySize=256)

    with pytest.raises(ClientError) as config_conflict:
        lambda_client.update_function_configuration(FunctionName=name, MemorySize=512)
    with pytest.raises(ClientError) as code_conflict:
        lambda_client.update_function_code(FunctionName=name, ZipFile=zip_source(SLEEPY))
    with pytest.raises(ClientError) as publish_conflict:
        lambda_client.publish_version(FunctionName=name)

    for excinfo in (config_conflict, code_conflict, publish_conflict):
        assert error_code(excinfo) == "ResourceConflictException"
        assert http_status(excinfo) == 409
        assert excinfo.value.response["Error"]["Message"] == (
            "The operation cannot be performed at this time. An update is in progress for "
            f"resource: {ARN}{name}"
        )
    wait_until_updated(lambda_client, name)
    assert lambda_client.get_function_configuration(FunctionName=name)["MemorySize"] == 256


def test_every_change_gets_a_new_revision_id_and_stale_revision_ids_fail_with_412(
    lambda_client, make_function
):
    name = make_function(SLEEPY)
    first = lambda_client.get_function_configuration(FunctionName=name)["RevisionId"]
    second = lambda_client.update_function_configuration(
        FunctionName=name, Description="changed", RevisionId=first
    )["RevisionId"]
    assert second != first
    wait_until_updated(lambda_client, name)

    with pytest.raises(ClientError) as excinfo:
        lambda_client.update_function_configuration(FunctionName=name, Timeout=5, RevisionId=first)
    assert error_code(excinfo) == "PreconditionFailedException"
    assert http_status(excinfo) == 412


# ----------------------------------------------------------------------------- versions


def test_publishing_twice_without_a_change_returns_the_same_version(lambda_client, make_function):
    name = make_function(SLEEPY)
    first = lambda_client.publish_version(FunctionName=name)
    again = lambda_client.publish_version(FunctionName=name)
    assert first["Version"] == again["Version"] == "1"
    assert first["FunctionArn"] == f"{ARN}{name}:1"

    lambda_client.update_function_configuration(FunctionName=name, MemorySize=512)
    wait_until_updated(lambda_client, name)
    second = lambda_client.publish_version(FunctionName=name)
    assert second["Version"] == "2"
    assert second["MemorySize"] == 512
    assert (
        lambda_client.get_function_configuration(FunctionName=name, Qualifier="1")["MemorySize"]
        == 128
    )


def test_version_numbers_are_never_reused_after_a_delete(lambda_client, make_function):
    name = make_function(SLEEPY)
    assert lambda_client.publish_version(FunctionName=name)["Version"] == "1"
    lambda_client.delete_function(FunctionName=name, Qualifier="1")
    lambda_client.update_function_configuration(FunctionName=name, Timeout=7)
    wait_until_updated(lambda_client, name)
    assert lambda_client.publish_version(FunctionName=name)["Version"] == "2"
    versions = [
        v["Version"] for v in lambda_client.list_versions_by_function(FunctionName=name)["Versions"]
    ]
    assert versions == ["$LATEST", "2"]


def test_deleting_a_version_stops_its_execution_environments(sandbox, lambda_client, make_function):
    name = make_function(SLEEPY)
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.invoke(FunctionName=name, Qualifier=version, Payload=b"{}")
    lambda_client.invoke(FunctionName=name, Payload=b"{}")

    def versions_running():
        return sorted(
            e["key"].split(":")[1]
            for e in sandbox.stats()["environments"]
            if e["function_name"] == name
        )

    assert versions_running() == ["$LATEST", version]
    lambda_client.delete_function(FunctionName=name, Qualifier=version)
    assert versions_running() == ["$LATEST"]
    lambda_client.delete_function(FunctionName=name)
    assert versions_running() == []


def test_deleting_a_version_an_alias_points_to_is_refused_with_a_resource_conflict(
    lambda_client, make_function
):
    name = make_function(SLEEPY)
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion=version)

    with pytest.raises(ClientError) as excinfo:
        lambda_client.delete_function(FunctionName=name, Qualifier=version)
    assert error_code(excinfo) == "ResourceConflictException"
    assert excinfo.value.response["Error"]["Message"] == (
        "Unable to delete version because the following aliases reference it: [live]"
    )

    lambda_client.delete_alias(FunctionName=name, Name="live")
    lambda_client.delete_function(FunctionName=name, Qualifier=version)
    with pytest.raises(ClientError) as gone:
        lambda_client.get_function(FunctionName=name, Qualifier=version)
    assert error_code(gone) == "ResourceNotFoundException"


def test_aliases_are_created_updated_listed_and_validated_like_aws(lambda_client, make_function):
    name = make_function(SLEEPY)
    lambda_client.publish_version(FunctionName=name)
    created = lambda_client.create_alias(FunctionName=name, Name="run-1", FunctionVersion="1")
    assert created["AliasArn"] == f"{ARN}{name}:run-1"

    with pytest.raises(ClientError) as duplicate:
        lambda_client.create_alias(FunctionName=name, Name="run-1", FunctionVersion="1")
    assert error_code(duplicate) == "ResourceConflictException"
    with pytest.raises(ClientError) as numeric_name:
        lambda_client.create_alias(FunctionName=name, Name="42", FunctionVersion="1")
    assert error_code(numeric_name) == "ValidationException"
    with pytest.raises(ClientError) as missing_version:
        lambda_client.create_alias(FunctionName=name, Name="run-2", FunctionVersion="9")
    assert error_code(missing_version) == "ResourceNotFoundException"

    updated = lambda_client.update_alias(
        FunctionName=name,
        Name="run-1",
        FunctionVersion="$LATEST",
        Description="moved",
        RevisionId=created["RevisionId"],
    )
    assert updated["FunctionVersion"] == "$LATEST"
    with pytest.raises(ClientError) as stale:
        lambda_client.update_alias(
            FunctionName=name, Name="run-1", FunctionVersion="1", RevisionId=created["RevisionId"]
        )
    assert error_code(stale) == "PreconditionFailedException"

    assert [a["Name"] for a in lambda_client.list_aliases(FunctionName=name)["Aliases"]] == [
        "run-1"
    ]
    assert lambda_client.get_alias(FunctionName=name, Name="run-1")["Description"] == "moved"
    lambda_client.delete_alias(FunctionName=name, Name="run-1")
    with pytest.raises(ClientError) as deleted:
        lambda_client.get_alias(FunctionName=name, Name="run-1")
    assert error_code(deleted) == "ResourceNotFoundException"


# ----------------------------------------------------------------------------- SnapStart

SNAPSTART_ON = {"ApplyOn": "PublishedVersions"}
PENDING_MESSAGE = (
    "The operation cannot be performed at this time. "
    "The function is currently in the following state: Pending"
)


def test_snapstart_is_configured_on_latest_and_on_only_in_the_versions_published_with_it(
    lambda_client, make_function
):
    name = make_function(SLEEPY, Runtime="python3.12", SnapStart=SNAPSTART_ON)
    latest = lambda_client.get_function_configuration(FunctionName=name)
    assert latest["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "Off"}

    published = lambda_client.publish_version(FunctionName=name)
    version = published["Version"]
    on = {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}
    assert published["SnapStart"] == on
    # botocore's function_active_v2 waiter (GetFunction) on the qualified ARN waits for it.
    lambda_client.get_waiter("function_active_v2").wait(
        FunctionName=f"{ARN}{name}:{version}", WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )
    configurations = [
        lambda_client.get_function_configuration(FunctionName=name, Qualifier=version),
        lambda_client.get_function(FunctionName=f"{name}:{version}")["Configuration"],
        lambda_client.list_versions_by_function(FunctionName=name)["Versions"][1],
    ]
    for configuration in configurations:
        assert configuration["Version"] == version
        assert (configuration["State"], configuration["SnapStart"]) == ("Active", on)

    # Turning it off is a configuration change: the next version is a new one, Active at once.
    updated = lambda_client.update_function_configuration(
        FunctionName=name, SnapStart={"ApplyOn": "None"}
    )
    assert updated["SnapStart"] == {"ApplyOn": "None", "OptimizationStatus": "Off"}
    wait_until_updated(lambda_client, name)
    plain = lambda_client.publish_version(FunctionName=name)
    assert plain["Version"] != version
    assert (plain["State"], plain["LastUpdateStatus"]) == ("Active", "Successful")
    assert plain["SnapStart"] == {"ApplyOn": "None", "OptimizationStatus": "Off"}


def test_a_snapstart_version_is_pending_and_cannot_be_invoked_until_its_snapshot_is_made(
    sandbox, lambda_client, make_function
):
    name = make_function(SLEEPY, Runtime="python3.12")
    lambda_client.update_function_configuration(FunctionName=name, SnapStart=SNAPSTART_ON)
    wait_until_updated(lambda_client, name)
    previous = sandbox.configure(snapstart_delay_s=5)
    try:
        published = lambda_client.publish_version(FunctionName=name)
    finally:
        sandbox.configure(**previous)
    version = published["Version"]
    assert (published["State"], published["StateReasonCode"]) == ("Pending", "Creating")
    assert published["StateReason"] == "The function is being created."
    assert "LastUpdateStatus" not in published  # none until the version is Active
    pending = lambda_client.get_function_configuration(FunctionName=name, Qualifier=version)
    assert pending["State"] == "Pending"

    # An alias can point at it at once, but neither the version nor the alias can be invoked.
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    for qualifier in (version, "live"):
        with pytest.raises(ClientError) as refused:
            lambda_client.invoke(FunctionName=name, Qualifier=qualifier, Payload=b"{}")
        assert error_code(refused) == "ResourceConflictException"
        assert http_status(refused) == 409
        assert refused.value.response["Error"]["Message"] == PENDING_MESSAGE
    assert lambda_client.invoke(FunctionName=name, Payload=b"{}")["StatusCode"] == 200  # $LATEST

    lambda_client.get_waiter("published_version_active").wait(
        FunctionName=name, Qualifier=version, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )

    active = lambda_client.get_function_configuration(FunctionName=name, Qualifier=version)
    assert (active["State"], active["LastUpdateStatus"]) == ("Active", "Successful")
    assert "StateReasonCode" not in active
    answer = lambda_client.invoke(FunctionName=name, Qualifier="live", Payload=b"{}")
    assert "FunctionError" not in answer
    assert json.loads(answer["Payload"].read())["version"] == version


SLOW_INIT = """
import time

time.sleep(0.3)  # module load: the init cost


def handler(event, context):
    time.sleep(0.01)
    return {"version": context.function_version}
"""

#: AWS's REPORT line, field by field, tab-separated (Text log format).
FIELD_RE = re.compile(r"\t([A-Z][A-Za-z ]+): ([\d.]+) (ms|MB)")


def report_fields(log: str) -> dict[str, str]:
    line = next(x for x in log.splitlines() if x.startswith("REPORT RequestId: "))
    assert line.endswith("\t")  # AWS ends the line with a tab
    return {key: value for key, value, _unit in FIELD_RE.findall(line)}


def test_a_cold_start_reports_the_module_load_as_init_duration_in_aws_format(
    lambda_client, make_function
):
    name = make_function(SLOW_INIT, Timeout=10)
    _, cold_log = invoke_tail(lambda_client, name)
    _, warm_log = invoke_tail(lambda_client, name)
    cold, warm = report_fields(cold_log), report_fields(warm_log)

    assert list(cold) == [
        "Duration", "Billed Duration", "Memory Size", "Max Memory Used", "Init Duration"
    ]  # fmt: skip
    assert re.fullmatch(r"\d+\.\d{2}", cold["Init Duration"])
    assert float(cold["Init Duration"]) >= 300  # the 0.3 s sleep at module load
    assert float(cold["Duration"]) < 300  # ... is not part of the handler's duration
    assert int(cold["Billed Duration"]) == math.ceil(
        round(float(cold["Duration"]) + float(cold["Init Duration"]), 6)
    )
    assert "Init Duration" not in warm and "Restore Duration" not in warm
    assert cold_log.startswith("INIT_START Runtime Version: ")


def test_a_snapstart_version_reports_restore_and_billed_restore_duration_on_each_new_environment(
    lambda_client, make_function
):
    name = make_function(SLOW_INIT, Runtime="python3.12", Timeout=10, SnapStart=SNAPSTART_ON)
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.get_waiter("published_version_active").wait(
        FunctionName=name, Qualifier=version, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )
    _, restored_log = invoke_tail(lambda_client, name, Qualifier=version)
    _, warm_log = invoke_tail(lambda_client, name, Qualifier=version)
    _, latest_log = invoke_tail(lambda_client, name)  # $LATEST has no snapshot: Init Duration
    restored, warm, latest = (
        report_fields(restored_log),
        report_fields(warm_log),
        report_fields(latest_log),
    )

    # AWS: "the REPORT doesn't include the Init Duration field ... [it] includes the Restore
    # Duration and Billed Restore Duration fields", in this order, after Max Memory Used.
    assert list(restored) == [
        "Duration", "Billed Duration", "Memory Size", "Max Memory Used",
        "Restore Duration", "Billed Restore Duration",
    ]  # fmt: skip
    assert re.fullmatch(r"\d+\.\d{2}", restored["Restore Duration"])
    assert re.fullmatch(r"\d+", restored["Billed Restore Duration"])
    assert float(restored["Restore Duration"]) >= 300
    assert (
        1
        <= int(restored["Billed Restore Duration"])
        <= math.ceil(float(restored["Restore Duration"]))
    )
    # The restore is billed on its own line, not inside Billed Duration.
    assert int(restored["Billed Duration"]) == math.ceil(round(float(restored["Duration"]), 6))
    lines = restored_log.splitlines()
    assert lines[0].startswith("RESTORE_START Runtime Version: ")
    assert f"RESTORE_REPORT Restore Duration: {restored['Restore Duration']} ms" in lines
    assert "INIT_START" not in restored_log
    assert "Restore Duration" not in warm and "Init Duration" not in warm
    assert "Init Duration" in latest and "Restore Duration" not in latest


def test_a_snapstart_restore_is_in_the_json_platform_report_too(lambda_client, make_function):
    name = make_function(
        SLOW_INIT, Runtime="python3.12", SnapStart=SNAPSTART_ON, LoggingConfig={"LogFormat": "JSON"}
    )
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.get_waiter("published_version_active").wait(
        FunctionName=name, Qualifier=version, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )
    _, log = invoke_tail(lambda_client, name, Qualifier=version)
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    kinds = [r["type"] for r in records]
    assert kinds[0] == "platform.restoreStart" and "platform.restoreReport" in kinds
    restore = next(r for r in records if r["type"] == "platform.restoreReport")["record"]
    assert restore["status"] == "success" and restore["metrics"]["durationMs"] >= 300
    metrics = next(r for r in records if r["type"] == "platform.report")["record"]["metrics"]
    assert "initDurationMs" not in metrics
    assert metrics["restoreDurationMs"] >= 300
    assert isinstance(metrics["billedRestoreDurationMs"], int)


def test_snapstart_settings_and_runtimes_are_validated_like_aws(lambda_client, make_function):
    bad_value = (
        "1 validation error detected: Value 'Always' at 'snapStart.applyOn' failed to satisfy "
        "constraint: Member must satisfy enum value set: [PublishedVersions, None]"
    )
    old_runtime = "python3.11 is not supported for SnapStart enabled functions."
    base = {
        "Role": "arn:aws:iam::123456789012:role/test",
        "Handler": "handler.handler",
        "Code": {"ZipFile": zip_source(SLEEPY)},
    }
    cases = [
        ("python3.12", {"ApplyOn": "Always"}, "ValidationException", bad_value),
        ("python3.11", SNAPSTART_ON, "InvalidParameterValueException", old_runtime),
    ]
    name = make_function(SLEEPY, Runtime="python3.11", SnapStart={"ApplyOn": "None"})
    for runtime, snap_start, code, message in cases:
        with pytest.raises(ClientError) as on_create:
            lambda_client.create_function(
                FunctionName="test-invalid", Runtime=runtime, SnapStart=snap_start, **base
            )
        with pytest.raises(ClientError) as on_update:
            lambda_client.update_function_configuration(FunctionName=name, SnapStart=snap_start)
        for excinfo in (on_create, on_update):
            assert error_code(excinfo) == code
            assert http_status(excinfo) == 400
            assert excinfo.value.response["Error"]["Message"] == message

    # Nor can a SnapStart function move to a runtime without SnapStart.
    snappy = make_function(SLEEPY, Runtime="python3.13", SnapStart=SNAPSTART_ON)
    with pytest.raises(ClientError) as downgrade:
        lambda_client.update_function_configuration(FunctionName=snappy, Runtime="python3.11")
    assert downgrade.value.response["Error"]["Message"] == old_runtime
    assert lambda_client.get_function_configuration(FunctionName=snappy)["Runtime"] == "python3.13"


# ----------------------------------------------------------------------------- functions


def test_create_function_validates_runtime_memory_and_timeout(lambda_client, make_function):
    base = {
        "Role": "arn:aws:iam::123456789012:role/test",
        "Handler": "handler.handler",
        "Code": {"ZipFile": zip_source(SLEEPY)},
    }
    cases = [
        ({"Runtime": "nodejs20.x"}, "InvalidParameterValueException"),
        # Out-of-range numbers fail AWS's request validation, as on Lambda.
        ({"Runtime": "python3.11", "MemorySize": 10241}, "ValidationException"),
        ({"Runtime": "python3.11", "Timeout": 901}, "ValidationException"),
    ]
    for extra, code in cases:
        with pytest.raises(ClientError) as excinfo:
            lambda_client.create_function(FunctionName="test-invalid", **base, **extra)
        assert error_code(excinfo) == code, extra
        assert http_status(excinfo) == 400
    with pytest.raises(ClientError) as too_big:
        lambda_client.create_function(
            FunctionName="test-invalid", Runtime="python3.11", **base, MemorySize=10241
        )
    assert too_big.value.response["Error"]["Message"] == (
        "1 validation error detected: Value '10241' at 'memorySize' failed to satisfy "
        "constraint: Member must have value less than or equal to 10240"
    )

    name = make_function(SLEEPY)
    with pytest.raises(ClientError) as exists:
        lambda_client.create_function(FunctionName=name, Runtime="python3.11", **base)
    assert error_code(exists) == "ResourceConflictException"


def test_get_function_returns_configuration_code_location_tags_and_concurrency(
    sandbox, lambda_client, make_function
):
    name = make_function(
        SLEEPY,
        Tags={"team": "perf"},
        MemorySize=256,
        Environment={"Variables": {"MODE": "demo"}},
        LoggingConfig={"LogFormat": "JSON"},
    )
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=5)
    function = lambda_client.get_function(FunctionName=name)

    configuration = function["Configuration"]
    assert configuration["FunctionArn"] == f"{ARN}{name}"
    assert configuration["Version"] == "$LATEST"
    assert configuration["MemorySize"] == 256
    assert configuration["Environment"] == {"Variables": {"MODE": "demo"}}
    assert configuration["LoggingConfig"]["LogFormat"] == "JSON"
    assert function["Tags"] == {"team": "perf"}
    assert function["Concurrency"] == {"ReservedConcurrentExecutions": 5}
    assert function["Code"]["Location"].startswith(sandbox.lambda_url)
    with urllib_open(function["Code"]["Location"]) as package:
        # The files, not the bytes: a zip records the time each entry was written.
        archive = zipfile.ZipFile(io.BytesIO(package.read()))
        assert archive.read("handler.py").decode() == SLEEPY


def urllib_open(url: str):
    import urllib.request

    return urllib.request.urlopen(url, timeout=30)  # noqa: S310 - the sandbox's own URL


def test_list_functions_pages_with_a_marker(lambda_client, make_function):
    names = {make_function(SLEEPY) for _ in range(3)}
    seen, pages = [], 0
    for page in lambda_client.get_paginator("list_functions").paginate(
        PaginationConfig={"PageSize": 2}
    ):
        seen.extend(f["FunctionName"] for f in page["Functions"])
        pages += 1
    assert names <= set(seen)
    assert len(seen) == len(set(seen))
    assert pages >= 2


def test_unknown_functions_and_qualifiers_raise_resource_not_found_with_the_arn(
    lambda_client, make_function
):
    with pytest.raises(ClientError) as unknown:
        lambda_client.invoke(FunctionName="no-such-function")
    assert error_code(unknown) == "ResourceNotFoundException"
    assert http_status(unknown) == 404
    assert unknown.value.response["Error"]["Message"] == (
        f"Function not found: {ARN}no-such-function"
    )

    name = make_function(SLEEPY)
    with pytest.raises(ClientError) as unknown_qualifier:
        lambda_client.invoke(FunctionName=name, Qualifier="nope")
    assert unknown_qualifier.value.response["Error"]["Message"] == (
        f"Function not found: {ARN}{name}:nope"
    )
    with pytest.raises(ClientError) as unknown_version:
        lambda_client.get_function_configuration(FunctionName=name, Qualifier="7")
    assert error_code(unknown_version) == "ResourceNotFoundException"


def test_every_response_carries_a_request_id(lambda_client, make_function):
    name = make_function(SLEEPY)
    assert lambda_client.get_function(FunctionName=name)["ResponseMetadata"]["RequestId"]
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_function(FunctionName="no-such-function")
    assert excinfo.value.response["ResponseMetadata"]["RequestId"]


# ----------------------------------------------------------------------------- invoke


def test_invoke_accepts_a_name_a_partial_arn_a_full_arn_and_an_embedded_qualifier(
    lambda_client, make_function
):
    name = make_function(SLEEPY)
    lambda_client.publish_version(FunctionName=name)
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    calls = [
        ({"FunctionName": name}, "$LATEST"),
        ({"FunctionName": f"123456789012:function:{name}"}, "$LATEST"),
        ({"FunctionName": f"{ARN}{name}"}, "$LATEST"),
        ({"FunctionName": f"{name}:1"}, "1"),
        ({"FunctionName": f"{ARN}{name}:live"}, "1"),
        ({"FunctionName": name, "Qualifier": "live"}, "1"),
    ]
    for kwargs, executed in calls:
        response = lambda_client.invoke(**kwargs)
        assert response["StatusCode"] == 200, kwargs
        assert response["ExecutedVersion"] == executed, kwargs

    with pytest.raises(ClientError) as mismatch:
        lambda_client.invoke(FunctionName=f"{name}:1", Qualifier="live")
    assert error_code(mismatch) == "InvalidParameterValueException"


def test_a_handler_error_answers_200_with_an_unhandled_function_error(lambda_client, make_function):
    name = make_function(SLEEPY)
    response = lambda_client.invoke(FunctionName=name, Payload=b'{"fail": true}')
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    error = __import__("json").loads(response["Payload"].read())
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "asked to fail"


def test_the_log_tail_is_the_last_4_kb_of_the_invocation_log(lambda_client, make_function):
    name = make_function(SLEEPY)
    response = lambda_client.invoke(
        FunctionName=name, LogType="Tail", Payload=b'{"print_bytes": 20000}'
    )
    tail = base64.b64decode(response["LogResult"])
    assert len(tail) == 4096
    assert tail.rstrip().splitlines()[-1].startswith(b"REPORT RequestId:")
    assert b"START RequestId" not in tail  # cut away: it is more than 4 KB back

    without = lambda_client.invoke(FunctionName=name)
    assert "LogResult" not in without


def test_a_cold_invocation_reports_and_bills_its_init_duration_and_a_warm_one_does_not(
    lambda_client, make_function
):
    name = make_function(SLEEPY)
    _, cold_log = invoke_tail(lambda_client, name, b'{"sleep_s": 0.05}')
    _, warm_log = invoke_tail(lambda_client, name, b'{"sleep_s": 0.05}')
    cold, warm = report(cold_log), report(warm_log)

    assert cold["init"] is not None and cold["init"] > 0
    assert warm["init"] is None
    # Printed values are rounded to 0.01 ms, so allow that much either side of ceil().
    assert (
        math.ceil(warm["duration"] - 0.01) <= warm["billed"] <= math.ceil(warm["duration"] + 0.01)
    )
    cold_total = cold["duration"] + cold["init"]
    assert math.ceil(cold_total - 0.02) <= cold["billed"] <= math.ceil(cold_total + 0.02)


def test_a_function_running_longer_than_its_timeout_is_stopped_with_task_timed_out(
    lambda_client, make_function
):
    name = make_function(SLEEPY, Timeout=1)
    response, log = invoke_tail(lambda_client, name, b'{"sleep_s": 10}')
    assert response["FunctionError"] == "Unhandled"
    assert "Task timed out after 1.00 seconds" in response["Payload"].read().decode()
    assert "Task timed out after" in log


def test_dry_run_answers_204_and_event_answers_202(sandbox, lambda_client, make_function):
    name = make_function(SLEEPY)
    before = sandbox.stats()["invocations"]
    assert lambda_client.invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"] == 204
    assert lambda_client.invoke(FunctionName=name, InvocationType="Event")["StatusCode"] == 202
    deadline = time.monotonic() + 60
    while sandbox.stats()["invocations"] == before:
        assert time.monotonic() < deadline, "the Event invocation never ran"
        time.sleep(0.05)


# ----------------------------------------------------------------------------- concurrency


def invoke_in_parallel(client, name: str, count: int) -> list:
    """Invoke ``count`` times at once; returns responses and ClientErrors."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def call(index):
        barrier.wait()
        try:
            results[index] = client.invoke(FunctionName=name, Payload=b'{"sleep_s": 1.5}')
        except ClientError as exc:
            results[index] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_parallel_invocations_over_the_account_limit_are_throttled_with_429(sandbox, make_function):
    client = sandbox.lambda_client(retries={"total_max_attempts": 1}, max_pool_connections=10)
    name = make_function(SLEEPY)
    throttled_before = sandbox.stats()["throttled"]
    previous = sandbox.configure(concurrency_limit=2)
    try:
        assert client.get_account_settings()["AccountLimit"]["ConcurrentExecutions"] == 2
        results = invoke_in_parallel(client, name, 6)
    finally:
        sandbox.configure(**previous)

    errors = [r for r in results if isinstance(r, ClientError)]
    successes = [r for r in results if not isinstance(r, ClientError)]
    assert 1 <= len(successes) <= 2
    assert len(errors) == 6 - len(successes)
    for error in errors:
        assert error.response["Error"]["Code"] == "TooManyRequestsException"
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert error.response["Reason"] == "ConcurrentInvocationLimitExceeded"
        assert error.response["Type"] == "User"
    assert sandbox.stats()["throttled"] - throttled_before == len(errors)


def test_reserved_concurrency_limits_a_function_and_throttles_with_the_reserved_reason(
    sandbox, make_function
):
    client = sandbox.lambda_client(retries={"total_max_attempts": 1})
    name = make_function(SLEEPY)
    assert (
        client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)[
            "ReservedConcurrentExecutions"
        ]
        == 1
    )
    assert client.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 1

    results = invoke_in_parallel(client, name, 3)
    errors = [r for r in results if isinstance(r, ClientError)]
    assert len(errors) == 2
    assert {e.response["Reason"] for e in errors} == {
        "ReservedFunctionConcurrentInvocationLimitExceeded"
    }

    client.delete_function_concurrency(FunctionName=name)
    assert "ReservedConcurrentExecutions" not in client.get_function_concurrency(FunctionName=name)
