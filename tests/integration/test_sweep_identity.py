"""A sweep touches exactly the function asked for: one ARN in the account of the credentials it
uses, one owner at a time. Real worker, Redis, PostgreSQL and the sandbox (moto's STS)."""

import pytest

from aws import clients
from aws.models import AwsAccount
from tests.integration.test_sweep import function_state, wait_finished
from tests.tuning.runfactory import start_run
from tuning.models import RunStatus, TuningRun
from tuning.params import InvalidSweep

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

OTHER_ACCOUNT_ARN = "arn:aws:lambda:us-east-1:999999999999:function:tuneboard-io"


# The module's shared worker (tests/integration/conftest.py) has 4 processes.
WORKER_CONCURRENCY = 4


def test_an_arn_of_another_account_is_refused_naming_both_accounts(in_sandbox, lambda_client):
    before = function_state(lambda_client, "tuneboard-io")
    with pytest.raises(InvalidSweep) as refused:
        start_run(function=OTHER_ACCOUNT_ARN, memory_sizes=[256], invocations_per_size=1)
    assert refused.value.field == "function"
    assert "999999999999" in str(refused.value) and "123456789012" in str(refused.value)
    assert not TuningRun.objects.exists()
    assert function_state(lambda_client, "tuneboard-io") == before


def test_the_worker_refuses_an_arn_of_another_account_when_it_was_queued_unchecked(
    worker, lambda_client, monkeypatch
):
    # STS does not answer the web process (the worker's endpoints are the sandbox's).
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")
    clients.clear()
    before = function_state(lambda_client, "tuneboard-io")
    run = start_run(function=OTHER_ACCOUNT_ARN, memory_sizes=[256], invocations_per_size=1)
    wait_finished(run, worker=worker)
    assert run.status == RunStatus.FAILED
    assert "names AWS account 999999999999" in run.error_message
    assert "act in account 123456789012" in run.error_message
    assert run.original_config in (None, {})
    assert function_state(lambda_client, "tuneboard-io") == before


def test_two_spellings_of_one_function_cannot_sweep_it_at_the_same_time(worker, lambda_client):
    """The workers' own credentials and an account row without a role are the same AWS account:
    whichever run resolves the function first owns it, the other is refused before it changes
    anything, and the function ends as it was."""
    before = function_state(lambda_client, "tuneboard-io")
    same_account = AwsAccount.objects.create(name="same", default_region="us-east-1")
    params = {"memory_sizes": [128, 256, 512], "invocations_per_size": 4}
    first = start_run(function="tuneboard-io", **params)
    second = start_run(function="tuneboard-io", account="same", **params)
    assert first.function_key != second.function_key  # the web side cannot tell them apart
    for run in (first, second):
        wait_finished(run, worker=worker)
    outcomes = sorted([first, second], key=lambda run: run.status)
    refused, succeeded = outcomes
    assert (refused.status, succeeded.status) == (RunStatus.FAILED, RunStatus.SUCCEEDED)
    assert "already has an active sweep" in refused.error_message
    assert refused.original_config in (None, {})  # refused before reading or changing anything
    arn = "arn:aws:lambda:us-east-1:123456789012:function:tuneboard-io"
    assert succeeded.function_key == arn
    assert succeeded.original_config["MemorySize"] == before["memory"]
    assert function_state(lambda_client, "tuneboard-io") == before
    assert same_account.runs.count() == 1


def test_every_lambda_call_names_the_function_in_the_roles_account(worker, lambda_client):
    """Through a role of account 999999999999, "tuneboard-io" is that account's function: the
    sandbox (whose functions live in 123456789012) does not have it, and the function of the
    same name in the workers' own account is left alone."""
    before = function_state(lambda_client, "tuneboard-io")
    AwsAccount.objects.create(
        name="staging", role_arn="arn:aws:iam::999999999999:role/tuner", default_region="us-east-1"
    )
    run = start_run(function="tuneboard-io", account="staging", memory_sizes=[256])
    wait_finished(run, worker=worker)
    assert run.status == RunStatus.FAILED
    assert run.function_key == OTHER_ACCOUNT_ARN
    assert "not found" in run.error_message.lower(), run.error_message
    assert function_state(lambda_client, "tuneboard-io") == before
