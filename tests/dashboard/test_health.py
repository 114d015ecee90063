"""Liveness (/healthz), readiness (/readyz), the status page and `manage.py health`."""

import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from dashboard import health
from dashboard.celery import app, worker_command
from tests.fixtures.celery_worker import QUEUES, embedded_environment

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 120  # a deadline for a busy machine, never a measurement


@pytest.fixture
def point_broker():
    """Points the broker checks (which connect for writing) at another URL for one test."""
    original = app.conf.broker_write_url

    def point(url: str) -> None:
        app.conf.broker_write_url = url

    yield point
    app.conf.broker_write_url = original


@pytest.fixture
def unreachable_broker(point_broker):
    point_broker("redis://127.0.0.1:1/0")  # nothing listens on port 1


@pytest.fixture
def silent_server():
    """A TCP port that accepts connections and never answers. After WAIT_S it gives up and
    closes them, so that a client without timeouts fails the test rather than hanging it."""
    server = socket.create_server(("127.0.0.1", 0))
    done, gave_up = threading.Event(), threading.Event()

    def wait_then_close():
        if not done.wait(WAIT_S):
            gave_up.set()
        server.close()

    thread = threading.Thread(target=wait_then_close, daemon=True)
    thread.start()
    yield SimpleNamespace(port=server.getsockname()[1], gave_up=gave_up)
    done.set()
    thread.join()


@pytest.fixture
def member(client, django_user_model):
    user = django_user_model.objects.create_user("carol", password="correct-horse-42")
    client.force_login(user)
    return user


# --- Liveness ---


def test_liveness_is_anonymous_and_touches_no_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_liveness_answers_200_while_the_broker_is_unreachable(client, unreachable_broker):
    assert client.get("/healthz").status_code == 200


# --- Readiness ---


def test_readiness_is_anonymous_and_answers_200_with_database_and_broker_up(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}


def test_readiness_answers_503_without_reasons_when_the_broker_is_unreachable(
    client, unreachable_broker
):
    response = client.get("/readyz")
    assert response.status_code == 503
    # Coarse states only: no error text, no host, no version.
    assert response.json() == {
        "status": "not ready",
        "checks": {"database": "ok", "broker": "down"},
    }
    assert b"127.0.0.1" not in response.content


def test_readiness_answers_503_without_reasons_when_the_database_is_unreachable(
    client, monkeypatch, tmp_path
):
    if connection.vendor == "sqlite":
        monkeypatch.setitem(connection.settings_dict, "NAME", str(tmp_path / "no" / "db"))
    else:
        monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
        monkeypatch.setitem(connection.settings_dict, "PORT", 1)  # nothing listens on port 1
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "not ready",
        "checks": {"database": "down", "broker": "ok"},
    }


def test_readiness_gives_up_on_a_broker_that_does_not_answer(client, point_broker, silent_server):
    point_broker(f"redis://127.0.0.1:{silent_server.port}/0")
    response = client.get("/readyz")
    assert response.json()["checks"]["broker"] == "down"
    assert not silent_server.gave_up.is_set(), "the check waited until the server gave up"


def test_readiness_gives_up_on_a_database_that_does_not_answer(client, monkeypatch, silent_server):
    # A PostgreSQL server that never answers, whatever database the suite itself runs on.
    monkeypatch.setitem(connection.settings_dict, "ENGINE", "django.db.backends.postgresql")
    monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
    monkeypatch.setitem(connection.settings_dict, "PORT", silent_server.port)
    response = client.get("/readyz")
    assert response.json()["checks"]["database"] == "down"
    assert not silent_server.gave_up.is_set(), "the check waited until the server gave up"


def test_the_database_check_runs_on_a_connection_with_short_timeouts():
    checked = health.database_connection()
    try:
        with checked.cursor() as cursor:
            if checked.vendor == "postgresql":
                cursor.execute("SHOW statement_timeout")
                assert cursor.fetchone()[0] == "500ms"
                assert checked.connection.info.get_parameters()["connect_timeout"] == "2"
            else:
                cursor.execute("PRAGMA busy_timeout")
                assert cursor.fetchone()[0] == 500
        assert checked.connection is not connection.connection  # the app's own is untouched
    finally:
        checked.close()


def test_both_probes_are_answered_over_plain_http_when_https_is_enforced(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/login/").status_code == 301


# --- Status page and `manage.py health` ---


def test_the_status_page_needs_a_login(client):
    response = client.get("/status/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/status/"


@pytest.mark.django_db(transaction=True)
def test_the_status_page_shows_each_worker_and_the_queues_it_consumes(
    client, member, start_celery_worker
):
    worker = start_celery_worker()
    page = client.get("/status/").content.decode()
    assert f"<code>{worker.name}</code>: invocations, maintenance, metrics, sweeps" in page
    assert "No worker consumes" not in page
    assert 'href="/status/">System status</a>' in client.get("/").content.decode()


def test_the_status_page_shows_why_the_broker_is_down(client, member, unreachable_broker):
    page = client.get("/status/").content.decode()
    assert "OperationalError" in page and "127.0.0.1:1" in page
    assert "not asked: the broker is down" in page


def test_the_health_command_exits_1_when_no_worker_answers():
    out = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("health", stdout=out)
    assert failed.value.returncode == 1
    assert str(failed.value) == "down: workers"
    assert out.getvalue().splitlines() == [
        f"database  ok    {connection.vendor}",
        f"broker    ok    {app.conf.broker_url.split('://')[0]}",
        "workers   down  0 answered",
        "  no worker consumes: sweeps, invocations, metrics, maintenance",
    ]


@pytest.mark.django_db(transaction=True)
def test_the_health_command_names_a_queue_no_worker_consumes(start_celery_worker):
    worker = start_celery_worker(queues="sweeps,invocations,metrics")  # no maintenance worker
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("health", stdout=out)
    assert out.getvalue().splitlines()[2:] == [
        "workers   down  1 answered",
        f"  {worker.name}: invocations, metrics, sweeps",
        "  no worker consumes: maintenance",
    ]


def test_the_health_command_prints_json_with_the_reason_the_broker_is_down(unreachable_broker):
    out = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("health", "--json", stdout=out)
    assert str(failed.value) == "down: broker, workers"
    state = json.loads(out.getvalue())
    assert state["database"] == {"ok": True, "vendor": connection.vendor}
    assert state["broker"]["ok"] is False
    assert state["broker"]["error"].startswith("OperationalError: ")
    assert state["workers"]["error"] == "not asked: the broker is down"


@pytest.mark.integration
def test_the_health_command_leaves_no_file_in_the_embedded_broker(tmp_path):
    """On the filesystem broker with a real worker, then with that worker stopped (it stays
    bound to the control exchange, so each ping writes a request for it)."""
    env = embedded_environment(tmp_path)

    def broker_files() -> list[str]:
        folders = (tmp_path / "broker", tmp_path / "broker-control")
        return sorted(str(p.relative_to(tmp_path)) for f in folders for p in f.rglob("*"))

    def run_health() -> subprocess.CompletedProcess:
        command = [sys.executable, "manage.py", "health"]
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)

    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            worker_command(QUEUES, 1, "health-test@tuneboard"),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + WAIT_S
        while (up := run_health()).returncode != 0:
            if worker.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the worker never answered:\n{up.stdout}{log_path.read_text()}")
        assert "health-test@tuneboard: invocations, maintenance, metrics, sweeps" in up.stdout
        before = broker_files()
        assert run_health().returncode == 0
    finally:
        os.killpg(worker.pid, signal.SIGTERM)  # a clean stop: it stays bound all the same
        worker.wait(WAIT_S)
    for _ in range(2):
        down = run_health()
        assert down.returncode == 1
        assert "workers   down  0 answered" in down.stdout
    assert broker_files() == before
