"""A Power Tuning state machine input, pasted into the new-sweep form, given to the CLI or sent
to the API, becomes the same sweep parameters; what has no equivalent is said, never dropped
silently; nothing starts from the form until the user presses Start sweep."""

import json
import re

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from dashboard.models import ApiToken
from tuning.models import TuningRun
from tuning.params import ALL_MEMORY_SIZES, SweepParams
from tuning.powertuning_input import DEFAULT_POWER_VALUES, NotAnInput, parse_input_text, translate

pytestmark = pytest.mark.django_db

ARN = "arn:aws:lambda:eu-west-2:123456789012:function:orders"

#: Every key of Power Tuning 4.x's input (README-INPUT-OUTPUT.md).
FULL_INPUT = {
    "lambdaARN": ARN,
    "powerValues": [1024, 128, 512],
    "num": 20,
    "payload": [{"payload": {"id": 1}, "weight": 3}, {"payload": {"id": 2}, "weight": 1}],
    "parallelInvocation": True,
    "strategy": "balanced",
    "balancedWeight": 0.3,
    "autoOptimize": True,
    "autoOptimizeAlias": "live",
    "preProcessorARN": "arn:aws:lambda:eu-west-2:123456789012:function:seed",
    "postProcessorARN": "arn:aws:lambda:eu-west-2:123456789012:function:tidy",
    "discardTopBottom": 0.1,
    "onlyColdStarts": False,
    "allowedExceptions": ["ValidationError"],
    "disablePayloadLogs": True,
    "includeOutputResults": True,
}


def parsed(data) -> SweepParams:
    return SweepParams.parse(translate(data).values)


def test_every_power_tuning_key_reaches_its_sweep_parameter():
    params = parsed(FULL_INPUT)
    assert params.function == ARN
    assert params.memory_sizes == [128, 512, 1024]
    assert params.invocations_per_size == 20
    assert [p["weight"] for p in params.weighted_payloads] == [3, 1]
    assert (params.parallel, params.concurrency) == (True, 20)  # all num at once, as PT does
    assert (params.strategy, params.balanced_weight) == ("balanced", 0.3)
    assert params.auto_apply_target == "live"
    assert params.pre_processor.endswith(":seed") and params.post_processor.endswith(":tidy")
    assert params.discard_fraction == 0.1
    assert params.allowed_exceptions == ["ValidationError"]
    notes = " ".join(translate(FULL_INPUT).notes)
    assert "disablePayloadLogs: not needed" in notes
    assert "includeOutputResults: not needed" in notes
    assert "concurrency cap = num" in notes


def test_the_other_keys_and_power_tunings_defaults():
    params = parsed(
        {
            "lambdaARN": "orders",
            "num": 5,
            "payloadS3": "s3://bucket/event.json",
            "dryRun": True,
            "sleepBetweenRunsMs": 250,
            "onlyColdStarts": True,
        }
    )
    assert params.payload_s3 == "s3://bucket/event.json"
    assert params.dry_run and params.cold_starts_only
    assert params.sleep_between_ms == 250
    assert params.memory_sizes == DEFAULT_POWER_VALUES  # Power Tuning's deploy-time default
    assert "default sizes" in translate({"lambdaARN": "orders"}).notes[0]
    assert parsed({"lambdaARN": "orders", "powerValues": "ALL"}).memory_sizes == list(
        ALL_MEMORY_SIZES
    )


@pytest.mark.parametrize(
    "payload,expected",
    [
        ('{"id": 7}', {"id": 7}),  # a string holding JSON is sent as that JSON
        ("plain text", "plain text"),  # any other string is sent as a JSON string
        ({"id": 7}, {"id": 7}),
    ],
)
def test_payloads_are_read_as_power_tuning_sends_them(payload, expected):
    assert parsed({"lambdaARN": "orders", "payload": payload}).payload == expected


def test_auto_optimize_without_an_alias_applies_to_latest_and_an_alias_alone_is_ignored():
    assert parsed({"lambdaARN": "f", "autoOptimize": True}).auto_apply_target == "$LATEST"
    alone = translate({"lambdaARN": "f", "autoOptimizeAlias": "live"})
    assert "auto_apply_target" not in alone.values
    assert any("autoOptimize is not true" in note for note in alone.notes)


@pytest.mark.parametrize(
    "text,words",
    [
        ("{nope", "not JSON"),
        ("[1, 2]", "JSON object"),
        ('{"num": 10}', "no lambdaARN"),
        ("[" * 100_000, "nested too deeply"),
    ],
)
def test_what_is_not_an_input_is_refused_with_a_reason(text, words):
    with pytest.raises(NotAnInput, match=words):
        parse_input_text(text)


def test_unknown_keys_are_named_not_dropped_silently():
    notes = translate({"lambdaARN": "f", "lambdaArn": "g", "nmu": 3}).notes
    assert any("lambdaArn" in note and "nmu" in note for note in notes)


# --------------------------------------------------------------------------- the form


@pytest.fixture
def browser(django_user_model):
    """Logged in with the start permission, holding the CSRF cookie of the page it loaded."""
    user = django_user_model.objects.create_user("pat")
    user.user_permissions.add(Permission.objects.get(codename="add_tuningrun"))
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get("/runs/new/")
    assert 'name="powertuning_input"' in page.content.decode()
    client.csrf = client.cookies["csrftoken"].value
    client.user = user
    return client


def paste(client, text: str):
    return client.post(
        "/runs/new/powertuning/",
        {"powertuning_input": text},
        HTTP_X_CSRFTOKEN=client.csrf,
        follow=True,
    )


def field_value(page: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
    return match.group(1) if match else ""


def test_a_pasted_input_fills_the_form_and_starts_nothing(browser):
    response = paste(browser, json.dumps(FULL_INPUT))
    assert response.status_code == 200
    page = response.content.decode()
    assert response.redirect_chain == [("/runs/new/", 302)]
    assert not TuningRun.objects.exists()
    assert field_value(page, "function") == ARN
    assert field_value(page, "memory_sizes") == "128, 512, 1024"
    assert field_value(page, "invocations_per_size") == "20"
    assert field_value(page, "auto_apply_target") == "live"
    assert re.search(r'<input[^>]*name="parallel"[^>]*checked', page)
    assert "filled from the Power Tuning input" in page
    assert "includeOutputResults: not needed" in page
    assert 'value="orders"' not in browser.get("/runs/new/").content.decode()  # shown once


def test_a_bad_value_is_named_and_the_rest_still_filled(browser):
    page = paste(browser, json.dumps({"lambdaARN": "orders", "num": 0})).content.decode()
    assert field_value(page, "function") == "orders"
    assert "Invocations per size" in page and "It was left as it was" in page
    assert field_value(page, "invocations_per_size") == "10"  # the form's default


def test_a_paste_that_is_not_an_input_is_a_field_error(browser):
    response = paste(browser, '{"num": 10}')
    assert response.status_code == 400
    assert "no lambdaARN" in response.context["paste"].errors["powertuning_input"][0]
    assert not TuningRun.objects.exists()


def test_the_paste_form_needs_the_csrf_token(browser):
    response = browser.post("/runs/new/powertuning/", {"powertuning_input": json.dumps(FULL_INPUT)})
    assert response.status_code == 403


# --------------------------------------------------------------------------- API and CLI


def test_the_api_starts_from_an_input_and_the_body_overrides_it(browser):
    _token, key = ApiToken.issue(browser.user, "tests")
    body = {"powertuning_input": {**FULL_INPUT, "autoOptimize": False}, "invocations_per_size": 7}
    response = Client(enforce_csrf_checks=True).post(
        "/api/runs/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["memory_sizes"] == [128, 512, 1024]
    assert data["invocations_per_size"] == 7
    assert any("includeOutputResults" in note for note in data["powertuning_notes"])
    bad = Client().post(
        "/api/runs/",
        {"powertuning_input": ["not", "an", "object"]},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert bad.status_code == 400
    assert "powertuning_input" in bad.json()["fields"]


def test_the_cli_starts_from_an_input_file_and_options_override_it(tmp_path, capsys):
    path = tmp_path / "input.json"
    path.write_text(json.dumps({**FULL_INPUT, "autoOptimize": False}))
    call_command("sweep", "--powertuning-input", str(path), "--num", "4")
    run = TuningRun.objects.get()
    assert (run.function_name, run.region) == ("orders", "eu-west-2")
    assert run.memory_sizes == [128, 512, 1024]
    assert run.invocations_per_size == 4
    assert (run.parallel, run.concurrency) == (True, 20)
    assert "note: includeOutputResults: not needed" in capsys.readouterr().err
    path.write_text("{nope")
    with pytest.raises(CommandError, match="--powertuning-input: This is not JSON"):
        call_command("sweep", "--powertuning-input", str(path))
    with pytest.raises(CommandError, match="No such file"):
        call_command("sweep", "--powertuning-input", str(tmp_path / "missing.json"))
