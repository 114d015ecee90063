"""A real worker process consumes a task from the broker and writes a row to the database."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import transaction

from dashboard.celery import worker_command
from dashboard.models import WorkerProbe
from dashboard.tasks import handle_probe_task
from tests.fixtures.celery_worker import embedded_environment

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def wait_until_handled(probe: WorkerProbe, timeout: float = 30.0) -> WorkerProbe:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe.refresh_from_db()
        if probe.handled_at:
            return probe
        time.sleep(0.05)
    pytest.fail(f"no worker handled {probe} within {timeout} s")


@pytest.mark.django_db(transaction=True)
def test_a_worker_consumes_a_task_from_the_session_broker_and_writes_to_the_database(
    start_celery_worker, settings
):
    # make test finds Redis and PostgreSQL on this machine; the embedded default is tested below.
    assert settings.CELERY_BROKER_URL.startswith("redis://"), "run through make test (Redis)"
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    worker = start_celery_worker()
    with transaction.atomic():
        probe = WorkerProbe.objects.create()
        transaction.on_commit(lambda: handle_probe_task.delay(str(probe.pk)))
    handled = wait_until_handled(probe)
    assert handled.handled_by
    assert "Task dashboard.tasks.handle_probe_task[" in worker.log()


def test_the_embedded_default_needs_no_server(tmp_path):
    """SQLite + kombu's filesystem broker, with no DATABASE_URL/CELERY_BROKER_URL set."""
    env = embedded_environment(tmp_path)
    worker = subprocess.Popen(
        worker_command("sweeps", 1, "embedded@tuneboard"),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        result = subprocess.run(
            [sys.executable, "manage.py", "probe_worker", "--timeout", "60"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
    finally:
        os.killpg(worker.pid, 9)
        worker.wait()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "handled by" in result.stdout
    assert (tmp_path / "tuneboard.sqlite3").exists()
    assert (tmp_path / "broker").is_dir()  # the filesystem broker carried it
