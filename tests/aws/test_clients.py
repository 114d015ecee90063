"""Per-process boto3 clients: one per (service, region, role, external id), dropped on fork."""

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from celery.signals import worker_process_init

import dashboard.celery  # noqa: F401  (connects the worker_process_init handler)
from aws import clients

ROLE = "arn:aws:iam::210987654321:role/tuneboard"


@pytest.fixture(autouse=True)
def fresh_clients(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    clients.clear()
    yield
    clients.clear()


def test_the_same_service_region_and_role_share_one_client():
    assert clients.client("lambda", "us-east-1") is clients.client("lambda", "us-east-1")
    assert clients.client("lambda", "us-east-1", ROLE, "x") is clients.client(
        "lambda", "us-east-1", ROLE, "x"
    )


def test_an_empty_role_is_the_workers_own_credentials():
    assert clients.client("lambda", "us-east-1", "", "") is clients.client("lambda", "us-east-1")


def test_another_service_region_role_or_external_id_gets_its_own_client():
    first = clients.client("lambda", "us-east-1", ROLE, "x")

    assert first is not clients.client("cloudwatch", "us-east-1", ROLE, "x")
    assert first is not clients.client("lambda", "eu-west-1", ROLE, "x")
    assert first is not clients.client("lambda", "us-east-1")
    assert first is not clients.client("lambda", "us-east-1", ROLE, "y")
    assert clients.client("lambda", "eu-west-1").meta.region_name == "eu-west-1"


def test_clear_drops_every_client():
    before = clients.client("lambda", "us-east-1")

    clients.clear()

    assert clients.client("lambda", "us-east-1") is not before


def test_each_worker_process_starts_with_fresh_clients():
    before = clients.client("lambda", "us-east-1")

    worker_process_init.send(sender=None)

    assert clients.client("lambda", "us-east-1") is not before


def test_botocore_never_retries_so_aws_retry_is_the_only_retry_layer():
    client = clients.client("lambda", "us-east-1")
    assert client.meta.config.read_timeout == 910

    with Stubber(client) as stub:
        stub.add_client_error(
            "get_account_settings", "TooManyRequestsException", http_status_code=429
        )
        stub.add_response("get_account_settings", {})
        with pytest.raises(ClientError):
            client.get_account_settings()
        assert client.get_account_settings() == {}
