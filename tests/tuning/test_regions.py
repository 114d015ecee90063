"""Sweeps in any Lambda region: the form, the API and the pickers accept every region where
Lambda runs; a region without a known price measures durations and shows "price unknown"
wherever a cost would be, and the cost strategy ranks GB-seconds."""

import csv
import io
import json
from decimal import Decimal

import boto3
import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client

from dashboard.models import ApiToken
from tests.tuning.runfactory import make_run
from tuning import costing, regions, sharing
from tuning.forms import SweepForm, region_choices
from tuning.models import TuningRun

pytestmark = pytest.mark.django_db

#: A region where Lambda runs and tuning/pricing_data.py has no price.
UNPRICED = "ca-central-1"
#: A CPU-bound function: faster with memory, but never proportionally (GB-s grow with memory).
DURATIONS = {128: 2000.0, 512: 420.0, 1024: 230.0, 2048: 200.0}


@pytest.fixture
def starter(django_user_model):
    user = django_user_model.objects.create_user("sam", password="correct-horse-42")
    user.user_permissions.add(Permission.objects.get(codename="add_tuningrun"))
    return django_user_model.objects.get(pk=user.pk)


def bearer(user) -> dict:
    _token, key = ApiToken.issue(user, "tests")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def form_data(**overrides):
    data = {
        "region": "us-east-1",
        "function": "tuneboard-cpu",
        "memory_sizes": "128, 512",
        "invocations_per_size": "3",
        "payload": "{}",
        "weighted_payloads": "",
        "concurrency": "5",
        "strategy": "cost",
        "balanced_weight": "0.5",
        "discard_fraction": "0.2",
        "auto_apply_target": "",
    }
    data.update(overrides)
    return data


def test_the_test_region_really_has_no_price():
    assert regions.is_lambda_region(UNPRICED)
    assert costing.unknown_reason(UNPRICED) is not None
    assert costing.unknown_reason("us-east-1") is None


# --------------------------------------------------------------------------- accepting regions


def test_every_commercial_lambda_region_is_offered_priced_ones_first():
    (priced_label, priced), (unpriced_label, unpriced) = region_choices()
    offered = [code for code, _label in priced + unpriced]
    assert "us-east-1" in [code for code, _label in priced]
    for region in ("eu-west-2", "ap-southeast-2", "ap-south-1", UNPRICED, "eu-north-1"):
        assert region in offered
    assert "us-gov-west-1" in offered and "cn-north-1" in offered
    assert not any(code.startswith("us-iso") for code in offered)  # isolated partitions
    assert all(costing.unknown_reason(code) for code, _label in unpriced)
    assert dict(priced + unpriced)["eu-west-2"] == "eu-west-2 — Europe (London)"
    assert "price unknown" in unpriced_label
    assert priced_label == "Prices known"


def test_the_regions_are_those_boto3_lists_for_lambda_in_each_partition():
    session = boto3.session.Session()
    listed = {
        region: partition
        for partition in regions.PARTITIONS
        for region in session.get_available_regions("lambda", partition_name=partition)
    }
    assert listed  # botocore's data was read
    assert {region: regions.partition(region) for region in regions.lambda_regions()} == listed


@pytest.mark.parametrize("region", ["eu-west-2", "ap-southeast-2", UNPRICED])
def test_the_form_starts_a_sweep_in_any_lambda_region(client, starter, region):
    client.force_login(starter)
    response = client.post("/runs/new/", form_data(region=region))
    assert response.status_code == 302, response.context["form"].errors
    run = TuningRun.objects.get()
    assert run.region == region
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert region in page


def test_an_arns_region_is_accepted_without_a_price(client, starter):
    client.force_login(starter)
    arn = f"arn:aws:lambda:{UNPRICED}:123456789012:function:tuneboard-cpu"
    response = client.post("/runs/new/", form_data(function=arn, region="us-east-1"))
    assert response.status_code == 302, response.context["form"].errors
    assert TuningRun.objects.get().region == UNPRICED


@pytest.mark.parametrize(
    ("region", "field", "message"),
    [
        ("mars-north-1", "region", "Select a valid choice"),
        ("", "region", "This field is required"),
    ],
)
def test_a_region_lambda_does_not_run_in_is_a_field_error(client, starter, region, field, message):
    client.force_login(starter)
    response = client.post("/runs/new/", form_data(region=region))
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not TuningRun.objects.exists()


def test_an_arn_in_an_unknown_region_or_partition_is_a_field_error(starter):
    unknown = "arn:aws:lambda:xx-mars-1:123456789012:function:f"
    form = SweepForm(data=form_data(function=unknown), user=starter)
    assert not form.is_valid()
    assert "'xx-mars-1' is not an AWS region where Lambda runs" in form.errors["function"][0]
    mismatched = "arn:aws-cn:lambda:us-east-1:123456789012:function:f"
    form = SweepForm(data=form_data(function=mismatched), user=starter)
    assert not form.is_valid()
    assert "partition 'aws-cn' does not match region us-east-1" in form.errors["function"][0]
    assert not TuningRun.objects.exists()


@pytest.mark.parametrize("region", ["eu-west-2", "ap-southeast-2", UNPRICED])
def test_the_api_starts_a_sweep_in_any_lambda_region(client, starter, region):
    body = {"function": "tuneboard-cpu", "memory_sizes": [128], "region": region}
    response = client.post("/api/runs/", body, content_type="application/json", **bearer(starter))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["region"] == region
    assert data["price_unknown"] == costing.unknown_reason(region)


def test_the_api_refuses_an_invalid_region_with_a_400_naming_the_field(client, starter):
    body = {"function": "tuneboard-cpu", "memory_sizes": [128], "region": "eu-west-99"}
    response = client.post("/api/runs/", body, content_type="application/json", **bearer(starter))
    assert response.status_code == 400
    assert "not an AWS region where Lambda runs" in response.json()["fields"]["region"]
    assert not TuningRun.objects.exists()


def test_the_picker_and_the_estimate_answer_for_an_unpriced_region(client, starter, stubbed):
    stubbed("lambda", UNPRICED).add_response("list_functions", {"Functions": []})
    client.force_login(starter)
    listed = client.get(f"/runs/new/functions/?region={UNPRICED}")
    assert listed.status_code == 200
    assert listed.json() == {"functions": []}
    refused = client.get("/runs/new/functions/?region=nowhere-1")
    assert refused.status_code == 400
    assert "not an AWS region where Lambda runs" in refused.json()["error"]

    make_run(function="tuneboard-cpu", sizes=(128, 1024), region=UNPRICED)
    data = client.get(
        f"/runs/new/estimate/?function=tuneboard-cpu&region={UNPRICED}"
        "&memory_sizes=128,1024&invocations_per_size=10"
    ).json()
    assert data["ok"] is True
    assert data["cost_usd"] is None  # never another region's price
    assert data["cost_label"] == "price unknown"
    assert f"No AWS Lambda price is known for {UNPRICED}" in data["price_unknown"]
    assert "price unknown" in data["message"]
    assert data["seconds"] > 0


# --------------------------------------------------------------------------- price unknown


def test_without_a_price_the_run_succeeds_and_ranks_by_gb_seconds():
    run = make_run(sizes=tuple(DURATIONS), durations=DURATIONS, region=UNPRICED, strategy="cost")
    assert run.status == "SUCCEEDED", run.error_message
    results = {r.memory_mb: r for r in run.results.all()}
    assert all(r.avg_duration_ms is not None for r in results.values())
    assert all(r.avg_cost_usd is None and r.price_unknown for r in results.values())
    assert not run.invocations.exclude(cost_usd=None).exists()

    gb_s = {mb: r.avg_gb_seconds for mb, r in results.items()}
    billed_512 = Decimal(str(results[512].avg_billed_duration_ms))
    assert gb_s[512] == Decimal(512) / 1024 * billed_512 / 1000
    cheapest = min(gb_s, key=gb_s.get)
    assert cheapest == 512  # 0.5 GB × 0.42 s beats 0.125 GB × 2 s and 1 GB × 0.23 s
    assert run.analysis["cost_basis"] == "gb_seconds"
    assert run.analysis["price_unknown"] == run.price_unknown
    assert f"No AWS Lambda price is known for {UNPRICED}" in run.price_unknown
    cost_pick = run.recommendation("cost")
    assert cost_pick["memory_mb"] == cheapest
    assert cost_pick["avg_cost_usd"] is None
    assert Decimal(cost_pick["avg_gb_seconds"]) == gb_s[cheapest]
    assert run.recommendation("speed")["memory_mb"] == 2048


def test_gb_seconds_pick_the_size_the_price_would():
    """Within one region and architecture, cost order is GB-s order (same request fee)."""
    priced = make_run(function="a", sizes=tuple(DURATIONS), durations=DURATIONS)
    unpriced = make_run(function="b", sizes=tuple(DURATIONS), durations=DURATIONS, region=UNPRICED)
    assert priced.analysis["cost_basis"] == "usd"
    picks = [run.recommendation("cost")["memory_mb"] for run in (priced, unpriced)]
    assert picks == [512, 512]
    assert priced.analysis["pareto_frontier"] == unpriced.analysis["pareto_frontier"]


@pytest.fixture
def unpriced_run(starter):
    return make_run(
        function="tuneboard-cpu",
        sizes=tuple(DURATIONS),
        durations=DURATIONS,
        region=UNPRICED,
        user=starter,
        original_memory=128,
    )


def test_the_run_page_shows_durations_and_price_unknown(client, starter, unpriced_run):
    client.force_login(starter)
    page = client.get(f"/runs/{unpriced_run.id}/").content.decode()
    assert page.count(">price unknown</td>") == 2 * len(DURATIONS)  # cost / call and per 1M
    assert page.count("GB-seconds per call (") == 2  # cost and balanced, not speed
    assert 'id="price-unknown"' in page  # next to the region
    assert f"No AWS Lambda price is known for {UNPRICED}" in page
    assert "2,000 ms" in page  # durations are shown
    assert 'id="chart-duration-cost"' in page  # the duration chart is drawn without costs
    listing = client.get("/runs/").content.decode()
    assert "price unknown" in listing


def test_the_monthly_chart_says_price_unknown(client, starter, unpriced_run, stubbed):
    stubbed("cloudwatch", UNPRICED).add_response("get_metric_data", {"MetricDataResults": []})
    client.force_login(starter)
    response = client.get(f"/runs/{unpriced_run.id}/monthly/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Monthly cost: price unknown." in page
    assert "No size succeeded" not in page


def test_the_api_json_has_null_costs_and_says_why(client, starter, unpriced_run):
    data = client.get(f"/api/runs/{unpriced_run.id}/", **bearer(starter)).json()
    assert f"No AWS Lambda price is known for {UNPRICED}" in data["price_unknown"]
    assert all(r["avg_cost_usd"] is None for r in data["results"])
    assert all(Decimal(r["avg_gb_seconds"]) > 0 for r in data["results"])
    assert all(r["avg_duration_ms"] > 0 for r in data["results"])
    assert data["best"]["avg_cost_usd"] is None
    assert data["best"]["memory_mb"] == 512


def test_the_csv_says_price_unknown_for_each_measured_invocation(client, starter, unpriced_run):
    client.force_login(starter)
    response = client.get(f"/runs/{unpriced_run.id}/export.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 10 * len(DURATIONS)
    assert {row["cost_usd"] for row in rows} == {"price unknown"}
    assert all(float(row["duration_ms"]) > 0 for row in rows)


def test_the_share_page_and_its_json_say_price_unknown(starter, unpriced_run):
    _link, token = sharing.create_link(unpriced_run, starter)
    page = Client().get(f"/share/{token}/").content.decode()
    assert ">price unknown</td>" in page
    data = json.loads(Client().get(f"/share/{token}/export.json").content)
    assert data["price_unknown"] and data["results"][0]["avg_cost_usd"] is None


def test_show_run_prints_price_unknown(unpriced_run):
    out = io.StringIO()
    call_command("show_run", str(unpriced_run.id), stdout=out)
    text = out.getvalue()
    assert "price unknown" in text.splitlines()[2]  # the 128 MB row
    assert "cost: 512 MB" in text and "price unknown per invocation" in text
    assert f"price unknown: No AWS Lambda price is known for {UNPRICED}" in text


def test_compare_shows_price_unknown_next_to_a_priced_run(client, starter, unpriced_run):
    priced = make_run(function="tuneboard-cpu", sizes=tuple(DURATIONS), durations=DURATIONS)
    client.force_login(starter)
    page = client.get(f"/runs/compare/?ids={priced.id},{unpriced_run.id}").content.decode()
    assert page.count("price unknown") == len(DURATIONS)  # the other run's cost column
    assert "%" in page  # durations are still compared


def test_a_priced_run_shows_costs_and_never_price_unknown(client, starter):
    run = make_run(sizes=tuple(DURATIONS), durations=DURATIONS, user=starter)
    client.force_login(starter)
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert "price unknown" not in page
    assert page.count('<td class="num">$0.0000') >= len(DURATIONS)
    data = client.get(f"/api/runs/{run.id}/", **bearer(starter)).json()
    assert data["price_unknown"] is None
    assert all(Decimal(r["avg_cost_usd"]) > 0 for r in data["results"])


def test_costing_answers_none_only_where_pricing_has_no_price():
    from tuning import pricing

    assert costing.invocation_cost(1024, 100, "x86_64", "us-east-1") == pricing.invocation_cost(
        1024, 100, "x86_64", "us-east-1"
    )
    assert costing.invocation_cost(1024, 100, "x86_64", UNPRICED) is None
    assert costing.monthly_cost(1024, 100, 1000, "arm64", UNPRICED) is None
    assert costing.unknown_reason("us-east-1", "mips") == (
        "No AWS Lambda price is known for the mips architecture."
    )
    assert costing.gb_seconds(512, 200) == Decimal("0.1")
