"""One AWS error taxonomy and one retry helper for both apps."""

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)
from django.core.management import call_command

from aws.errors import PermanentAwsError, TransientAwsError, map_error
from aws.models import AwsAccount
from aws.retry import Backoff, retrying


def client_error(code: str, status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "AnyOperation",
    )


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (client_error("TooManyRequestsException", 429), TransientAwsError),
        (client_error("ThrottlingException"), TransientAwsError),
        (client_error("LimitExceededException"), TransientAwsError),
        (client_error("ResourceConflictException", 409), TransientAwsError),
        (client_error("ServiceException", 500), TransientAwsError),
        (client_error("SomethingNew", 503), TransientAwsError),
        (client_error("SomethingNew", 429), TransientAwsError),
        (client_error("AccessDeniedException", 403), PermanentAwsError),
        (client_error("ResourceNotFoundException", 404), PermanentAwsError),
        (client_error("InvalidParameterValueException"), PermanentAwsError),
        (client_error("SomethingNew"), PermanentAwsError),
        (EndpointConnectionError(endpoint_url="http://x"), TransientAwsError),
        (ReadTimeoutError(endpoint_url="http://x"), TransientAwsError),
        (NoCredentialsError(), PermanentAwsError),
        (ParamValidationError(report="bad"), PermanentAwsError),
    ],
)
def test_every_botocore_error_is_transient_or_permanent_by_one_table(error, kind):
    mapped = map_error(error, operation="lambda:Anything")
    assert type(mapped) is kind
    assert mapped.operation == "lambda:Anything"


def test_access_denied_names_the_role_and_where():
    error = map_error(
        client_error("AccessDenied", 403),
        operation="dax:DescribeClusters",
        where="account 'prod', region eu-west-1",
        role_arn="arn:aws:iam::111122223333:role/tb",
    )
    assert str(error).startswith("Access denied")
    assert "arn:aws:iam::111122223333:role/tb" in str(error)
    assert "account 'prod', region eu-west-1" in str(error)


def test_a_throttled_error_says_so():
    assert map_error(client_error("Throttling"), operation="x").throttled
    assert not map_error(client_error("ServiceException", 500), operation="x").throttled


def test_retrying_repeats_transient_errors_with_growing_capped_delays():
    calls, slept, seen = [], [], []

    def flaky():
        calls.append(1)
        if len(calls) < 4:
            raise TransientAwsError("busy")
        return "done"

    backoff = Backoff(attempts=5, base_s=1.0, cap_s=3.0, sleep=slept.append)
    assert retrying(flaky, backoff=backoff, on_retry=lambda e, n: seen.append(n)) == "done"
    assert len(calls) == 4 and seen == [0, 1, 2]
    assert 0.5 <= slept[0] <= 1.0 and 1.0 <= slept[1] <= 2.0 and 1.5 <= slept[2] <= 3.0


def test_retrying_gives_up_after_the_attempts_and_never_retries_permanent_errors():
    calls = []

    def always(kind):
        calls.append(kind)
        raise kind("no")

    quiet = Backoff(attempts=3, sleep=lambda s: None)
    with pytest.raises(TransientAwsError):
        retrying(always, TransientAwsError, backoff=quiet)
    assert len(calls) == 3
    with pytest.raises(PermanentAwsError):
        retrying(always, PermanentAwsError, backoff=quiet)
    assert len(calls) == 4


def test_the_account_model_kept_its_table_and_the_migrations_match_the_models(db):
    assert AwsAccount._meta.db_table == "tuning_awsaccount"
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
