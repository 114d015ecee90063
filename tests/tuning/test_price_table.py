"""Lambda costs come from the stored AWS Price List answers (the sandbox's), with the shipped
table as a labelled offline fallback; a run keeps the prices it was priced with."""

from decimal import Decimal

import pytest
from django.test import Client

from aws import clients
from prices.models import Price
from prices.refresh import refresh_prices
from tests.tuning.runfactory import _outcome, make_run
from tuning import price_table, pricing
from tuning.engine.recording import record_invocation
from tuning.models import Invocation, TuningRun

pytestmark = pytest.mark.django_db
REQUEST = Decimal("0.0000002")


@pytest.fixture
def price_list(sandbox):
    """Refresh from the sandbox's Price List (after the test's overrides, if any)."""
    clients.clear()

    def refresh():
        attempt = refresh_prices("command")
        assert attempt.status == "SUCCEEDED", attempt.error

    yield refresh
    clients.clear()


def run_in(region: str) -> TuningRun:
    """A running run in ``region`` (the form's region list is not what is tested here)."""
    run = make_run(status="RUNNING", sizes=(1024,), num=1)
    TuningRun.objects.filter(pk=run.pk).update(region=region)
    return TuningRun.objects.get(pk=run.pk)


def record_one(run, duration_ms=99.0) -> Invocation:
    result = run.results.get()
    record_invocation(run, result, 0, 0, _outcome(1024, duration_ms, 1, None))
    return Invocation.objects.get(result=result, sequence=0)


@pytest.mark.parametrize("region", ["eu-west-2", "ap-southeast-2"])
def test_a_run_outside_the_shipped_table_is_priced_from_the_price_list(price_list, region):
    price_list()
    with pytest.raises(pricing.UnknownRegion):
        pricing.offline_prices(region)  # the shipped table has no price for it
    run = run_in(region)
    invocation = record_one(run)  # billed 100 ms at 1 GB
    assert float(invocation.cost_usd) == pytest.approx(
        float(Decimal("0.1") * Decimal("0.0000166667") + REQUEST)
    )
    run.refresh_from_db()
    assert run.prices["source"] == "AWS Price List" and run.prices["region"] == region
    assert run.prices["as_of"] == "2026-11-01"


def test_the_price_list_wins_over_the_shipped_table(sandbox, price_list):
    sandbox.set_price("AWSLambda", "eu-west-1", "Lambda-GB-Second", "0.0000300000")
    price_list()
    assert pricing.offline_prices("eu-west-1").duration["x86_64"][0][1] == Decimal("0.0000166667")
    invocation = record_one(run_in("eu-west-1"))
    assert float(invocation.cost_usd) == pytest.approx(
        float(Decimal("0.1") * Decimal("0.00003") + REQUEST)
    )


def test_a_run_keeps_the_prices_it_started_with(sandbox, price_list):
    price_list()
    run = run_in("eu-west-2")
    first = record_one(run)
    sandbox.set_price("AWSLambda", "eu-west-2", "Lambda-GB-Second", "0.0000500000")
    price_list()
    assert price_table.current("eu-west-2").duration["x86_64"][0][1] == Decimal("0.00005")
    result = run.results.get()
    record_invocation(TuningRun.objects.get(pk=run.pk), result, 1, 0, _outcome(1024, 99.0, 1, None))
    second = Invocation.objects.get(result=result, sequence=1)
    assert second.cost_usd == first.cost_usd  # the run's recorded prices, not today's


def test_without_price_list_prices_the_offline_table_is_used_and_labelled():
    assert not Price.objects.exists()
    prices = price_table.current("eu-west-1")
    assert prices.offline and "offline table" in prices.label
    run = run_in("eu-west-1")
    invocation = record_one(run)
    assert float(invocation.cost_usd) == pytest.approx(
        float(Decimal("0.1") * Decimal("0.0000166667") + REQUEST)
    )
    run.refresh_from_db()
    assert run.prices["source"] == "offline table"


def test_a_region_priced_nowhere_still_raises_unknown_region(price_list):
    price_list()  # the sandbox has no ap-south-1 prices, nor has the shipped table
    with pytest.raises(pricing.UnknownRegion):
        price_table.current("ap-south-1")
    with pytest.raises(pricing.UnknownRegion):
        price_table.current("ca-central-1")


def test_the_run_page_names_its_prices_and_the_monthly_chart_todays(
    sandbox, price_list, django_user_model
):
    price_list()
    run = make_run(sizes=(128, 512), num=3)
    assert run.prices["source"] == "AWS Price List"
    sandbox.set_price(
        "AWSLambda",
        "us-east-1",
        "Lambda-GB-Second",
        "0.00002",
        effectiveDate="2026-12-01T00:00:00Z",
    )
    price_list()
    client = Client(enforce_csrf_checks=True)
    client.force_login(django_user_model.objects.create_user("pat", password="pw-42-horse"))
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert "Costs at the prices as of 2026-11-01 (AWS Price List) recorded with the run." in page
    monthly = client.get(f"/runs/{run.id}/monthly/").content.decode()
    assert "prices as of 2026-12-01 (AWS Price List)" in monthly
    assert "today's prices, not the run's" in monthly


def test_a_run_page_of_a_run_from_before_recorded_prices_says_so(django_user_model):
    run = make_run(sizes=(128,), num=2)
    TuningRun.objects.filter(pk=run.pk).update(prices={})
    client = Client()
    client.force_login(django_user_model.objects.create_user("pat", password="pw-42-horse"))
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert "at the offline table&#x27;s prices of that time" in page


def test_prices_round_trip_through_the_runs_json():
    prices = pricing.offline_prices("us-east-1")
    again = pricing.LambdaPrices.from_json(prices.to_json())
    assert again == prices
    assert pricing.monthly_cost(1024, 100, 10**9, prices=again) == pricing.monthly_cost(
        1024, 100, 10**9
    )


def test_the_api_and_show_run_name_the_runs_prices(price_list, django_user_model):
    from io import StringIO

    from django.core.management import call_command

    price_list()
    run = make_run(sizes=(128,), num=2)
    client = Client()
    client.force_login(django_user_model.objects.create_user("pat", password="pw-42-horse"))
    data = client.get(f"/api/runs/{run.id}/").json()
    assert data["prices"] == {
        "source": "AWS Price List",
        "as_of": "2026-11-01",
        "label": "prices as of 2026-11-01 (AWS Price List)",
    }
    out = StringIO()
    call_command("show_run", str(run.id), stdout=out)
    assert "costs at the prices as of 2026-11-01 (AWS Price List)" in out.getvalue()


def test_the_estimate_names_the_prices_it_used(price_list, make_function, django_user_model):
    from django.contrib.auth.models import Permission

    price_list()
    user = django_user_model.objects.create_user("sam", password="pw-42-horse")
    user.user_permissions.add(Permission.objects.get(codename="add_tuningrun"))
    client = Client()
    client.force_login(user)
    answer = client.get(
        "/runs/new/estimate/",
        {"function": make_function(), "memory_sizes": "128,512", "invocations_per_size": "5"},
    ).json()
    assert answer["ok"], answer
    assert answer["prices_label"] == "prices as of 2026-11-01 (AWS Price List)"
    assert "prices as of 2026-11-01 (AWS Price List)" in answer["message"]
