"""`make run` (scripts/run.py) for real: it starts, prints the URL and the login last, and a
signal to its process group (terminal closed, `timeout`, systemd, CI) stops every process it
started, even when the signal comes twice."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from tests.fixtures.sandbox import REPO_ROOT, _describe, process_tree, survivors

START_TIMEOUT_S = 180.0
# run.py waits up to 15 s per child (a worker finishes the task it is running) before SIGKILL.
EXIT_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_env(data_dir, address: str) -> dict[str, str]:
    """Our environment without the test session's database, broker, AWS or Tuneboard settings:
    run.py uses its own SQLite database and filesystem broker in ``data_dir``."""
    dropped = ("DATABASE_URL", "CELERY_BROKER_URL", "TEST_DATABASE_NAME")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in dropped and not key.startswith(("AWS_", "TUNEBOARD_"))
    }
    env.update(
        TUNEBOARD_DATA_DIR=str(data_dir),
        TUNEBOARD_ADDRESS=address,
        TUNEBOARD_SANDBOX_LAMBDA_PORT="0",
        TUNEBOARD_SANDBOX_AWS_PORT="0",
        PYTHONUNBUFFERED="1",
    )
    return env


def wait_for_first_collection(database) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        with contextlib.closing(sqlite3.connect(database, timeout=20)) as db:
            started, finished = db.execute(
                "SELECT count(*), count(finished_at) FROM cachemetrics_collection"
            ).fetchone()
        if started and finished == started:
            return
        time.sleep(0.5)
    raise AssertionError("the first DAX collection did not finish")


@pytest.mark.integration
@pytest.mark.parametrize("signals", [("SIGHUP",), ("SIGTERM", "SIGTERM")])
def test_run_prints_url_and_login_last_and_a_signal_stops_everything(tmp_path, signals):
    address = f"127.0.0.1:{free_port()}"
    process = subprocess.Popen(
        [sys.executable, "scripts/run.py"],
        cwd=REPO_ROOT,
        env=run_env(tmp_path / "data", address),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, like `make run` in a terminal
    )
    lines: list[str] = []
    logged_in = threading.Event()

    def read_output():
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if "Log in as demo" in line:
                logged_in.set()

    reader = threading.Thread(target=read_output, daemon=True)
    reader.start()
    snapshot: dict[int, int] = {}
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not logged_in.wait(0.5):
            assert process.poll() is None, "run.py exited early:\n" + "\n".join(lines)
            assert time.monotonic() < deadline, "no login after 180 s:\n" + "\n".join(lines)
        snapshot = process_tree(process.pid)
        started = [line for line in lines if line.strip().startswith("started ")]
        assert len(started) == 5, lines  # sandbox, worker, maintenance worker, beat, web
        assert len(snapshot) > len(started), snapshot
        with urllib.request.urlopen(f"http://{address}/", timeout=10) as response:  # noqa: S310
            assert response.status == 200
        # The first DAX collection is queued at start; on a busy machine it can outlast run.py's
        # 15 s stop grace, which would then (rightly) kill the worker running it. Stop after it.
        wait_for_first_collection(tmp_path / "data" / "tuneboard.sqlite3")

        for name in signals:
            os.killpg(process.pid, getattr(signal, name))
            time.sleep(0.3)  # the second one arrives while run.py stops its children
        process.wait(EXIT_TIMEOUT_S)
        reader.join(10)
        output = "\n".join(lines)

        stop_at = next(i for i, line in enumerate(lines) if line.startswith("Stopping ("))
        before_stop = [line for line in lines[:stop_at] if line]
        assert before_stop[-2:] == [
            f"Tuneboard is running at http://{address}/  (Ctrl-C stops everything)",
            "Created demo user. Log in as demo / tuneboard-demo",
        ], output
        assert f"Stopping ({signals[0]})" in output, output
        assert lines[-1] == "Stopped everything.", output
        assert "exited" not in output and "killing it" not in output, output
        assert process.returncode == 0, output
        assert not [line for line in lines if "ERROR" in line or "Traceback" in line], output

        # Each worker stopped its own pool (no pool process killed by a signal meant for it).
        for log in ("worker.log", "maintenance-worker.log"):
            log_text = (tmp_path / "data" / "log" / log).read_text()
            assert "ERROR" not in log_text, log_text[-3000:]

        deadline = time.monotonic() + 5
        left = survivors(snapshot, process.pid)
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = survivors(snapshot, process.pid)
        assert not left, "left running:\n" + "\n".join(_describe(pid) for pid in left)
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for pid in survivors(snapshot, process.pid) if snapshot else []:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.integration
def test_on_real_aws_run_refuses_to_start_while_the_demo_user_has_its_published_password(
    tmp_path,
):
    env = run_env(tmp_path / "data", f"127.0.0.1:{free_port()}")
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=REPO_ROOT, env=env, check=True)
    subprocess.run([*manage, "ensure_demo_user"], cwd=REPO_ROOT, env=env, check=True)

    done = subprocess.run(
        [sys.executable, "scripts/run.py"],
        cwd=REPO_ROOT,
        env={**env, "TUNEBOARD_SANDBOX": "0"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
    )

    assert done.returncode == 1, done.stdout + done.stderr
    assert "still has the published password" in done.stdout
    assert "started " not in done.stdout  # nothing was started
