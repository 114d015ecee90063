"""Power Tuning's dryRun: asked for in the form, the JSON API and the command line; a re-run
keeps it; a dry run invokes each size once and never applies."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client

from dashboard.models import ApiToken
from tests.tuning.test_views import valid_form
from tuning.models import TuningRun
from tuning.params import InvalidSweep, SweepParams

pytestmark = pytest.mark.django_db


@pytest.fixture
def starter(django_user_model):
    user = django_user_model.objects.create_user("dee", password="correct-horse-42")
    user.user_permissions.add(Permission.objects.get(codename="add_tuningrun"))
    return django_user_model.objects.get(pk=user.pk)


def test_a_dry_run_invokes_each_size_once_and_may_not_auto_apply():
    params = SweepParams.parse(
        {
            "function": "tuneboard-io",
            "memory_sizes": [128, 256],
            "invocations_per_size": 10,
            "dry_run": True,
        }
    )
    assert params.invocations_per_size == 1
    assert params.run_fields()["invocations_total"] == 2
    with pytest.raises(InvalidSweep) as refused:
        SweepParams.parse(
            {
                "function": "tuneboard-io",
                "memory_sizes": [128],
                "dry_run": True,
                "auto_apply_target": "live",
            }
        )
    assert "no winner to apply" in str(refused.value.errors["auto_apply_target"])


def test_dry_run_comes_from_the_form_api_and_cli_and_a_re_run_keeps_it(client, starter):
    client.force_login(starter)
    assert 'name="dry_run"' in client.get("/runs/new/").content.decode()
    response = client.post("/runs/new/", valid_form(dry_run="on"))
    assert response.status_code == 302
    run = TuningRun.objects.get()
    assert run.dry_run and run.invocations_per_size == 1
    again = client.get(f"/runs/new/?from={run.id}").content.decode()
    assert re.search(r'<input[^>]*name="dry_run"[^>]*checked', again)
    assert SweepParams.from_run(run).dry_run

    _token, key = ApiToken.issue(starter, "tests")
    api = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {key}")
    body = {"function": "tuneboard-memory", "memory_sizes": [128, 512], "dry_run": True}
    response = api.post("/api/runs/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["dry_run"] is True and response.json()["invocations_per_size"] == 1
    refused = api.post(
        "/api/runs/",
        {**body, "function": "tuneboard-flaky", "dry_run": "sometimes"},
        content_type="application/json",
    )
    assert refused.status_code == 400 and "dry_run" in refused.json()["fields"]

    call_command("sweep", "tuneboard-flaky", "--power", "128,256", "--dry-run")
    cli = TuningRun.objects.get(function_name="tuneboard-flaky")
    assert cli.dry_run and cli.invocations_total == 2
