"""tuning.aws: botocore errors become Transient/PermanentAwsError with readable messages.

The Lambda client is the real shared boto3 client of aws.clients, with botocore's
Stubber answering instead of AWS.
"""

import base64
import io

import pytest
from botocore.response import StreamingBody

from aws.models import AwsAccount
from tuning import aws

REGION = "us-east-1"


def _error(stub, method, code, message="", status=400):
    stub.add_client_error(
        method, service_error_code=code, service_message=message, http_status_code=status
    )


def test_throttling_is_a_transient_error(stubbed):
    _error(
        stubbed(), "get_function_configuration", "TooManyRequestsException", "Rate Exceeded.", 429
    )
    with pytest.raises(aws.TransientAwsError) as raised:
        aws.get_function_configuration(None, REGION, "tuneboard-cpu")
    assert raised.value.throttled
    assert "throttled" in str(raised.value)


@pytest.mark.parametrize(
    "code,status",
    [
        ("ServiceException", 500),
        ("ResourceConflictException", 409),
        ("ResourceNotReadyException", 502),
        ("SomethingNewAndBroken", 503),
    ],
)
def test_server_errors_and_update_conflicts_are_transient(stubbed, code, status):
    _error(stubbed(), "update_function_configuration", code, "try again", status)
    with pytest.raises(aws.TransientAwsError) as raised:
        aws.update_configuration(None, REGION, "tuneboard-cpu", memory_mb=512)
    assert raised.value.code == code


def test_access_denied_is_permanent_and_says_which_permission_is_missing(stubbed, db):
    account = AwsAccount.objects.create(
        name="prod", role_arn="arn:aws:iam::111122223333:role/tuneboard"
    )
    _error(
        stubbed(),
        "update_function_configuration",
        "AccessDeniedException",
        "User is not authorized to perform: lambda:UpdateFunctionConfiguration",
        403,
    )
    with pytest.raises(aws.PermanentAwsError) as raised:
        aws.update_configuration(None, REGION, "tuneboard-cpu", memory_mb=512)
    message = str(raised.value)
    assert message.startswith("Access denied")
    assert "lambda:UpdateFunctionConfiguration" in message
    assert "tuneboard-cpu" in message
    assert "region us-east-1" in message
    # With an account, the message names it and the role Tuneboard assumed.
    error = aws.map_error(
        raised.value.__cause__,
        operation="lambda:InvokeFunction",
        resource="fn",
        account=account,
        region=REGION,
    )
    assert "arn:aws:iam::111122223333:role/tuneboard" in str(error)
    assert "account 'prod'" in str(error)


def test_a_missing_function_is_permanent_and_tells_the_user_what_to_check(stubbed):
    _error(
        stubbed(),
        "get_function_configuration",
        "ResourceNotFoundException",
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope",
        404,
    )
    with pytest.raises(aws.PermanentAwsError) as raised:
        aws.get_function_configuration(None, REGION, "nope")
    assert "Not found: nope does not exist in the worker's AWS account, region us-east-1" in str(
        raised.value
    )
    assert "check the function name" in str(raised.value)


def test_an_invalid_parameter_is_permanent_and_quotes_aws(stubbed):
    _error(
        stubbed(),
        "update_function_configuration",
        "InvalidParameterValueException",
        "MemorySize value failed to satisfy constraint: Member must have value less than or "
        "equal to 3008",
    )
    with pytest.raises(aws.PermanentAwsError) as raised:
        aws.update_configuration(None, REGION, "tuneboard-cpu", memory_mb=10240)
    assert "less than or equal to 3008" in str(raised.value)
    assert "invalid" in str(raised.value)


def test_deleting_an_alias_that_is_already_gone_is_not_an_error(stubbed):
    _error(stubbed(), "delete_alias", "ResourceNotFoundException", "Alias not found", 404)
    assert aws.delete_alias(None, REGION, "tuneboard-cpu", "tb-x-128") is False


def test_a_version_published_earlier_is_not_reported_as_created_by_us(stubbed):
    stubbed().add_response(
        "publish_version",
        {"Version": "7", "Description": "someone else's release", "CodeSha256": "abc"},
        {"FunctionName": "fn", "Description": "tuneboard run 1"},
    )
    published = aws.publish_version(None, REGION, "fn", "tuneboard run 1")
    assert published["version"] == "7"
    assert published["created"] is False


def test_a_pending_snapstart_version_is_waited_for_until_it_is_active(stubbed):
    stub = stubbed()
    stub.add_response(
        "publish_version",
        {"Version": "3", "Description": "run 1", "State": "Pending", "StateReasonCode": "Creating"},
        {"FunctionName": "fn", "Description": "run 1"},
    )
    for state in ("Pending", "Pending", "Active"):
        stub.add_response(
            "get_function_configuration",
            {"Version": "3", "State": state},
            {"FunctionName": "fn", "Qualifier": "3"},
        )
    published = aws.publish_version(None, REGION, "fn", "run 1")
    assert published["state"] == "Pending"
    aws.wait_version_active(None, REGION, "fn", published["version"])
    stub.assert_no_pending_responses()  # polled until Active, and no further


def test_a_version_whose_snapshot_failed_is_a_permanent_error_with_lambdas_reason(stubbed):
    stubbed().add_response(
        "get_function_configuration",
        {
            "Version": "3",
            "State": "Failed",
            "StateReasonCode": "FunctionError",
            "StateReason": "Function initialization failed: MemoryError",
        },
        {"FunctionName": "fn", "Qualifier": "3"},
    )
    with pytest.raises(aws.PermanentAwsError) as raised:
        aws.wait_version_active(None, REGION, "fn", "3")
    assert str(raised.value) == (
        "Lambda could not make version 3 of fn ready to invoke (State Failed, FunctionError): "
        "Function initialization failed: MemoryError"
    )
    assert raised.value.code == "FunctionError"


def test_a_failed_configuration_update_is_a_permanent_error_with_lambdas_reason(stubbed):
    stubbed().add_response(
        "get_function",
        {
            "Configuration": {
                "LastUpdateStatus": "Failed",
                "LastUpdateStatusReasonCode": "InvalidSubnet",
                "LastUpdateStatusReason": "The subnet does not exist.",
            }
        },
        {"FunctionName": "fn"},
    )
    with pytest.raises(aws.PermanentAwsError) as raised:
        aws.wait_updated(None, REGION, "fn")
    assert str(raised.value) == (
        "Lambda could not apply the configuration update to fn: The subnet does not exist."
    )
    assert raised.value.code == "InvalidSubnet"


def test_a_function_deleted_while_waiting_is_not_found_not_a_retry(stubbed):
    _error(stubbed(), "get_function_configuration", "ResourceNotFoundException", "gone", 404)
    with pytest.raises(aws.PermanentAwsError) as raised:
        aws.wait_version_active(None, REGION, "fn", "3")
    assert raised.value.code == "ResourceNotFoundException"
    assert str(raised.value).startswith("Not found: fn:3 does not exist")


def test_invoke_parses_the_report_and_recognises_out_of_memory(stubbed):
    tail = (
        "START RequestId: r1 Version: 3\n"
        "RequestId: r1 Error: Runtime exited with error: signal: killed\n"
        "END RequestId: r1\n"
        "REPORT RequestId: r1\tDuration: 3012.20 ms\tBilled Duration: 3322 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 128 MB\tInit Duration: 309.18 ms\t"
        "Status: error\tError Type: Runtime.OutOfMemory\t\n"
    )
    body = b'{"errorType": "Runtime.OutOfMemory", "errorMessage": "signal: killed"}'
    stubbed().add_response(
        "invoke",
        {
            "StatusCode": 200,
            "FunctionError": "Unhandled",
            "LogResult": base64.b64encode(tail.encode()).decode(),
            "ExecutedVersion": "3",
            "Payload": StreamingBody(io.BytesIO(body), len(body)),
        },
    )
    outcome = aws.invoke(None, REGION, "tuneboard-memory", "tb-abc-128", b"{}")
    assert outcome.failed and outcome.out_of_memory and not outcome.timed_out
    assert outcome.report.duration_ms == 3012.20
    assert outcome.report.init_duration_ms == 309.18
    assert outcome.error_type == "Runtime.OutOfMemory"


def test_invoke_recognises_a_timeout(stubbed):
    body = b'{"errorMessage": "2026-01-01T00:00:00Z r2 Task timed out after 3.00 seconds"}'
    stubbed().add_response(
        "invoke",
        {
            "StatusCode": 200,
            "FunctionError": "Unhandled",
            "Payload": StreamingBody(io.BytesIO(body), len(body)),
        },
    )
    outcome = aws.invoke(None, REGION, "fn", "1", b"{}")
    assert outcome.timed_out and outcome.report is None


def test_throttled_invoke_is_transient(stubbed):
    _error(stubbed(), "invoke", "TooManyRequestsException", "Rate Exceeded.", 429)
    with pytest.raises(aws.TransientAwsError) as raised:
        aws.invoke(None, REGION, "fn", "1", b"{}")
    assert raised.value.throttled


def test_monthly_invocations_sums_thirty_days_of_the_lambda_metric(stubbed):
    stubbed("cloudwatch").add_response(
        "get_metric_data",
        {"MetricDataResults": [{"Id": "invocations", "Values": [1000.0, 2500.0, 40.0]}]},
    )
    assert aws.monthly_invocations(None, REGION, "tuneboard-cpu") == 3540


def test_monthly_invocations_says_why_cloudwatch_cannot_answer(stubbed):
    _error(stubbed("cloudwatch"), "get_metric_data", "AccessDenied", "no", 403)
    with pytest.raises(aws.PermanentAwsError) as raised:
        aws.monthly_invocations(None, REGION, "tuneboard-cpu")
    assert "cloudwatch:GetMetricData" in str(raised.value)


def test_monthly_invocations_is_none_without_datapoints(stubbed):
    stubbed("cloudwatch").add_response(
        "get_metric_data", {"MetricDataResults": [{"Id": "invocations", "Values": []}]}
    )
    assert aws.monthly_invocations(None, REGION, "tuneboard-cpu") is None


def test_list_functions_returns_summaries_sorted_by_name(stubbed):
    stubbed().add_response(
        "list_functions",
        {
            "Functions": [
                {
                    "FunctionName": "zeta",
                    "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:zeta",
                    "Runtime": "python3.12",
                    "MemorySize": 256,
                    "Timeout": 5,
                    "Architectures": ["arm64"],
                    "LastModified": "2026-01-01T00:00:00.000+0000",
                },
                {"FunctionName": "alpha", "MemorySize": 128, "Timeout": 3},
            ]
        },
    )
    functions = aws.list_functions(None, REGION)
    assert [f["name"] for f in functions] == ["alpha", "zeta"]
    assert functions[1] == {
        "name": "zeta",
        "arn": "arn:aws:lambda:us-east-1:123456789012:function:zeta",
        "runtime": "python3.12",
        "memory_mb": 256,
        "timeout_s": 5,
        "architecture": "arm64",
        "last_modified": "2026-01-01T00:00:00.000+0000",
    }


def test_parameters_botocore_refuses_are_a_permanent_error():
    from botocore.exceptions import ParamValidationError

    error = aws.map_error(
        ParamValidationError(report="Invalid length for parameter Name, value: 0"),
        operation="lambda:CreateAlias",
        resource="tuneboard-cpu",
    )
    assert isinstance(error, aws.PermanentAwsError)
    assert "Invalid parameters for lambda:CreateAlias tuneboard-cpu" in str(error)
