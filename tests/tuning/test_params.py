"""Sweep parameters are declared once (tuning.params) and reach every way of starting a sweep;
derived values (winner, progress) are the same on the page, in the API and in the CLI."""

import json

import pytest
from django.core.management import call_command

from tests.tuning.runfactory import make_run
from tuning import powertuning, runs
from tuning.forms import SweepForm
from tuning.management.commands.sweep import Command as SweepCommand
from tuning.models import TuningRun
from tuning.params import InvalidSweep, SweepParams, parse_function
from tuning.serializers import run_to_dict

pytestmark = pytest.mark.django_db

#: A valid, non-default value for every declared parameter, as JSON (what the API takes).
NON_DEFAULTS = {
    "function": "arn:aws:lambda:eu-west-1:123456789012:function:orders:live",
    "memory_sizes": [256, 1024],
    "invocations_per_size": 7,
    "account": None,
    "region": "eu-west-1",
    "payload": None,
    "weighted_payloads": [{"payload": {"a": 1}, "weight": 2}, {"payload": {"a": 2}, "weight": 1}],
    "payload_s3": None,  # exclusive with inline payloads: tests/tuning/test_payload_s3.py
    "parallel": True,
    "concurrency": 3,
    "strategy": "balanced",
    "balanced_weight": 0.25,
    "discard_fraction": 0.1,
    "cold_starts_only": True,
    "dry_run": False,
    "compare_architectures": True,
    "sleep_between_ms": 20,
    "max_error_share": 0.5,
    "allowed_exceptions": ["ValidationError", "Throttled"],
    "pre_processor": "seed-orders",
    "post_processor": "arn:aws:lambda:eu-west-1:123456789012:function:cleanup-orders:2",
    "auto_apply_target": "live",
}


@pytest.fixture
def admin(django_user_model):
    return django_user_model.objects.create_superuser("ada", "ada@example.com", "pw-42-horse")


def test_every_declared_parameter_has_a_value_in_this_test():
    assert set(NON_DEFAULTS) == set(SweepParams.declared())


def test_every_parameter_reaches_the_form(admin):
    form = SweepForm(user=admin)
    assert set(SweepParams.declared()) <= set(form.fields)
    for name, spec in SweepParams.declared().items():
        assert form.fields[name].label == spec.label
        if spec.low is not None:  # the browser checks the same limits
            assert (form.fields[name].min_value, form.fields[name].max_value) == (
                spec.low,
                spec.high,
            )


def test_every_parameter_reaches_the_command_line():
    parser = SweepCommand().create_parser("manage.py", "sweep")
    destinations = {action.dest for action in parser._actions}
    assert set(SweepParams.declared()) <= destinations


def test_every_parameter_goes_through_the_api_and_comes_back_in_the_run_json(client, admin):
    client.force_login(admin)
    body = {name: value for name, value in NON_DEFAULTS.items() if value is not None}
    response = client.post("/api/runs/", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.json()
    data = response.json()
    for name, value in body.items():
        assert data[name] == value, name
    run = TuningRun.objects.get(copy_of=None)  # and its companion on the other architecture
    assert set(SweepParams.declared()) <= set(run_to_dict(run))
    assert run_to_dict(run, private=False)["function"] == "orders:live"
    assert run_to_dict(run, private=False)["post_processor"] == "cleanup-orders:2"


def test_a_re_run_and_the_re_run_form_repeat_every_parameter(admin):
    values = {name: value for name, value in NON_DEFAULTS.items() if value is not None}
    run = runs.start_run(SweepParams.parse(values), created_by=admin)
    TuningRun.objects.update(status="FAILED")  # the run and its companion
    again = runs.rerun(run, admin)
    for name in SweepParams.declared():
        if name != "function":
            assert getattr(again, name) == getattr(run, name), name
    assert again.function_arn == run.function_arn
    form = SweepForm({**SweepParams.from_run(run).form_initial(), "parallel": "on"}, user=admin)
    assert form.is_valid(), form.errors
    assert form.params == SweepParams.from_run(run)


def test_one_limit_everywhere_a_single_invocation_per_size_is_valid_in_form_api_and_cli(admin):
    form = SweepForm(
        {"function": "f", "memory_sizes": "128", "invocations_per_size": "1", "region": "us-east-1",
         "strategy": "cost", "balanced_weight": "0.5", "discard_fraction": "0.2"},
        user=admin,
    )  # fmt: skip
    assert form.is_valid(), form.errors
    assert SweepParams.parse({"function": "f", "memory_sizes": [128], "invocations_per_size": 1})
    with pytest.raises(InvalidSweep) as invalid:
        SweepParams.parse({"function": "f", "memory_sizes": [128], "invocations_per_size": 0})
    assert invalid.value.field == "invocations_per_size"


@pytest.mark.parametrize(
    "text",
    [
        "orders",
        "orders:live",
        "123456789012:function:orders",
        "arn:aws:lambda:eu-west-1:123456789012:function:orders",
        "arn:aws-cn:lambda:cn-north-1:123456789012:function:orders:7",
    ],
)
def test_one_parser_understands_every_way_to_name_a_function(text):
    assert parse_function(text).name == "orders"


def test_an_imported_run_shows_the_same_winner_on_the_page_in_the_api_and_in_the_cli(
    client, admin, capsys
):
    client.force_login(admin)
    url = powertuning.encode_visualizer_url(
        [(128, 800.0, 0.0000017), (512, 100.0, 0.0000009), (1024, 60.0, 0.0000011)]
    )
    run = powertuning.import_run(
        powertuning.parse_source(url), function=parse_function("orders"), region="us-east-1"
    )
    assert run.recommendation()["memory_mb"] == 512
    assert run.winner().memory_mb == 512
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert 'id="rec-cost"' in page
    assert page.split('id="rec-cost"')[1].split("</article>")[0].count("512 MB") == 1
    assert client.get(f"/api/runs/{run.id}/").json()["best"]["memory_mb"] == 512
    call_command("show_run", str(run.id))
    assert "    cost: 512 MB" in capsys.readouterr().out


def test_progress_with_skipped_invocations_is_the_same_everywhere(client, admin, capsys):
    client.force_login(admin)
    run = make_run(sizes=(512, 1024), num=10, status="RUNNING")
    run.results.filter(memory_mb=512).update(invocations_done=3, status="FAILED")
    run.results.filter(memory_mb=1024).update(invocations_done=10, status="SUCCEEDED")
    # 512 MB failed after 3 invocations: its 7 others were skipped.
    TuningRun.objects.filter(pk=run.pk).update(invocations_done=13, invocations_skipped=7)
    run.refresh_from_db()
    assert run.progress == {"done": 20, "total": 20, "percent": 100}
    page_progress = client.get(f"/runs/{run.id}/progress/").json()
    assert (page_progress["done"], page_progress["percent"]) == (20, 100)
    assert client.get(f"/api/runs/{run.id}/").json()["progress"] == run.progress
    call_command("show_run", str(run.id), "--json")
    assert json.loads(capsys.readouterr().out)["progress"] == run.progress
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert 'id="progress-percent">100%' in page
