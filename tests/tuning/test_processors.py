"""Power Tuning's pre-/post-processor functions (preProcessorARN, postProcessorARN): asked for
in the form, the JSON API and the command line, checked like the tuned function (the account's
allowed functions, its region and account), kept by re-runs and shown on the run page. The
sweeps themselves are in tests/integration/test_sweep_processors.py."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from aws.models import AwsAccount
from dashboard.models import ApiToken
from tests.tuning.test_views import valid_form
from tuning.models import RunStatus, TuningRun
from tuning.params import InvalidSweep, SweepParams

pytestmark = pytest.mark.django_db

PRE_ARN = "arn:aws:lambda:us-east-1:123456789012:function:tuneboard-seed-data"


@pytest.fixture
def starter(django_user_model):
    user = django_user_model.objects.create_user("sam", password="correct-horse-42")
    user.user_permissions.add(Permission.objects.get(codename="add_tuningrun"))
    return django_user_model.objects.get(pk=user.pk)


@pytest.fixture
def api(starter):
    _token, key = ApiToken.issue(starter, "tests")
    return Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {key}")


def test_the_form_takes_both_processors_the_page_shows_them_and_re_runs_keep_them(client, starter):
    client.force_login(starter)
    response = client.post(
        "/runs/new/", valid_form(pre_processor=PRE_ARN, post_processor=" tuneboard-cleanup ")
    )
    assert response.status_code == 302
    run = TuningRun.objects.get()
    assert (run.pre_processor, run.post_processor) == (PRE_ARN, "tuneboard-cleanup")

    page = client.get(f"/runs/{run.id}/").content.decode()
    assert re.search(r'id="pre-processor"><code>' + re.escape(PRE_ARN), page)
    assert re.search(r'id="post-processor"><code>tuneboard-cleanup', page)
    again = client.get(f"/runs/new/?from={run.id}").content.decode()
    assert f'name="pre_processor" value="{PRE_ARN}"' in again
    assert 'name="post_processor" value="tuneboard-cleanup"' in again

    TuningRun.objects.filter(pk=run.pk).update(status=RunStatus.SUCCEEDED)
    assert client.post(f"/runs/{run.id}/rerun/").status_code == 302
    rerun = TuningRun.objects.exclude(pk=run.pk).get()
    assert (rerun.pre_processor, rerun.post_processor) == (PRE_ARN, "tuneboard-cleanup")


def test_the_form_refuses_a_bad_processor_with_a_field_error(client, starter):
    client.force_login(starter)
    response = client.post(
        "/runs/new/",
        valid_form(pre_processor="arn:aws:s3:::bucket"),
    )
    assert response.status_code == 400 and not TuningRun.objects.exists()
    error = response.context["form"].errors["pre_processor"][0]
    assert "Pre-processor function: This ARN is not a Lambda function ARN" in error
    response = client.post("/runs/new/", valid_form(post_processor="tuneboard-cpu"))
    assert response.status_code == 400 and not TuningRun.objects.exists()
    error = response.context["form"].errors["post_processor"][0]
    assert "must be another function than the one tuned" in error


def test_the_api_takes_processors_and_returns_them(api):
    body = {"function": "tuneboard-io", "memory_sizes": [128], "pre_processor": "seed:live"}
    response = api.post("/api/runs/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["pre_processor"] == "seed:live"
    assert response.json()["post_processor"] == ""
    assert TuningRun.objects.get().pre_processor == "seed:live"


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"pre_processor": "not a function"}, "pre_processor", "is not a Lambda function name"),
        ({"post_processor": 42}, "post_processor", "must be a string"),
        ({"post_processor": "a\u0000b"}, "post_processor", "must not contain the character"),
        (
            {"pre_processor": "arn:aws:lambda:eu-west-1:123456789012:function:seed"},
            "pre_processor",
            "is in region eu-west-1, the sweep in us-east-1",
        ),
        (
            {
                "function": "arn:aws:lambda:us-east-1:123456789012:function:tuneboard-io",
                "post_processor": "arn:aws:lambda:us-east-1:210987654321:function:clean",
            },
            "post_processor",
            "is in account 210987654321, the sweep in 123456789012",
        ),
    ],
)
def test_the_api_refuses_a_bad_processor_naming_the_field(api, values, field, message):
    body = {"function": "tuneboard-io", "memory_sizes": [128], **values}
    response = api.post("/api/runs/", body, content_type="application/json")
    assert response.status_code == 400
    assert message in response.json()["fields"][field]
    assert not TuningRun.objects.exists()


def test_a_processor_must_be_allowed_by_the_account(api):
    account = AwsAccount.objects.create(name="prod", allowed_functions="tuneboard-*")
    body = {
        "function": "tuneboard-io",
        "memory_sizes": [128],
        "account": "prod",
        "pre_processor": "tuneboard-seed",
        "post_processor": "billing-cleanup",
    }
    response = api.post("/api/runs/", body, content_type="application/json")
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert set(fields) == {"post_processor"}
    assert fields["post_processor"].startswith(
        "Post-processor function: billing-cleanup is not among the functions account 'prod' "
        "may sweep (tuneboard-*)"
    )
    assert not TuningRun.objects.exists()
    with pytest.raises(InvalidSweep):
        SweepParams.parse({**body, "account": account})


def test_the_command_line_takes_processors(starter):
    call_command(
        "sweep", "tuneboard-io", "--power", "128", "--pre-processor", "seed",
        "--post-processor", "arn:aws:lambda:us-east-1:123456789012:function:clean:2",
    )  # fmt: skip
    run = TuningRun.objects.get()
    assert run.pre_processor == "seed"
    assert run.post_processor == "arn:aws:lambda:us-east-1:123456789012:function:clean:2"
    with pytest.raises(CommandError, match="--pre-processor: Pre-processor function: "):
        call_command("sweep", "tuneboard-cpu", "--power", "128", "--pre-processor", "s3://x")
