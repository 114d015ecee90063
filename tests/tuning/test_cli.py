"""manage.py sweep: arguments, exit codes, JSON (the worker side is in tests/integration)."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError

from tuning.models import TuningRun
from tuning.params import DEFAULT_CONCURRENCY
from tuning.serializers import run_to_dict

pytestmark = pytest.mark.django_db


def sweep(*args):
    return call_command("sweep", *args)


def test_without_wait_it_queues_the_run_and_prints_its_json(capsys):
    sweep("tuneboard-cpu", "--power", "1024,128", "--num", "3", "--parallel", "--json")
    out = capsys.readouterr()
    run = TuningRun.objects.get()
    assert json.loads(out.out) == json.loads(json.dumps(run_to_dict(run)))
    assert run.memory_sizes == [128, 1024]
    assert (run.parallel, run.concurrency) == (True, DEFAULT_CONCURRENCY)
    assert f"sweep {run.id} queued" in out.err


def test_the_options_reach_the_run():
    sweep(
        "tuneboard-io",
        "--power",
        "128",
        "--concurrency",
        "3",
        "--strategy",
        "balanced",
        "--weight",
        "0.25",
        "--payload",
        '{"wait_s": 0.01}',
        "--region",
        "eu-west-1",
        "--discard",
        "0.1",
    )
    run = TuningRun.objects.get()
    assert (run.parallel, run.concurrency) == (True, 3)  # a cap implies parallel
    assert (run.strategy, run.balanced_weight, run.discard_fraction) == ("balanced", 0.25, 0.1)
    assert run.payload == {"wait_s": 0.01}
    assert run.region == "eu-west-1"


@pytest.mark.parametrize(
    "args,message",
    [
        (["--power", "128,lots"], "--power: “lots” is not a whole number of MB"),
        (["--power", "64"], "--power: 64 MB is below Lambda's minimum of 128 MB"),
        (["--power", "128", "--payload", "{nope"], "--payload: Payload is not valid JSON"),
        (["--power", "128", "--account", "prod"], "--account: No account named 'prod'"),
        (["--power", "128", "--num", "0"], "--num: Invocations per size must be between 1"),
    ],
)
def test_invalid_arguments_exit_with_code_2_and_a_clear_message(args, message):
    with pytest.raises(CommandError) as raised:
        sweep("tuneboard-cpu", *args)
    assert message in str(raised.value)
    assert raised.value.returncode == 2
    assert not TuningRun.objects.exists()


def test_a_refused_sweep_exits_with_code_3():
    sweep("tuneboard-cpu", "--power", "128")
    with pytest.raises(CommandError) as raised:
        sweep("tuneboard-cpu", "--power", "256")
    assert raised.value.returncode == 3
    assert "already has an active sweep" in str(raised.value)


def test_a_misconfigured_broker_stops_the_command_before_anything_is_queued(settings):
    # The command skips Django's slow URL checks but keeps Tuneboard's configuration checks.
    settings.CELERY_BROKER_URL = "kafka://127.0.0.1:9092"
    with pytest.raises(SystemCheckError, match="dashboard.E003"):
        call_command("sweep", "tuneboard-cpu", "--power", "128", skip_checks=False)
    assert not TuningRun.objects.exists()
