"""x86_64 vs arm64 in one run: asked for in the form, the JSON API and the command line; it
starts two linked runs; a re-run (of either) repeats the comparison; the companion run is never
applied; the copy's name marks its run; one recommendation across both runs."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client

from dashboard.models import ApiToken
from tests.tuning.runfactory import make_run
from tests.tuning.test_views import valid_form
from tuning import runs
from tuning.engine.copy import copy_name, copy_request, refusal
from tuning.models import TuningRun
from tuning.params import InvalidSweep, SweepParams
from tuning.serializers import run_to_dict

pytestmark = pytest.mark.django_db


@pytest.fixture
def starter(django_user_model):
    user = django_user_model.objects.create_user("dee", password="correct-horse-42")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_tuningrun", "change_tuningrun"])
    )
    return django_user_model.objects.get(pk=user.pk)


def pair():
    run = TuningRun.objects.get(copy_of=None)
    return run, TuningRun.objects.get(copy_of=run)


def test_the_option_comes_from_the_form_api_and_cli_and_starts_two_linked_runs(client, starter):
    client.force_login(starter)
    assert 'name="compare_architectures"' in client.get("/runs/new/").content.decode()
    response = client.post("/runs/new/", valid_form(compare_architectures="on"))
    assert response.status_code == 302
    run, copy = pair()
    assert run.compare_architectures and not copy.compare_architectures
    assert (copy.function_name, copy.memory_sizes) == (run.function_name, run.memory_sizes)
    assert copy.results.count() == len(run.memory_sizes)
    assert copy.auto_apply_target == "" and copy.copy_function == ""  # named by its worker
    again = client.get(f"/runs/new/?from={run.id}").content.decode()
    assert re.search(r'<input[^>]*name="compare_architectures"[^>]*checked', again)
    TuningRun.objects.all().delete()

    _token, key = ApiToken.issue(starter, "tests")
    api = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {key}")
    body = {"function": "tuneboard-io", "memory_sizes": [128, 512], "compare_architectures": True}
    response = api.post("/api/runs/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    data = response.json()
    run, copy = pair()
    assert data["compare_architectures"] is True and data["id"] == str(run.id)
    assert data["architecture_comparison"]["copy_run"] == str(copy.id)
    refused = api.post(
        "/api/runs/", {**body, "compare_architectures": "both"}, content_type="application/json"
    )
    assert refused.status_code == 400 and "compare_architectures" in refused.json()["fields"]
    TuningRun.objects.all().delete()

    call_command("sweep", "tuneboard-cpu", "--power", "128,256", "--compare-architectures")
    run, copy = pair()
    assert run.compare_architectures and copy.function_name == "tuneboard-cpu"


def test_a_dry_run_cannot_compare_architectures():
    with pytest.raises(InvalidSweep) as refused:
        SweepParams.parse(
            {"function": "f", "memory_sizes": [128], "dry_run": True, "compare_architectures": True}
        )
    assert "nothing to compare" in refused.value.errors["compare_architectures"]


def test_cancelling_either_run_cancels_both_and_a_re_run_of_the_copy_repeats_the_comparison(
    starter,
):
    params = {"function": "tuneboard-io", "memory_sizes": [128], "compare_architectures": True}
    run = runs.start_run(SweepParams.parse(params), created_by=starter)
    copy = TuningRun.objects.get(copy_of=run)
    runs.request_cancel(copy, starter)
    run.refresh_from_db()
    copy.refresh_from_db()
    assert (run.status, copy.status) == ("CANCELLED", "CANCELLED")
    again = runs.rerun(copy, starter)
    assert again.compare_architectures and again.copy_of_id is None
    assert TuningRun.objects.get(copy_of=again)


def test_the_copy_run_is_never_applied_and_says_why(client, starter):
    run = make_run(function="orders")
    copy = make_run(function="orders")
    TuningRun.objects.filter(pk=run.pk).update(compare_architectures=True)
    TuningRun.objects.filter(pk=copy.pk).update(
        copy_of=run, copy_function="tuneboard-1a2b3c4d-arm64-orders"
    )
    copy.refresh_from_db()
    with pytest.raises(ValueError, match="Switching architecture needs a code deploy"):
        runs.request_apply(copy, starter, target="$LATEST", memory_mb=512)
    client.force_login(starter)
    page = client.get(f"/runs/{copy.id}/").content.decode()
    assert 'id="copy-not-applied"' in page and 'id="apply-link"' not in page
    assert f"/runs/{run.id}/" in page and "tuneboard-1a2b3c4d-arm64-orders" in page
    assert f"/runs/{copy.id}/" in client.get(f"/runs/{run.id}/").content.decode()
    response = client.post(f"/runs/{copy.id}/apply/", {"target": "$LATEST", "memory_mb": 512})
    assert response.status_code == 302 and not copy.memory_changes.exists()


def test_one_recommendation_across_both_architectures_with_the_saving_vs_the_own_pick():
    # Same durations on both: arm64's lower price per GB-second makes it the cheaper pick.
    run = make_run(function="orders", sizes=(128, 512, 1024))
    copy = make_run(function="orders", sizes=(128, 512, 1024))
    TuningRun.objects.filter(pk=run.pk).update(compare_architectures=True)
    TuningRun.objects.filter(pk=copy.pk).update(
        copy_of=run,
        copy_function="tuneboard-1a2b3c4d-arm64-orders",
        original_config={**copy.original_config, "Architectures": ["arm64"]},
    )
    arm = {r.memory_mb: r for r in copy.results.all()}
    for result in arm.values():  # arm64 prices: 20 % below x86_64's
        result.avg_cost_usd = result.avg_cost_usd * Decimal("0.8")
        result.save(update_fields=["avg_cost_usd"])
    run.refresh_from_db()
    comparison = run.architecture_comparison()
    assert comparison == TuningRun.objects.get(pk=copy.pk).architecture_comparison()
    assert [r["architecture"] for r in comparison["runs"]] == ["x86_64", "arm64"]
    cost = comparison["recommendation"]["cost"]
    own = run.recommendation("cost")
    assert (cost["architecture"], cost["memory_mb"]) == ("arm64", own["memory_mb"])
    assert cost["original"]["architecture"] == "x86_64"
    assert cost["cost_change"] == pytest.approx(-0.2)
    assert cost["duration_change"] == pytest.approx(0.0)
    assert run_to_dict(run)["architecture_comparison"] == comparison


def test_the_copy_is_named_after_its_run_and_repeats_the_configuration_but_not_the_log_group():
    import uuid

    run_id = uuid.UUID("1a2b3c4d-0000-4000-8000-000000000000")
    assert copy_name(run_id, "arm64", "orders") == "tuneboard-1a2b3c4d-arm64-orders"
    long = copy_name(run_id, "x86_64", "x" * 64)
    assert len(long) == 64 and long.startswith("tuneboard-1a2b3c4d-x86_64-xxx")
    config = {
        "FunctionName": "orders",
        "Runtime": "python3.12",
        "Handler": "app.handler",
        "Role": "arn:aws:iam::123456789012:role/orders",
        "Timeout": 30,
        "MemorySize": 512,
        "Environment": {"Variables": {"TOKEN": "x", "TUNEBOARD_COLD_START": "other-run"}},
        "Layers": [{"Arn": "arn:aws:lambda:us-east-1:123456789012:layer:deps:3"}],
        "EphemeralStorage": {"Size": 2048},
        "TracingConfig": {"Mode": "Active"},
        "VpcConfig": {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"], "VpcId": "vpc-1"},
        "LoggingConfig": {"LogFormat": "JSON", "LogGroup": "/aws/lambda/orders"},
        "SnapStart": {"ApplyOn": "PublishedVersions", "OptimizationStatus": "Off"},
        "DeadLetterConfig": {"TargetArn": "arn:aws:sqs:us-east-1:123456789012:dlq"},
        "Architectures": ["x86_64"],
    }
    request = copy_request(config, "copy", "arm64", "why")
    assert request["Architectures"] == ["arm64"] and request["MemorySize"] == 512
    assert request["Environment"] == {"Variables": {"TOKEN": "x"}}
    assert request["Layers"] == ["arn:aws:lambda:us-east-1:123456789012:layer:deps:3"]
    assert request["VpcConfig"] == {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}
    assert request["LoggingConfig"] == {"LogFormat": "JSON"}  # logs to its own group
    assert request["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    assert request["DeadLetterConfig"]["TargetArn"].endswith(":dlq")
    assert refusal({"PackageType": "Image"}, "orders").startswith("orders is a container image")
    assert "kms:Decrypt" in refusal({"Environment": {"Error": {"ErrorCode": "KMS"}}}, "orders")


def test_history_marks_the_companion_as_the_copy_of_its_run_and_compare_shows_architectures(
    client, starter
):
    run = make_run(function="orders")
    copy = make_run(function="orders", architecture="arm64")
    TuningRun.objects.filter(pk=run.pk).update(compare_architectures=True)
    TuningRun.objects.filter(pk=copy.pk).update(copy_of=run, copy_function="tuneboard-x")
    client.force_login(starter)
    page = client.get("/runs/").content.decode()
    assert 'data-role="copy-of"' in page and f'href="/runs/{run.id}/"' in page
    assert 'data-role="compared"' in page
    compared = client.get(f"/runs/compare/?ids={run.id}&ids={copy.id}").content.decode()
    cells = re.findall(r'<td data-role="architecture">(\w+)', compared)
    assert sorted(cells) == ["arm64", "x86_64"]
