"""What a sweep records of $LATEST before changing it (botocore's Stubber answers for AWS)."""

import pytest
from botocore.stub import ANY

from tests.tuning.runfactory import make_run
from tuning.aws import PermanentAwsError
from tuning.engine.latest import record_original

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
