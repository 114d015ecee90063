"""Fault injection in the sandbox Lambda API (``/_sandbox/faults``), seen through boto3.

Clients here make one attempt per call: botocore's retries would hide the injected
errors (and use up the rules).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"


@pytest.fixture
def client(sandbox):
    return sandbox.lambda_client(retries={"total_max_attempts": 1})


def fails_with(call, code: str) -> ClientError:
    with pytest.raises(ClientError) as excinfo:
        call()
    assert excinfo.value.response["Error"]["Code"] == code
    return excinfo.value


@pytest.mark.parametrize(
    ("error", "code", "status", "error_type"),
    [
        ("TooManyRequestsException", "TooManyRequestsException", 429, "User"),
        ("ThrottlingException", "TooManyRequestsException", 429, "User"),
        ("ServiceException", "ServiceException", 500, "Service"),
        # not an error of Lambda's model: botocore keeps only its code and message
        ("AccessDeniedException", "AccessDeniedException", 403, None),
        ("ResourceConflictException", "ResourceConflictException", 409, "User"),
        ("ResourceNotFoundException", "ResourceNotFoundException", 404, "User"),
        ("InvalidParameterValueException", "InvalidParameterValueException", 400, "User"),
    ],
)
def test_each_error_reaches_boto3_as_lambda_answers_it(
    sandbox, client, error, code, status, error_type
):
    rule = sandbox.inject_fault("GetAccountSettings", error=error)
    assert rule["error"] == code

    exc = fails_with(client.get_account_settings, code)
    response = exc.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == code
    assert response.get("Type") == error_type
    assert "(sandbox fault" in response["Error"]["Message"]
    client.get_account_settings()  # times=1: the next call is served


def test_the_nth_call_and_the_times_after_it_fail_and_every_matching_call_is_counted(
    sandbox, client, make_function
):
    name = make_function()
    sandbox.inject_fault("GetFunctionConfiguration", nth=3, times=2, function=name)
    results = []
    for _ in range(5):
        try:
            client.get_function_configuration(FunctionName=name)
            results.append("ok")
        except ClientError as exc:
            results.append(exc.response["Error"]["Code"])
    assert results == ["ok", "ok", "ServiceException", "ServiceException", "ok"]
    [rule] = sandbox.faults()
    assert (rule["seen"], rule["fired"]) == (5, 2)


def test_times_zero_fails_every_call_from_the_nth_on(sandbox, client, make_function):
    name = make_function()
    assert sandbox.inject_fault("GetFunction", nth=2, times=0, function=name)["times"] is None
    client.get_function(FunctionName=name)
    for _ in range(3):
        fails_with(lambda: client.get_function(FunctionName=name), "ServiceException")


def test_function_matches_a_name_a_full_arn_and_a_qualified_arn_and_no_other_function(
    sandbox, client, make_function
):
    name, other = make_function(), make_function()
    rule = sandbox.inject_fault(
        "GetFunctionConfiguration", times=0, error="AccessDeniedException", function=ARN + name
    )
    assert rule["function"] == name
    for identifier in (name, ARN + name, f"{ARN}{name}:$LATEST"):
        fails_with(
            lambda identifier=identifier: client.get_function_configuration(
                FunctionName=identifier
            ),
            "AccessDeniedException",
        )
    client.get_function_configuration(FunctionName=other)
    assert sandbox.faults()[0]["seen"] == 3


def test_failed_calls_leave_the_function_its_versions_and_aliases_as_they_were(
    sandbox, client, make_function
):
    name = make_function(MemorySize=256)
    version = client.publish_version(FunctionName=name)["Version"]
    client.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    before = client.get_function_configuration(FunctionName=name)
    versions = client.list_versions_by_function(FunctionName=name)["Versions"]

    for operation in ("UpdateFunctionConfiguration", "PublishVersion", "DeleteAlias"):
        sandbox.inject_fault(operation, error="ServiceException", function=name)
    sandbox.inject_fault("DeleteFunction", error="TooManyRequestsException", function=name)
    fails_with(
        lambda: client.update_function_configuration(FunctionName=name, MemorySize=512),
        "ServiceException",
    )
    fails_with(lambda: client.publish_version(FunctionName=name), "ServiceException")
    fails_with(lambda: client.delete_alias(FunctionName=name, Name="live"), "ServiceException")
    fails_with(
        lambda: client.delete_function(FunctionName=name, Qualifier=version),
        "TooManyRequestsException",
    )

    after = client.get_function_configuration(FunctionName=name)
    assert (after["MemorySize"], after["RevisionId"]) == (256, before["RevisionId"])
    assert client.list_versions_by_function(FunctionName=name)["Versions"] == versions
    assert client.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == version


def test_a_timeout_holds_the_request_until_the_client_gives_up(sandbox):
    client = sandbox.lambda_client(read_timeout=1, retries={"total_max_attempts": 1})
    sandbox.inject_fault("GetAccountSettings", error="timeout", delay_s=3)
    started = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        client.get_account_settings()
    assert time.monotonic() - started < 2.5
    client.get_account_settings()


def test_a_delay_alone_serves_the_call_late_and_a_delay_with_an_error_answers_it_late(
    sandbox, client
):
    sandbox.inject_fault("GetAccountSettings", error=None, delay_s=0.3)
    sandbox.inject_fault("GetAccountSettings", nth=2, error="ServiceException", delay_s=0.3)
    started = time.monotonic()
    client.get_account_settings()
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    fails_with(client.get_account_settings, "ServiceException")
    assert time.monotonic() - started >= 0.3


def post_rule(sandbox, rule: dict) -> tuple[int, str, dict]:
    request = urllib.request.Request(  # noqa: S310 - the local sandbox
        sandbox.lambda_url + "/_sandbox/faults", data=json.dumps(rule).encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.headers["x-amzn-ErrorType"], json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["x-amzn-ErrorType"], json.load(exc)


@pytest.mark.parametrize(
    ("rule", "listed"),
    [
        ({"operation": "UpdateFunction"}, "UpdateFunctionConfiguration"),
        ({"operation": "Invoke", "error": "Boom"}, "TooManyRequestsException"),
        ({"operation": "Invoke", "nth": 0}, "nth must be an integer >= 1"),
        ({"operation": "Invoke", "error": None}, "needs an error or a delay_s"),
        ({"operation": "Invoke", "when": 1}, "function"),
    ],
)
def test_a_bad_rule_is_refused_with_400_and_the_valid_values(sandbox, rule, listed):
    status, error_type, body = post_rule(sandbox, rule)
    assert (status, error_type) == (400, "InvalidParameterValueException")
    assert listed in body["message"]
    assert sandbox.faults() == []


def test_rules_are_listed_and_cleared_and_calls_are_counted_by_operation(sandbox, client):
    first = sandbox.inject_fault("Invoke", nth=5)
    second = sandbox.inject_fault("GetAccountSettings", nth=2, error="ThrottlingException")
    assert second["id"] > first["id"]
    assert [rule["id"] for rule in sandbox.faults()] == [first["id"], second["id"]]
    counted = sandbox.stats()["calls_by_operation"].get("GetAccountSettings", 0)

    client.get_account_settings()
    sandbox.clear_faults()
    assert sandbox.faults() == []
    client.get_account_settings()  # would have been the second call
    assert sandbox.stats()["calls_by_operation"]["GetAccountSettings"] == counted + 2
