"""manage.py sweep --wait as a user runs it: a real process, worker, broker and sandbox."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures import celery_worker
from tuning.models import RunStatus, TuningRun
from tuning.serializers import run_to_dict

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


# The module's shared worker (tests/integration/conftest.py) has 4 processes.
WORKER_CONCURRENCY = 4


def manage_sweep(*args) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": celery_worker.test_database_url()}
    env.pop("TEST_DATABASE_NAME", None)
    return subprocess.run(
        [sys.executable, "manage.py", "sweep", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_sweep_wait_json_prints_the_api_json_and_exits_0_on_success(worker):
    done = manage_sweep(
        "tuneboard-io",
        "--power",
        "128,512",
        "--num",
        "3",
        "--parallel",
        "--concurrency",
        "4",
        "--payload",
        '{"wait_s": 0.02}',
        "--wait",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    run = TuningRun.objects.get(pk=printed["id"])
    assert printed == json.loads(json.dumps(run_to_dict(run)))
    assert printed["status"] == "SUCCEEDED"
    assert [r["invocations"] for r in printed["results"]] == [3, 3]
    assert printed["recommendation"]["cost"]["memory_mb"] in (128, 512)
    assert "invocations (100%)" in done.stderr  # progress went to stderr


def test_sweep_wait_exits_non_zero_with_the_reason_when_the_function_does_not_exist(worker):
    done = manage_sweep("tuneboard-nope", "--power", "128", "--num", "1", "--wait")
    assert done.returncode == 1
    run = TuningRun.objects.get(function_name="tuneboard-nope")
    assert run.status == RunStatus.FAILED
    assert (
        "Not found: arn:aws:lambda:us-east-1:123456789012:function:tuneboard-nope does not exist"
        in run.error_message
    )
    assert "sweep failed: Not found" in done.stderr
    assert "FAILED" in done.stdout
