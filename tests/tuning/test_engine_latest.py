"""What a sweep records of $LATEST before changing it (botocore's Stubber answers for AWS)."""

import pytest
from botocore.stub import ANY

from tests.tuning.runfactory import make_run
from tuning.aws import PermanentAwsError
from tuning.engine.latest import record_original
from tuning.engine.target import TargetRefused, configuration_differences

pytestmark = pytest.mark.django_db

ARN = "arn:aws:lambda:us-east-1:123456789012:function:orders"


def configuration(**extra):
    return {
        "FunctionName": "orders",
        "FunctionArn": ARN,
        "Runtime": "python3.12",
        "MemorySize": 256,
        "Timeout": 30,
        "CodeSha256": "abc=",
        "LastUpdateStatus": "Successful",
        "Architectures": ["arm64"],
        **extra,
    }


def test_only_what_the_sweep_changes_is_recorded_and_the_variables_stay_in_memory(stubbed):
    stubbed().add_response(
        "get_function_configuration",
        configuration(Environment={"Variables": {"DB_PASSWORD": "s3cret"}}),
        {"FunctionName": ANY},
    )
    run = make_run(function="orders", status="RUNNING")
    environment = record_original(run)
    assert environment == {"DB_PASSWORD": "s3cret"}
    run.refresh_from_db()
    assert run.original_config == {
        "FunctionArn": ARN,
        "Runtime": "python3.12",
        "MemorySize": 256,
        "Architectures": ["arm64"],
        "EphemeralStorage": {"Size": 512},
        "CodeSha256": "abc=",
    }


def test_cold_starts_mode_is_refused_when_lambda_cannot_decrypt_the_variables(stubbed):
    error = {"ErrorCode": "KMSAccessDeniedException", "Message": "no access to key"}
    stubbed().add_response(
        "get_function_configuration",
        configuration(Environment={"Error": error}),
        {"FunctionName": ANY},
    )
    run = make_run(function="orders", status="RUNNING")
    run.cold_starts_only = True
    with pytest.raises(PermanentAwsError) as refused:
        record_original(run)
    assert "could not decrypt them (KMSAccessDeniedException)" in str(refused.value)
    assert "nothing was changed" in str(refused.value)


def qualified_run(qualifier: str):
    run = make_run(function="orders", status="RUNNING")
    run.qualifier = qualifier
    return run


def test_a_version_configured_like_latest_apart_from_memory_is_measured(stubbed):
    stub = stubbed()
    latest = configuration(Environment={"Variables": {"STAGE": "prod"}})
    stub.add_response("get_function_configuration", latest, {"FunctionName": ANY})
    version = {**latest, "Version": "7", "MemorySize": 1024, "Description": "release 7"}
    stub.add_response(
        "get_function_configuration", version, {"FunctionName": ANY, "Qualifier": "7"}
    )
    run = qualified_run("7")
    record_original(run)
    stub.assert_no_pending_responses()
    assert run.original_config["MemorySize"] == 256  # $LATEST's, which the sweep changes


def test_an_alias_whose_version_has_another_configuration_is_refused_naming_what_differs(
    stubbed,
):
    stub = stubbed()
    latest = configuration(Environment={"Variables": {"DB_PASSWORD": "pw-after", "STAGE": "prod"}})
    stub.add_response("get_function_configuration", latest, {"FunctionName": ANY})
    stub.add_response(
        "get_alias",
        {"AliasArn": f"{ARN}:live", "Name": "live", "FunctionVersion": "3"},
        {"FunctionName": ANY, "Name": "live"},
    )
    old = {
        **latest,
        "Version": "3",
        "Timeout": 10,
        "Architectures": ["x86_64"],
        "Environment": {"Variables": {"DB_PASSWORD": "pw-before", "STAGE": "prod"}},
    }
    stub.add_response("get_function_configuration", old, {"FunctionName": ANY, "Qualifier": "3"})
    run = qualified_run("live")
    before = dict(run.original_config)
    with pytest.raises(TargetRefused) as refused:
        record_original(run)
    message = str(refused.value)
    assert "orders:live is not configured like $LATEST apart from memory" in message
    assert "version 3: timeout, architecture, environment variables DB_PASSWORD" in message
    assert "nothing was changed" in message
    assert "pw-before" not in message and "pw-after" not in message  # never a value
    run.refresh_from_db()
    assert run.original_config == before  # refused before $LATEST was recorded or changed


def test_every_version_a_weighted_alias_routes_to_must_match(stubbed):
    stub = stubbed()
    latest = configuration()
    stub.add_response("get_function_configuration", latest, {"FunctionName": ANY})
    stub.add_response(
        "get_alias",
        {
            "Name": "canary",
            "FunctionVersion": "4",
            "RoutingConfig": {"AdditionalVersionWeights": {"5": 0.1}},
        },
        {"FunctionName": ANY, "Name": "canary"},
    )
    stub.add_response(
        "get_function_configuration",
        {**latest, "Version": "4"},
        {"FunctionName": ANY, "Qualifier": "4"},
    )
    stub.add_response(
        "get_function_configuration",
        {**latest, "Version": "5", "CodeSha256": "other="},
        {"FunctionName": ANY, "Qualifier": "5"},
    )
    with pytest.raises(TargetRefused) as refused:
        record_original(qualified_run("canary"))
    assert "(version 5: code)" in str(refused.value)


def test_configuration_differences_ignore_memory_and_description_and_name_variables_only():
    latest = configuration(Environment={"Variables": {"A": "1"}}, Description="x")
    assert (
        configuration_differences({**latest, "MemorySize": 4096, "Description": "y"}, latest) == []
    )
    other = {
        **latest,
        "Runtime": "python3.13",
        "Layers": [{"Arn": "arn:aws:lambda:us-east-1:123456789012:layer:deps:2"}],
        "SnapStart": {"ApplyOn": "PublishedVersions"},
        "Environment": {"Variables": {"A": "1", "B": "2"}},
    }
    assert configuration_differences(other, latest) == [
        "runtime",
        "layers",
        "SnapStart",
        "environment variables B",
    ]
