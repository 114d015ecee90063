"""Tuning pages through the Django test client, on runs written straight into the database."""

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from botocore.stub import Stubber
from django.contrib.auth.models import Permission
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aws import clients
from aws.models import AwsAccount
from tests.fixtures.aws_clients import put_invocations
from tests.tuning.runfactory import make_run, start_run
from tuning.models import RunStatus, TuningRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(django_user_model):
    """A team member with no special permission."""
    return django_user_model.objects.create_user("mia", password="correct-horse-42")


@pytest.fixture
def starter(django_user_model):
    user = django_user_model.objects.create_user("sam", password="correct-horse-42")
    user.user_permissions.add(Permission.objects.get(codename="add_tuningrun"))
    return django_user_model.objects.get(pk=user.pk)


@pytest.fixture
def admin(django_user_model):
    return django_user_model.objects.create_superuser("ada", "ada@example.com", "pw-42-horse")


def valid_form(**overrides):
    data = {
        "region": "us-east-1",
        "function": "tuneboard-cpu",
        "memory_sizes": "1024, 512, 512, 128",
        "invocations_per_size": "10",
        "payload": '{"n": 25}',
        "weighted_payloads": "",
        "concurrency": "5",
        "strategy": "cost",
        "balanced_weight": "0.5",
        "discard_fraction": "0.2",
        "auto_apply_target": "",
    }
    data.update(overrides)
    return data


# --------------------------------------------------------------------------- run history


def test_the_run_list_explains_how_to_start_the_first_sweep_when_there_is_none(client, member):
    client.force_login(member)
    page = client.get("/runs/").content.decode()
    assert "No tuning runs yet" in page
    assert "/runs/new/" in page
    assert "python manage.py sweep" in page


def test_the_run_list_shows_runs_newest_first_with_status_badges_and_winners(client, member):
    client.force_login(member)
    now = timezone.now()
    make_run(function="old-fn", created_at=now - timedelta(days=2), user=member)
    make_run(function="new-fn", status="FAILED", failed_sizes=(128,), created_at=now)
    make_run(function="running-fn", status="RUNNING", created_at=now - timedelta(hours=1))
    page = client.get("/runs/").content.decode()
    assert page.index("new-fn") < page.index("running-fn") < page.index("old-fn")
    assert 'class="badge failed"' in page
    assert 'class="badge running"' in page
    assert 'class="badge succeeded"' in page
    # the cost strategy's winner of the CPU-bound function and its cost per call
    assert "1,024 MB" in page
    assert "$0.00000" in page


def test_the_run_list_filters_by_status_function_who_and_free_text(client, member, admin):
    client.force_login(member)
    account = AwsAccount.objects.create(name="prod")
    make_run(function="alpha-fn", user=member)
    make_run(function="beta-fn", status="FAILED", user=admin, account=account)
    make_run(function="gamma-fn", status="CANCELLED", error_message="stopped by carol")

    def names(query):
        page = client.get("/runs/" + query).content.decode()
        return {name for name in ("alpha-fn", "beta-fn", "gamma-fn") if f">{name}</a>" in page}

    assert names("?status=FAILED") == {"beta-fn"}
    assert names("?function=alpha") == {"alpha-fn"}
    assert names(f"?account={account.pk}") == {"beta-fn"}
    assert names("?who=ada") == {"beta-fn"}
    assert names("?q=carol") == {"gamma-fn"}
    assert names("?q=gamma") == {"gamma-fn"}
    today = timezone.localdate().isoformat()
    assert names(f"?since={today}&until={today}") == {"alpha-fn", "beta-fn", "gamma-fn"}
    assert (
        "No run matches these filters" in client.get("/runs/?q=nothing-like-this").content.decode()
    )


def test_the_run_list_is_paginated_on_the_server(client, member):
    client.force_login(member)
    for index in range(30):
        make_run(function=f"fn-{index:02d}")
    first = client.get("/runs/").content.decode()
    older = re.search(r'href="\?(before=[^"]+)" rel="next"', first)[1]
    second = client.get(f"/runs/?{older}").content.decode()
    assert first.count('name="ids"') == 25
    assert second.count('name="ids"') == 5
    assert 'rel="next"' not in second and 'rel="prev"' in second


def _queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_run_list_query_count_does_not_grow_with_the_number_of_runs(client, member):
    client.force_login(member)
    for _ in range(5):
        make_run(user=member)
    with_five = _queries_for(client, "/runs/")
    for _ in range(45):
        make_run(user=member)
    with_fifty = _queries_for(client, "/runs/")
    assert with_fifty == with_five


def test_the_run_detail_query_count_does_not_grow_with_sizes_or_invocations(client, member):
    client.force_login(member)
    small = make_run(sizes=(128, 512), num=5)
    large = make_run(sizes=(128, 256, 512, 1024, 1769, 3008), num=50)
    assert _queries_for(client, f"/runs/{large.id}/") == _queries_for(client, f"/runs/{small.id}/")


def test_the_run_detail_reads_the_runs_sizes_once(client, member):
    """Progress, summary, recommendations and figures all show the sizes: one query."""
    client.force_login(member)
    run = make_run(sizes=(128, 512), num=2)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/runs/{run.id}/").status_code == 200
    reads = [q for q in captured if 'FROM "tuning_powerresult"' in q["sql"]]
    assert len(reads) == 1


def test_the_home_page_card_lists_the_latest_runs(rf, member):
    from django.template.loader import render_to_string

    from tuning.home import home_card

    for index in range(7):
        make_run(function=f"home-fn-{index}")
    request = rf.get("/")
    request.user = member
    card = home_card(request)
    assert card["title"] == "Latest tuning runs" and card["url"] == "/runs/"
    html = render_to_string(card["template"], {"data": card["data"]}, request=request)
    assert "home-fn-6" in html and "home-fn-2" in html and "home-fn-1" not in html
    assert "1,024 MB" in html


# --------------------------------------------------------------------------- new sweep


def test_a_user_without_permission_sees_the_form_disabled_with_an_explanation(client, member):
    client.force_login(member)
    page = client.get("/runs/new/").content.decode()
    assert "tuning.add_tuningrun" in page
    assert 'id="no-permission"' in page
    assert "disabled" in page


def test_a_user_without_permission_cannot_start_a_sweep_by_posting(client, member):
    client.force_login(member)
    response = client.post("/runs/new/", valid_form())
    assert response.status_code == 400
    assert not TuningRun.objects.exists()


def test_a_valid_form_starts_a_sweep_with_sorted_unique_sizes(
    client, starter, django_capture_on_commit_callbacks
):
    client.force_login(starter)
    with django_capture_on_commit_callbacks() as enqueued:
        response = client.post("/runs/new/", valid_form(parallel="on"))
    assert response.status_code == 302
    run = TuningRun.objects.get()
    assert response["Location"] == f"/runs/{run.id}/"
    assert run.status == RunStatus.PENDING and len(enqueued) == 1
    assert run.memory_sizes == [128, 512, 1024]
    assert run.payload == {"n": 25}
    assert (run.parallel, run.concurrency) == (True, 5)
    assert run.created_by == starter


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"payload": '{\n  "n": 25\n  "x": 1\n}'}, "payload", "line 3, column 3"),
        ({"memory_sizes": "64, 512"}, "memory_sizes", "64 MB is below Lambda's minimum of 128 MB"),
        (
            {"memory_sizes": "512, 20000"},
            "memory_sizes",
            "20000 MB is above Lambda's maximum of 10240 MB",
        ),
        ({"invocations_per_size": "0"}, "invocations_per_size", "greater than or equal to 1"),
        ({"function": "not a function!"}, "function", "is not a Lambda function name or ARN"),
        ({"balanced_weight": "1.5"}, "balanced_weight", "less than or equal to 1"),
        ({"weighted_payloads": '[{"weight": 2}]', "payload": ""}, "weighted_payloads", "payload"),
    ],
)
def test_bad_input_gets_field_errors_never_a_500(client, starter, overrides, field, message):
    client.force_login(starter)
    response = client.post("/runs/new/", valid_form(**overrides))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert message.split("'")[0] in response.content.decode().replace("&#x27;", "'")
    assert not TuningRun.objects.exists()


def caller_identity(account_id: str) -> dict:
    """STS GetCallerIdentity's answer for credentials of ``account_id``."""
    return {
        "Account": account_id,
        "Arn": f"arn:aws:iam::{account_id}:user/worker",
        "UserId": "AIDAEXAMPLE",
    }


def test_an_arn_of_another_account_than_the_credentials_is_a_field_error(client, starter, stubbed):
    stubbed("sts").add_response("get_caller_identity", caller_identity("123456789012"))
    client.force_login(starter)
    arn = "arn:aws:lambda:us-east-1:999999999999:function:tuneboard-cpu"
    response = client.post("/runs/new/", valid_form(function=arn))
    assert response.status_code == 400
    [message] = response.context["form"].errors["function"]
    assert "names AWS account 999999999999" in message
    assert "act in account 123456789012" in message
    assert not TuningRun.objects.exists()


def test_a_qualified_arn_is_accepted_and_its_region_wins(client, starter, stubbed):
    sts = stubbed("sts", "eu-west-1")
    sts.add_response("get_caller_identity", caller_identity("123456789012"))
    client.force_login(starter)
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:tuneboard-cpu:live"
    response = client.post("/runs/new/", valid_form(function=arn))
    assert response.status_code == 302, response.context["form"].errors
    run = TuningRun.objects.get()
    assert (run.function_arn, run.qualifier, run.region) == (arn, "live", "eu-west-1")
    sts.assert_no_pending_responses()  # the account was checked in the run's region


def test_a_refused_sweep_is_shown_as_a_form_error(client, starter):
    client.force_login(starter)
    start_run(function="busy-function", memory_sizes=[128], created_by=starter)
    response = client.post("/runs/new/", valid_form(function="busy-function"))
    assert response.status_code == 400
    assert "busy-function already has an active sweep" in response.content.decode()
    assert TuningRun.objects.count() == 1


def test_auto_apply_is_only_for_users_allowed_to_change_runs(client, starter, admin):
    client.force_login(starter)
    response = client.post("/runs/new/", valid_form(auto_apply_target="$LATEST"))
    assert response.status_code == 302  # the disabled field ignores what was posted
    assert TuningRun.objects.get().auto_apply_target == ""
    assert "tuning.change_tuningrun" in client.get("/runs/new/").content.decode()

    client.force_login(admin)
    response = client.post("/runs/new/", valid_form(function="other-fn", auto_apply_target="live"))
    assert response.status_code == 302
    assert TuningRun.objects.get(function_name="other-fn").auto_apply_target == "live"


def test_the_function_picker_lists_and_searches_functions(
    client, starter, in_sandbox, make_function
):
    client.force_login(starter)
    cpu = make_function(FunctionName=f"picker-{timezone.now():%H%M%S%f}-cpu")
    io_fn = make_function(FunctionName=cpu.replace("-cpu", "-IO"), Timeout=10)
    prefix = cpu.removesuffix("-cpu")
    data = client.get(f"/runs/new/functions/?region=us-east-1&q={prefix}").json()
    assert [f["name"] for f in data["functions"]] == [cpu, io_fn]
    assert data["functions"][1]["timeout_s"] == 10
    data = client.get(f"/runs/new/functions/?region=us-east-1&q={prefix}-io").json()
    assert [f["name"] for f in data["functions"]] == [io_fn]


def test_the_estimate_uses_the_timeout_as_an_upper_bound_before_any_run(
    client, starter, in_sandbox, make_function
):
    client.force_login(starter)
    name = make_function(Timeout=3)
    data = client.get(
        f"/runs/new/estimate/?function={name}&region=us-east-1"
        "&memory_sizes=128,1024&invocations_per_size=10&concurrency=1"
    ).json()
    assert data["ok"] is True
    assert data["invocations"] == 20
    assert data["upper_bound"] is True
    assert "timeout (3 s)" in data["basis"]
    # 10 × 3 s at 128 MB + 10 × 3 s at 1024 MB, serial, plus publishing
    assert data["seconds"] >= 60
    # 10 × (0.125 GB × 3 s) + 10 × (1 GB × 3 s) at $0.0000166667 per GB-s + 20 requests
    expected = 10 * 0.125 * 3 * 0.0000166667 + 10 * 1 * 3 * 0.0000166667 + 20 * 0.0000002
    assert data["cost_usd"] == pytest.approx(expected, rel=1e-6)


def test_the_estimate_prefers_the_functions_last_run(client, starter, stubbed):
    limits = {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 900}
    stubbed().add_response("get_account_settings", {"AccountLimit": limits})
    client.force_login(starter)
    make_run(function="tuneboard-cpu", sizes=(128, 1024))
    data = client.get(
        "/runs/new/estimate/?function=tuneboard-cpu&region=us-east-1"
        "&memory_sizes=128,1024&invocations_per_size=10&parallel=on&concurrency=10"
    ).json()
    assert data["upper_bound"] is False
    assert "last run" in data["basis"]
    assert data["seconds"] < 20  # 1.2 s + 0.15 s of invoking in one batch, plus publishing
    assert "900 unreserved concurrent executions in us-east-1" in data["message"]
    cold = client.get(
        "/runs/new/estimate/?function=tuneboard-cpu&region=us-east-1"
        "&memory_sizes=128,1024&invocations_per_size=10&cold_starts_only=on"
    ).json()
    assert "Cold-starts mode publishes 20 versions (at most 200 per run)." in cold["message"]


def test_the_new_sweep_page_warns_that_latest_is_modified(client, starter):
    client.force_login(starter)
    page = client.get("/runs/new/").content.decode()
    assert "$LATEST" in page and "is modified" in page
    assert "Quick" in page and "Wide" in page


def test_re_run_with_changes_prefills_the_form(client, starter):
    client.force_login(starter)
    run = make_run(sizes=(256, 2048))
    page = client.get(f"/runs/new/?from={run.id}").content.decode()
    assert 'value="256, 2048"' in page


# --------------------------------------------------------------------------- run detail


def test_the_run_detail_shows_results_recommendations_and_charts(client, member):
    client.force_login(member)
    run = make_run(sizes=(128, 512, 1024, 1769), failed_sizes=(128,))
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert "vendor/plotly.min.js" in page and page.count("plotly.min.js") == 1
    assert "cdn.plot.ly" not in page
    assert page.count('class="card chart"') == 4  # three inline + the monthly one (loaded by JS)
    assert "Out of memory at 128 MB (Runtime.OutOfMemory: signal: killed)</pre>" in page
    for column in ("p50", "p95", "p99", "Avg billed", "Cost / 1M calls", "Cold starts"):
        assert column in page
    assert 'id="rec-cost"' in page and 'id="rec-speed"' in page and 'id="rec-balanced"' in page
    assert 'id="balanced-weight"' in page
    slider = json.loads(
        page.split('<script id="balanced-slider" type="application/json">')[1].split("<")[0]
    )
    assert len(slider) == 21  # 0, 0.05, … 1
    assert slider["0.00"]["memory_mb"] == 1769  # speed only
    assert slider["1.00"]["memory_mb"] == 1024  # cost only
    assert slider["1.00"]["cost_label"].startswith("$0.00000")
    assert "https://lambda-power-tuning.show/#" in page


def test_a_finished_runs_page_shows_its_figures_as_they_are_now(client, member):
    """Its results table and progress are kept rendered: a changed value is shown at once."""
    client.force_login(member)
    run = make_run(sizes=(128, 512))
    assert "Out of memory" not in client.get(f"/runs/{run.id}/").content.decode()
    run.results.filter(memory_mb=128).update(
        errors=3, error_message="Out of memory at 128 MB", invocations_done=7
    )
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert "Out of memory at 128 MB</pre>" in page
    assert '<td class="num tb-bad">3 / 7' in page
    assert '<span class="tb-size-count">7/10</span>' in page


def test_permissions_count_whether_given_to_the_user_or_to_a_group(client, django_user_model):
    from django.contrib.auth.models import Group

    appliers = Group.objects.create(name="appliers")
    appliers.permissions.add(Permission.objects.get(codename="change_tuningrun"))
    user = django_user_model.objects.create_user("gus", password="correct-horse-42")
    user.user_permissions.add(Permission.objects.get(codename="add_sharelink"))
    run = make_run()
    client.force_login(user)
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert 'id="share-form"' in page and 'id="apply-link"' not in page
    user.groups.add(appliers)
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert 'id="share-form"' in page and 'id="apply-link"' in page
    user.user_permissions.clear()
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert 'id="share-form"' not in page and 'id="apply-link"' in page


def test_the_monthly_chart_uses_the_functions_real_traffic_and_shows_the_saving(
    client, member, in_sandbox
):
    client.force_login(member)
    run = make_run(function="monthly-busy", sizes=(128, 512, 1024), original_memory=128)
    put_invocations(in_sandbox, "monthly-busy", 3_000_000)
    page = client.get(f"/runs/{run.id}/monthly/").content.decode()
    assert "Traffic: 3,000,000 invocations in the last 30 days" in page
    assert "Moving from 128 MB (current) to 1,024 MB saves" in page


def test_the_monthly_chart_explains_when_cloudwatch_has_no_traffic(client, member, in_sandbox):
    client.force_login(member)
    run = make_run(function="monthly-quiet", sizes=(128, 512, 1024))
    page = client.get(f"/runs/{run.id}/monthly/").content.decode()
    assert "no AWS/Lambda Invocations datapoints" in page
    assert "the chart assumes 1,000,000 invocations a month" in page


def test_the_monthly_chart_explains_when_cloudwatch_cannot_be_read(client, member, in_sandbox):
    cloudwatch = clients.client("cloudwatch", "us-east-1")
    with Stubber(cloudwatch) as stub:
        stub.add_client_error(
            "get_metric_data",
            service_error_code="AccessDenied",
            service_message="not authorized to perform: cloudwatch:GetMetricData",
            http_status_code=403,
        )
        client.force_login(member)
        run = make_run()
        page = client.get(f"/runs/{run.id}/monthly/").content.decode()
    assert "CloudWatch could not be read: Access denied" in page


def test_progress_is_reported_overall_and_per_size(client, starter):
    client.force_login(starter)
    run = make_run(sizes=(512, 1024), num=10, status="RUNNING")
    run.results.filter(memory_mb=512).update(invocations_done=10, status="SUCCEEDED")
    run.results.filter(memory_mb=1024).update(invocations_done=5, status="RUNNING")
    TuningRun.objects.filter(pk=run.pk).update(invocations_done=15, phase="invoking")
    data = client.get(f"/runs/{run.id}/progress/").json()
    assert data["active"] is True
    assert (data["done"], data["total"], data["percent"]) == (15, 20, 75)
    assert [(s["memory_mb"], s["percent"]) for s in data["sizes"]] == [(512, 100), (1024, 50)]
    assert data["status_class"] == "running"  # the live page colours its badges with these
    assert [s["status_class"] for s in data["sizes"]] == ["succeeded", "running"]
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert 'id="cancel-button"' in page
    assert "Results appear here" in page


def test_a_running_sweep_with_measured_sizes_says_its_recommendation_comes_at_the_end(
    client, starter
):
    client.force_login(starter)
    run = make_run(sizes=(512, 1024), num=10, status="RUNNING")
    run.results.filter(memory_mb=512).update(
        invocations_done=10, status="SUCCEEDED", avg_duration_ms=300.0, avg_cost_usd="0.0000025"
    )
    fragment = client.get(f"/runs/{run.id}/?fragment=results").content.decode()
    assert 'data-final="false"' in fragment
    assert "Chosen when the sweep finishes." in fragment
    assert "No size succeeded." not in fragment

    finished = make_run(function="done-fn", sizes=(512, 1024))
    fragment = client.get(f"/runs/{finished.id}/?fragment=results").content.decode()
    assert 'data-final="true"' in fragment
    assert "Chosen when the sweep finishes." not in fragment


def test_cancel_is_offered_only_while_the_run_is_active(client, starter):
    client.force_login(starter)
    done = make_run()
    assert 'id="cancel-button"' not in client.get(f"/runs/{done.id}/").content.decode()
    response = client.post(f"/runs/{done.id}/cancel/")
    assert response.status_code == 302
    done.refresh_from_db()
    assert (done.status, done.cancel_requested) == (RunStatus.SUCCEEDED, False)

    running = make_run(function="other", status="RUNNING")
    client.post(f"/runs/{running.id}/cancel/")
    running.refresh_from_db()
    assert running.cancel_requested and running.error_message == "Cancelled by sam."


def test_cancel_and_re_run_need_permission(client, member):
    client.force_login(member)
    running = make_run(status="RUNNING")
    assert client.post(f"/runs/{running.id}/cancel/").status_code == 403
    assert client.post(f"/runs/{make_run(function='x').id}/rerun/").status_code == 403
    running.refresh_from_db()
    assert not running.cancel_requested
    assert TuningRun.objects.count() == 2


def test_re_run_starts_a_new_run_with_the_same_parameters(client, starter):
    client.force_login(starter)
    run = make_run()
    response = client.post(f"/runs/{run.id}/rerun/")
    new = TuningRun.objects.exclude(pk=run.pk).get()
    assert response["Location"] == f"/runs/{new.id}/"
    assert (new.status, new.created_by) == (RunStatus.PENDING, starter)
    assert (new.function_arn, new.memory_sizes, new.payload) == (
        run.function_arn,
        run.memory_sizes,
        run.payload,
    )


def test_apply_asks_for_confirmation_then_queues_one_change_at_a_time(client, admin):
    client.force_login(admin)
    run = make_run(sizes=(128, 512, 1024))
    confirm = client.get(f"/runs/{run.id}/apply/").content.decode()
    assert "recommended" in confirm and 'name="confirm"' in confirm
    client.post(f"/runs/{run.id}/apply/", {"memory_mb": "1024", "target": "$LATEST"})
    assert not run.memory_changes.exists()  # not confirmed yet
    response = client.post(
        f"/runs/{run.id}/apply/",
        {"memory_mb": "1024", "target": "$LATEST", "confirm": "yes"},
        follow=True,
    )
    page = response.content.decode()
    assert "a worker is making the change" in page
    assert 'data-state="QUEUED"' in page and 'http-equiv="refresh"' in page
    change = run.memory_changes.get()
    assert (change.memory_mb, change.target, change.requested_by) == (1024, "$LATEST", admin)
    run.refresh_from_db()
    assert run.owns_function  # nothing else may change the function until the worker is done
    again = client.post(
        f"/runs/{run.id}/apply/",
        {"memory_mb": "512", "target": "$LATEST", "confirm": "yes"},
        follow=True,
    ).content.decode()
    assert "Could not apply 512 MB to $LATEST" in again and "is busy" in again
    assert run.memory_changes.count() == 1


def test_apply_needs_the_change_permission(client, starter):
    client.force_login(starter)
    run = make_run()
    assert client.get(f"/runs/{run.id}/apply/").status_code == 403
    assert client.post(f"/runs/{run.id}/apply/", {"confirm": "yes"}).status_code == 403
    assert "Applying needs" in client.get(f"/runs/{run.id}/").content.decode()


def test_an_unknown_run_is_a_404(client, member):
    client.force_login(member)
    assert client.get("/runs/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_times_are_shown_in_the_viewers_timezone(client, member):
    client.force_login(member)
    run = make_run()
    client.cookies["tz"] = "Asia%2FTokyo"
    assert "JST" in client.get(f"/runs/{run.id}/").content.decode()
    assert "JST" in client.get("/runs/").content.decode()


# --------------------------------------------------------------------------- exports


def test_the_csv_export_has_one_row_per_invocation(client, member):
    client.force_login(member)
    run = make_run(sizes=(128, 512), num=7)
    response = client.get(f"/runs/{run.id}/export.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 14
    assert rows[0]["memory_mb"] == "128" and rows[0]["cold_start"] == "True"
    assert float(rows[0]["duration_ms"]) > 0


def test_the_json_export_follows_the_api_schema(client, member):
    client.force_login(member)
    run = make_run(sizes=(128, 512))
    data = json.loads(client.get(f"/runs/{run.id}/export.json").content)
    assert data["id"] == str(run.id)
    assert [r["memory_mb"] for r in data["results"]] == [128, 512]
    assert "recommendation" in data


# --------------------------------------------------------------------------- compare


def test_compare_overlays_runs_and_shows_deltas_in_percent(client, member):
    client.force_login(member)
    before = make_run(sizes=(512, 1024))
    after = make_run(
        sizes=(512, 1024), durations={512: 150.0, 1024: 165.0}, function="tuneboard-cpu-v2"
    )
    page = client.get(f"/runs/compare/?ids={before.id},{after.id}").content.decode()
    assert 'id="chart-compare"' in page
    assert "-62.5 %" in page and "faster" in page  # 512 MB: 400 ms -> 150 ms
    assert "10.0 %" in page and "slower" in page  # 1024 MB: 150 ms -> 165 ms
    assert "cheaper" in page and "dearer" in page


def test_compare_with_fewer_than_two_runs_offers_a_picker(client, member):
    client.force_login(member)
    run = make_run()
    page = client.get(f"/runs/compare/?ids={run.id}&ids=not-a-uuid").content.decode()
    assert "Pick two or more runs" in page


# --------------------------------------------------------------------------- permissions


def test_the_function_picker_and_the_estimate_need_the_start_permission(client, member):
    client.force_login(member)
    assert client.get("/runs/new/functions/?region=us-east-1").status_code == 403
    estimate = "/runs/new/estimate/?function=tuneboard-cpu&memory_sizes=128"
    assert client.get(estimate).status_code == 403


def test_a_re_run_that_would_apply_its_winner_needs_the_change_permission(client, starter, admin):
    run = make_run()
    TuningRun.objects.filter(pk=run.pk).update(auto_apply_target="$LATEST")
    client.force_login(starter)
    assert client.post(f"/runs/{run.id}/rerun/").status_code == 403
    assert TuningRun.objects.count() == 1
    client.force_login(admin)
    assert client.post(f"/runs/{run.id}/rerun/").status_code == 302
    assert TuningRun.objects.exclude(pk=run.pk).get().auto_apply_target == "$LATEST"


def test_the_admin_refuses_to_delete_an_active_run_and_never_shows_its_configuration(
    admin_client,
):
    running = make_run(status="RUNNING")
    done = make_run(function="finished-fn")
    assert admin_client.get(f"/admin/tuning/tuningrun/{running.id}/delete/").status_code == 403
    response = admin_client.post(
        "/admin/tuning/tuningrun/",
        {"action": "delete_selected", "_selected_action": [running.id, done.id], "post": "yes"},
    )
    assert "is still active: cancel it first" in response.content.decode()
    assert TuningRun.objects.filter(pk=running.pk).exists()
    page = admin_client.get(f"/admin/tuning/tuningrun/{done.id}/change/").content.decode()
    assert "Original config" not in page and "EphemeralStorage" not in page
    assert admin_client.get(f"/admin/tuning/tuningrun/{done.id}/delete/").status_code == 200


def test_a_pending_cleanup_is_shown_kept_from_deletion_and_resolved_only_with_permission(
    client, member, admin, admin_client
):
    run = make_run(status="RUNNING")
    run.claim_cleanup(from_phases=["publishing"])
    run.finish(RunStatus.FAILED, "Cleanup pending.", left="2 versions (AccessDenied)")
    client.force_login(member)
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert 'id="cleanup-pending"' in page and "Left in AWS: 2 versions (AccessDenied)" in page
    assert 'id="resolve-cleanup"' not in page
    assert client.get(f"/api/runs/{run.id}/").json()["cleanup_pending"] == (
        "2 versions (AccessDenied)"
    )
    assert client.post(f"/runs/{run.id}/resolve-cleanup/").status_code == 403

    assert admin_client.get(f"/admin/tuning/tuningrun/{run.id}/delete/").status_code == 403
    response = admin_client.post(
        "/admin/tuning/tuningrun/",
        {"action": "delete_selected", "_selected_action": [run.id], "post": "yes"},
    )
    assert "has its cleanup pending (2 versions (AccessDenied))" in response.content.decode()

    client.force_login(admin)
    assert 'id="resolve-cleanup"' in client.get(f"/runs/{run.id}/").content.decode()
    assert client.post(f"/runs/{run.id}/resolve-cleanup/").status_code == 302
    run.refresh_from_db()
    assert not run.owns_function and "Cleanup marked resolved by ada" in run.error_message
    assert 'id="cleanup-pending"' not in client.get(f"/runs/{run.id}/").content.decode()


def test_the_run_page_and_the_api_show_the_runs_timeline(client, member):
    client.force_login(member)
    run = make_run()
    assert 'id="run-events"' not in client.get(f"/runs/{run.id}/").content.decode()
    run.note("The 2 batches not done (8 invocations) were sent again (attempt 1 of 5).")
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert 'id="run-events"' in page and "were sent again (attempt 1 of 5)." in page
    [event] = client.get(f"/api/runs/{run.id}/").json()["events"]
    assert event["what"].startswith("The 2 batches not done")


def test_a_sweep_no_worker_picks_up_says_so_on_the_page_and_in_the_api(client, starter):
    client.force_login(starter)
    fresh = make_run(function="fresh-fn", status="PENDING")
    assert client.get(f"/runs/{fresh.id}/progress/").json()["stalled"] == ""
    waiting = make_run(function="waiting-fn", status="PENDING")
    TuningRun.objects.filter(pk=waiting.pk).update(
        created_at=timezone.now() - timedelta(seconds=75)
    )
    stalled = client.get(f"/runs/{waiting.id}/progress/").json()["stalled"]
    assert int(re.match(r"No worker has started this sweep for (\d+) s\.", stalled)[1]) >= 75
    assert "celery -A dashboard worker" in stalled
    page = client.get(f"/runs/{waiting.id}/").content.decode()
    assert 'id="progress-stalled">No worker has started' in page
    api = client.get(f"/api/runs/{waiting.id}/").json()["stalled"]
    assert api.startswith("No worker has started this sweep for ")

    quiet = make_run(function="quiet-fn", status="RUNNING")
    TuningRun.objects.filter(pk=quiet.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=90)
    )
    quiet_message = client.get(f"/runs/{quiet.id}/progress/").json()["stalled"]
    assert (
        int(re.match(r"No worker has worked on this sweep for (\d+) s\.", quiet_message)[1]) >= 90
    )


def test_a_finished_runs_figures_are_built_once_and_then_read_back(client, member):
    client.force_login(member)
    run = make_run()
    first = client.get(f"/runs/{run.id}/").content.decode()
    stored = run.figures.get()
    assert len(stored.html) == 3 and stored.html[0] in first
    stored.html = ['<div id="drawn-once">kept</div>']
    stored.save()
    caches["run-figures"].clear()  # as in another process: the stored set is read, not rebuilt
    assert '<div id="drawn-once">kept</div>' in client.get(f"/runs/{run.id}/").content.decode()


def test_a_running_runs_figures_are_not_stored(client, member):
    client.force_login(member)
    run = make_run()
    TuningRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
    client.get(f"/runs/{run.id}/")
    assert not run.figures.exists()
