"""One AWS error taxonomy: every botocore error is transient or permanent by one table."""

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    ReadTimeoutError,
)

from aws.errors import (
    ACCESS_CODES,
    INVALID_CODES,
    NOT_FOUND_CODES,
    THROTTLING_CODES,
    TRANSIENT_CODES,
    PermanentAwsError,
    TransientAwsError,
    map_error,
)


def client_error(code: str, status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "AnyOperation",
    )


CODE_TABLE = (
    [(code, TransientAwsError) for code in sorted(TRANSIENT_CODES)]
    + [(code, PermanentAwsError) for code in sorted(ACCESS_CODES | NOT_FOUND_CODES)]
    + [(code, PermanentAwsError) for code in sorted(INVALID_CODES)]
)


@pytest.mark.parametrize(("code", "kind"), CODE_TABLE)
def test_each_code_of_the_table_is_transient_or_permanent(code, kind):
    mapped = map_error(client_error(code), operation="lambda:Anything")

    assert type(mapped) is kind
    assert (mapped.code, mapped.operation, mapped.status) == (code, "lambda:Anything", 400)


def test_the_code_sets_do_not_overlap_and_every_throttle_is_transient():
    permanent = ACCESS_CODES | NOT_FOUND_CODES | INVALID_CODES
    assert not TRANSIENT_CODES & permanent
    assert THROTTLING_CODES <= TRANSIENT_CODES
    assert "LimitExceededException" in THROTTLING_CODES


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (client_error("LimitExceededException"), TransientAwsError),
        (client_error("SomethingNew", 500), TransientAwsError),
        (client_error("SomethingNew", 503), TransientAwsError),
        (client_error("SomethingNew", 429), TransientAwsError),
        (client_error("SomethingNew", 400), PermanentAwsError),
        (EndpointConnectionError(endpoint_url="http://x"), TransientAwsError),
        (ConnectTimeoutError(endpoint_url="http://x"), TransientAwsError),
        (ReadTimeoutError(endpoint_url="http://x"), TransientAwsError),
        (NoRegionError(), TransientAwsError),  # any other BotoCoreError
        (NoCredentialsError(), PermanentAwsError),
        (ParamValidationError(report="bad"), PermanentAwsError),
    ],
)
def test_statuses_and_botocore_errors_outside_the_table(error, kind):
    assert type(map_error(error, operation="lambda:Anything")) is kind


def test_access_denied_names_the_role_and_where():
    error = map_error(
        client_error("AccessDenied", 403),
        operation="dax:DescribeClusters",
        where="account 'prod', region eu-west-1",
        role_arn="arn:aws:iam::111122223333:role/tb",
    )

    assert str(error).startswith("Access denied")
    assert "dax:DescribeClusters" in str(error)
    assert "arn:aws:iam::111122223333:role/tb" in str(error)
    assert "account 'prod', region eu-west-1" in str(error)


def test_not_found_says_what_to_check():
    error = map_error(
        client_error("ResourceNotFoundException", 404),
        operation="lambda:GetFunctionConfiguration",
        resource="my-function",
        where="region eu-west-1",
    )

    assert "my-function does not exist in region eu-west-1" in str(error)
    assert "check the function name, qualifier and region" in str(error)


def test_a_throttled_error_says_so():
    assert map_error(client_error("Throttling"), operation="x").throttled
    assert map_error(client_error("SomethingNew", 429), operation="x").throttled
    assert not map_error(client_error("ServiceException", 500), operation="x").throttled


def test_anything_but_a_botocore_error_is_a_bug_not_an_aws_error():
    with pytest.raises(TypeError):
        map_error(ValueError("mine"), operation="x")
