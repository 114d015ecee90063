"""Refreshing prices from the sandbox's Price List: stored, and the last good prices kept
when AWS fails (a sandbox fault, or a Stubber answer)."""

from decimal import Decimal

import boto3
import pytest
from botocore.stub import Stubber
from django.core.management import CommandError, call_command

from aws import clients
from prices.models import Price, PriceRefresh, RefreshStatus
from prices.refresh import refresh_prices
from prices.tasks import refresh_prices_task

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_clients(sandbox):
    clients.clear()  # the pricing client is built against the sandbox's endpoint
    yield
    clients.clear()


def stored(service, region, item, variant=""):
    return list(
        Price.objects.filter(service=service, region=region, item=item, variant=variant)
        .order_by("begin_range")
        .values_list("usd", flat=True)
    )


def test_a_refresh_stores_every_service_for_the_sandbox_regions():
    attempt = refresh_prices("command")
    assert attempt.status == RefreshStatus.SUCCEEDED, attempt.error
    assert set(attempt.counts) == {"AWSLambda", "AmazonDAX", "AmazonDynamoDB"}
    regions = set(Price.objects.filter(service="AWSLambda").values_list("region", flat=True))
    assert regions == {"us-east-1", "eu-west-1", "eu-west-2", "ap-southeast-2"}
    assert stored("AWSLambda", "eu-west-2", "duration", "x86_64") == [
        Decimal("0.0000166667"),
        Decimal("0.000015"),
        Decimal("0.0000133334"),
    ]
    assert stored("AmazonDAX", "ap-southeast-2", "node_hour", "dax.r5.large") == [Decimal("0.34")]
    assert stored("AmazonDynamoDB", "eu-west-2", "rcu_hour") == [Decimal(0), Decimal("0.000154")]
    price = Price.objects.filter(service="AWSLambda").first()
    assert price.effective_date.isoformat() == "2026-11-01" and price.fetched_at is not None


def test_a_second_refresh_replaces_the_prices_with_the_new_answer(sandbox):
    refresh_prices()
    sandbox.set_price(
        "AWSLambda", "eu-west-2", "Request", "0.00000025", effectiveDate="2026-12-01T00:00:00Z"
    )
    refresh_prices()
    assert stored("AWSLambda", "eu-west-2", "request", "x86_64") == [Decimal("0.00000025")]
    row = Price.objects.get(
        service="AWSLambda", region="eu-west-2", item="request", variant="x86_64"
    )
    assert row.effective_date.isoformat() == "2026-12-01"
    assert (
        Price.objects.filter(service="AWSLambda", region="eu-west-2", item="request").count() == 2
    )


def test_a_failing_price_list_keeps_the_last_good_prices_and_says_why(sandbox):
    refresh_prices()
    before = Price.objects.count()
    sandbox.set_price("AWSLambda", "eu-west-2", "Lambda-GB-Second", "0.00002")
    sandbox.inject_fault("GetProducts", times=None, error="ServiceException")
    attempt = refresh_prices("daily")
    assert attempt.status == RefreshStatus.FAILED
    assert "InternalErrorException" in attempt.error and "AWSLambda" in attempt.error
    assert Price.objects.count() == before
    assert stored("AWSLambda", "eu-west-2", "duration", "x86_64")[0] == Decimal("0.0000166667")


def test_a_throttled_page_is_retried(sandbox):
    sandbox.inject_fault("GetProducts", nth=2, times=1, error="TooManyRequestsException")
    attempt = refresh_prices()
    assert attempt.status == RefreshStatus.SUCCEEDED, attempt.error
    assert Price.objects.filter(service="AWSLambda").count() > 0


def test_an_empty_answer_keeps_the_service_prices_and_is_a_failure():
    refresh_prices()
    client = boto3.client("pricing", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response("get_products", {"PriceList": [], "FormatVersion": "aws_v1"})
        stub.add_client_error("get_products", "AccessDeniedException", "not allowed", 400)
        stub.add_client_error("get_products", "AccessDeniedException", "not allowed", 400)
        attempt = refresh_prices("daily", client=client)
    assert attempt.status == RefreshStatus.FAILED
    assert "AWSLambda: the Price List answered no prices we use" in attempt.error
    assert "Access denied" in attempt.error
    assert stored("AWSLambda", "us-east-1", "request", "x86_64") == [Decimal("0.0000002")]


def test_the_command_and_the_task_refresh_and_report(sandbox, capsys):
    call_command("refresh_prices")
    assert "AWSLambda: " in capsys.readouterr().out
    assert PriceRefresh.objects.get().trigger == "command"
    sandbox.inject_fault("GetProducts", times=None)
    with pytest.raises(CommandError, match="last good prices kept"):
        call_command("refresh_prices")
    sandbox.clear_faults()
    assert refresh_prices_task.run("daily")["status"] == RefreshStatus.SUCCEEDED
