"""Power Tuning's powerValues "ALL" and size ranges; sleep and error share in the web form.
Each through the form, the JSON API (CSRF enforced, token) and the command line."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client

from dashboard.models import ApiToken
from tests.tuning.test_views import valid_form
from tuning.models import TuningRun
from tuning.params import ALL_MEMORY_SIZES, InvalidSweep, SweepParams, parse_memory_sizes

pytestmark = pytest.mark.django_db


@pytest.fixture
def starter(django_user_model):
    user = django_user_model.objects.create_user("sam", password="correct-horse-42")
    user.user_permissions.add(Permission.objects.get(codename="add_tuningrun"))
    return django_user_model.objects.get(pk=user.pk)


def test_all_is_power_tunings_128_to_3008_mb_every_64_mb():
    assert ALL_MEMORY_SIZES[0] == 128 and ALL_MEMORY_SIZES[-1] == 3008
    assert len(ALL_MEMORY_SIZES) == 46
    assert all(b - a == 64 for a, b in zip(ALL_MEMORY_SIZES, ALL_MEMORY_SIZES[1:], strict=False))
    assert parse_memory_sizes(" all ") == list(ALL_MEMORY_SIZES)


@pytest.mark.parametrize(
    ("text", "sizes"),
    [
        ("128-512/128", [128, 256, 384, 512]),
        ("128 - 512 / 192, 3008", [128, 320, 512, 3008]),
        ("1024-1100/64, 1024", [1024, 1088]),
    ],
)
def test_a_range_is_from_to_by_step(text, sizes):
    assert parse_memory_sizes(text) == sizes


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1024-128/64", "is not a range"),
        ("128-512/0", "is not a range"),
        ("128-10240/1", "at most 100 per sweep"),
        ("9000-12000/1000", "above Lambda's maximum"),
    ],
)
def test_a_bad_range_is_refused_saying_why(text, message):
    with pytest.raises(ValueError, match=message):
        parse_memory_sizes(text)


def test_the_form_offers_all_as_a_preset_and_takes_it_typed(client, starter):
    client.force_login(starter)
    page = client.get("/runs/new/").content.decode()
    assert re.search(r'data-preset="all" data-sizes="128, 192, [^"]*, 3008">All: 128–3008', page)
    response = client.post("/runs/new/", valid_form(memory_sizes="ALL", preset="all"))
    assert response.status_code == 302
    assert TuningRun.objects.get().memory_sizes == list(ALL_MEMORY_SIZES)


def test_the_form_shows_a_bad_range_as_a_field_error_and_saves_nothing(client, starter):
    client.force_login(starter)
    response = client.post("/runs/new/", valid_form(memory_sizes="1024-128/64"))
    assert response.status_code == 400
    assert "is not a range" in response.content.decode()
    assert not TuningRun.objects.exists()


def test_the_api_takes_all_and_ranges(starter):
    _token, key = ApiToken.issue(starter, "tests")
    api = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {key}")
    for value, expected in (("ALL", list(ALL_MEMORY_SIZES)), ("128-384/128", [128, 256, 384])):
        TuningRun.objects.all().delete()
        response = api.post(
            "/api/runs/",
            {"function": "tuneboard-cpu", "memory_sizes": value},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        assert response.json()["memory_sizes"] == expected
    refused = api.post(
        "/api/runs/",
        {"function": "tuneboard-io", "memory_sizes": "128-512/0"},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert "is not a range" in refused.json()["fields"]["memory_sizes"]


def test_the_command_line_takes_all():
    call_command("sweep", "tuneboard-cpu", "--power", "ALL", "--num", "1")
    assert TuningRun.objects.get().memory_sizes == list(ALL_MEMORY_SIZES)


def test_sleep_and_error_share_are_in_the_form_and_kept_by_a_re_run(client, starter):
    client.force_login(starter)
    page = client.get("/runs/new/").content.decode()
    assert 'name="sleep_between_ms"' in page and 'name="max_error_share"' in page
    response = client.post("/runs/new/", valid_form(sleep_between_ms="250", max_error_share="0.3"))
    assert response.status_code == 302
    run = TuningRun.objects.get()
    assert (run.sleep_between_ms, run.max_error_share) == (250, 0.3)
    detail = client.get(f"/runs/{run.id}/").content.decode()
    assert "more than 30 % of its invocations fail" in detail and "250 ms between" in detail
    again = client.get(f"/runs/new/?from={run.id}").content.decode()
    assert re.search(r'name="sleep_between_ms" value="250"', again)
    assert re.search(r'name="max_error_share" value="0.3"', again)


def test_allowed_exceptions_come_from_the_form_api_and_cli_and_a_re_run_keeps_them(client, starter):
    client.force_login(starter)
    response = client.post(
        "/runs/new/", valid_form(allowed_exceptions="ValidationError, NotFound ValidationError")
    )
    assert response.status_code == 302
    run = TuningRun.objects.get()
    assert run.allowed_exceptions == ["ValidationError", "NotFound"]
    again = client.get(f"/runs/new/?from={run.id}").content.decode()
    assert 'value="ValidationError, NotFound"' in again
    detail = client.get(f"/runs/{run.id}/").content.decode()
    assert "allowed: ValidationError, NotFound" in detail

    _token, key = ApiToken.issue(starter, "tests")
    api = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {key}")
    body = {"function": "tuneboard-io", "memory_sizes": [128], "allowed_exceptions": ["Boom"]}
    response = api.post("/api/runs/", body, content_type="application/json")
    assert response.status_code == 201 and response.json()["allowed_exceptions"] == ["Boom"]
    refused = api.post(
        "/api/runs/",
        {**body, "function": "tuneboard-memory", "allowed_exceptions": "Bad\u0000Name"},
        content_type="application/json",
    )
    assert refused.status_code == 400 and "allowed_exceptions" in refused.json()["fields"]

    call_command("sweep", "tuneboard-flaky", "--power", "128", "--allowed-exceptions", "A,B")
    assert TuningRun.objects.get(function_name="tuneboard-flaky").allowed_exceptions == ["A", "B"]


def test_a_dry_run_is_one_invocation_per_size_from_the_form_api_and_cli(client, starter):
    client.force_login(starter)
    response = client.post("/runs/new/", valid_form(dry_run="on", invocations_per_size="50"))
    assert response.status_code == 302
    run = TuningRun.objects.get()
    assert run.dry_run and run.invocations_per_size == 1 and run.invocations_total == 3
    again = client.get(f"/runs/new/?from={run.id}").content.decode()
    assert re.search(r'name="dry_run"[^>]* checked', again)

    _token, key = ApiToken.issue(starter, "tests")
    api = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {key}")
    body = {"function": "tuneboard-io", "memory_sizes": [128, 256], "dry_run": True}
    response = api.post("/api/runs/", body, content_type="application/json")
    assert response.status_code == 201 and response.json()["dry_run"] is True
    with pytest.raises(InvalidSweep) as refused:
        SweepParams.parse({**body, "auto_apply_target": "live"})
    assert "no winner to apply" in refused.value.errors["auto_apply_target"]

    call_command("sweep", "tuneboard-flaky", "--power", "128,256", "--dry-run")
    assert TuningRun.objects.get(function_name="tuneboard-flaky").dry_run
