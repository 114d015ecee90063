"""Prices end to end: a real worker, Redis, PostgreSQL and the sandbox's Price List."""

from decimal import Decimal

import pytest
from django.test import Client

from prices.models import PriceRefresh, RefreshStatus
from prices.refresh import refresh_prices
from tests.integration.test_sweep import wait_finished, wait_for
from tests.tuning.runfactory import start_run
from tuning.models import Invocation, RunStatus

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_staff_refresh_button_fetches_through_a_worker(worker, django_user_model):
    staff = django_user_model.objects.create_user("sue", password="pw-42-horse", is_staff=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    client.get("/prices/")
    response = client.post(
        "/prices/refresh/", {"csrfmiddlewaretoken": client.cookies["csrftoken"].value}
    )
    assert response.status_code == 302
    refresh = wait_for(
        lambda: PriceRefresh.objects.exclude(status=RefreshStatus.RUNNING).first(),
        "the refresh to finish",
        timeout=60,
    )
    assert refresh.status == RefreshStatus.SUCCEEDED, refresh.error
    assert (refresh.trigger, refresh.requested_by) == ("web", staff)
    assert 'data-region="ap-southeast-2"' in client.get("/prices/").content.decode()


def test_a_sweep_is_priced_from_the_price_list_not_the_shipped_table(
    sandbox, worker, make_function
):
    # us-east-1 is in the shipped table at $0.0000166667 per GB-s: the Price List says otherwise.
    sandbox.set_price("AWSLambda", "us-east-1", "Lambda-GB-Second", "0.0000250000")
    sandbox.set_price("AWSLambda", "us-east-1", "Request", "0.0000003")
    assert refresh_prices("command").status == RefreshStatus.SUCCEEDED
    name = make_function()
    run = wait_finished(start_run(function=name, memory_sizes=[128, 256], invocations_per_size=2))
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert run.prices["source"] == "AWS Price List"
    invocations = Invocation.objects.filter(run=run, error_type="")
    assert invocations.count() == 4
    for inv in invocations:
        gb_seconds = Decimal(inv.memory_mb) / 1024 * Decimal(str(inv.billed_duration_ms)) / 1000
        expected = gb_seconds * Decimal("0.000025") + Decimal("0.0000003")
        assert float(inv.cost_usd) == pytest.approx(float(expected), rel=1e-9)


@pytest.mark.parametrize(
    ("region", "gb_second"),
    [("eu-west-2", "0.0000166667"), ("ap-southeast-2", "0.0000211111")],
)
def test_sweeps_in_eu_west_2_and_ap_southeast_2_are_priced_from_the_price_list(
    sandbox, worker, make_function, django_user_model, region, gb_second
):
    if region == "ap-southeast-2":  # a price that is nowhere else: proof of where costs come from
        sandbox.set_price("AWSLambda", region, "Lambda-GB-Second", gb_second)
    assert refresh_prices("command").status == RefreshStatus.SUCCEEDED
    name = make_function(seeded="tuneboard-io", region=region, Timeout=10)
    run = start_run(function=name, region=region, memory_sizes=[128, 512], invocations_per_size=2)
    run = wait_finished(run, worker=worker)

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert run.price_unknown is None
    assert (run.prices["source"], run.prices["region"]) == ("AWS Price List", region)
    spent = sum((inv.cost_usd for inv in Invocation.objects.filter(run=run)), Decimal(0))
    assert Decimal(run.sweep_cost["usd"]) == spent  # the sweep's total, not "unknown"
    for inv in Invocation.objects.filter(run=run, error_type=""):
        gb_seconds = Decimal(inv.memory_mb) / 1024 * Decimal(str(inv.billed_duration_ms)) / 1000
        expected = gb_seconds * Decimal(gb_second) + Decimal("0.0000002")
        assert float(inv.cost_usd) == pytest.approx(float(expected), rel=1e-9)
    client = Client()
    client.force_login(django_user_model.objects.create_user("pat", password="pw-42-horse"))
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert "Costs at the prices as of 2026-11-01 (AWS Price List) recorded with the run." in page


def test_a_region_the_price_list_does_not_price_still_says_price_unknown(
    sandbox, worker, make_function
):
    assert refresh_prices("command").status == RefreshStatus.SUCCEEDED
    name = make_function(seeded="tuneboard-io", region="ca-central-1", Timeout=10)
    run = start_run(
        function=name, region="ca-central-1", memory_sizes=[128], invocations_per_size=2
    )
    run = wait_finished(run, worker=worker)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert run.prices == {}
    assert all(r.avg_cost_usd is None for r in run.results.all())
    assert "No AWS Lambda price is known for ca-central-1" in run.price_unknown
