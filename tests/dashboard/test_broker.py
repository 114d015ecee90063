"""The embedded broker (dashboard/broker.py) against half-written messages (celery/kombu#1551)."""

import io
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from queue import Empty

import pytest
from kombu import Connection, pidbox
from kombu.transport import filesystem

from dashboard import broker
from dashboard.celery import worker_command
from tests.fixtures.celery_worker import embedded_environment

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 120  # a deadline for a busy machine, never a measurement
MESSAGE = {"body": "x" * 1000, "properties": {}, "headers": {}}


def connect(transport, folder: Path) -> Connection:
    return Connection(
        transport=transport,
        transport_options={
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(folder / "control"),
        },
    )


@contextmanager
def producer_paused_mid_message(module, folder: Path, monkeypatch):
    """A producer thread puts MESSAGE through ``module``'s Channel and stops with half of it
    written; the body of the ``with`` runs during the pause."""
    half_written, resume = threading.Event(), threading.Event()

    class HalfThenPause(io.FileIO):  # unbuffered: the first half is in the file at once
        def write(self, data):
            half = len(data) // 2
            written = super().write(data[:half])
            half_written.set()
            resume.wait(WAIT_S)
            return written + super().write(data[half:])

    def pausing_open(path, mode="r", *args, **kwargs):
        return HalfThenPause(path, mode) if "w" in mode else open(path, mode, *args, **kwargs)

    monkeypatch.setattr(module, "open", pausing_open, raising=False)
    with connect(module.Transport, folder) as producer, ThreadPoolExecutor(1) as pool:
        sent = pool.submit(producer.default_channel._put, "jobs", MESSAGE)
        assert half_written.wait(WAIT_S), "the producer never started writing"
        try:
            yield
        finally:
            resume.set()
        sent.result(WAIT_S)


def test_stock_kombu_hands_a_half_written_message_to_the_consumer(tmp_path, monkeypatch):
    """The race provoked on kombu's own transport: what killed workers before dashboard.broker."""
    with (
        connect(filesystem.Transport, tmp_path) as consumer,
        producer_paused_mid_message(filesystem, tmp_path, monkeypatch),
        pytest.raises(ValueError),  # JSONDecodeError of half a message
    ):
        consumer.default_channel._get("jobs")


def test_a_half_written_message_is_invisible_until_complete(tmp_path, monkeypatch):
    with connect(broker.Transport, tmp_path) as consumer:
        channel = consumer.default_channel
        with producer_paused_mid_message(broker, tmp_path, monkeypatch), pytest.raises(Empty):
            channel._get("jobs")
        assert channel._get("jobs") == MESSAGE


def test_an_unreadable_message_is_set_aside_and_the_next_one_delivered(tmp_path, caplog):
    # Named like kombu's messages, older than any: a consumer meets them first.
    (tmp_path / "0_empty.jobs.msg").write_bytes(b"")
    (tmp_path / "1_half.jobs.msg").write_bytes(b'{"body": "eyJhcmdz')
    with connect(broker.Transport, tmp_path) as conn, caplog.at_level(logging.WARNING):
        queue = conn.SimpleQueue("jobs")
        queue.put({"n": 1})
        message = queue.get(timeout=WAIT_S)
        message.ack()
        assert message.payload == {"n": 1}
        with pytest.raises(Empty):
            queue.get(block=False)
    assert sorted(os.listdir(tmp_path / "broken")) == ["0_empty.jobs.msg", "1_half.jobs.msg"]
    assert "Unreadable message 0_empty.jobs.msg" in caplog.text
    assert "Unreadable message 1_half.jobs.msg" in caplog.text


def ping_after_a_worker_stopped(transport, folder: Path) -> tuple[str, list]:
    """A worker binds its pidbox queue to the control exchange and stops (which leaves it
    bound); then a ping is broadcast. Returns the worker's queue and the replies."""
    # A name of its own: kombu keeps the bindings it made in memory, for the whole process.
    name = f"stopped-{uuid.uuid4().hex[:8]}@tuneboard"
    mailbox = pidbox.Mailbox("celery", type="fanout")
    with connect(transport, folder) as worker:
        mailbox(worker).Node(name, channel=worker.default_channel).listen()
    with connect(transport, folder) as sender:
        return f"{name}.celery.pidbox", mailbox(sender).multi_call("ping", timeout=0.1)


def test_stock_kombu_leaves_each_ping_for_a_stopped_worker_in_the_folder(tmp_path):
    queue, replies = ping_after_a_worker_stopped(filesystem.Transport, tmp_path)
    assert replies == []
    assert [p.name.partition(".")[2] for p in tmp_path.glob("*.msg")] == [f"{queue}.msg"]


def test_a_ping_deletes_its_requests_no_worker_took(tmp_path):
    queue, replies = ping_after_a_worker_stopped(broker.Transport, tmp_path)
    assert replies == []
    assert list(tmp_path.glob("*.msg")) == []


def test_a_ping_deletes_only_its_own_requests(tmp_path):
    """Another sender's request is left alone; so is a file that is not a request at all."""
    mailbox = pidbox.Mailbox("celery", type="fanout")
    with connect(broker.Transport, tmp_path) as worker:
        mailbox(worker).Node("slow@tuneboard", channel=worker.default_channel).listen()
    with connect(broker.Transport, tmp_path) as other:
        mailbox(other).cast(["slow@tuneboard"], "shutdown")  # no reply wanted
    (tmp_path / "0_x.slow@tuneboard.celery.pidbox.msg").write_bytes(b"not a request")
    before = sorted(p.name for p in tmp_path.glob("*.msg"))
    with connect(broker.Transport, tmp_path) as sender:
        assert mailbox(sender).multi_call("ping", timeout=0.1) == []
    assert sorted(p.name for p in tmp_path.glob("*.msg")) == before


@pytest.mark.integration
def test_a_worker_survives_an_unreadable_message_and_runs_the_next_task(tmp_path):
    """A real worker on the embedded broker (SQLite and broker folders in a temporary data dir)."""
    env = embedded_environment(tmp_path)
    half = tmp_path / "broker" / f"0_{uuid.uuid4()}.sweeps.msg"
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            worker_command("sweeps", 1, "broker-test@tuneboard"),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        half.write_bytes(b'{"body": "eyJhcmdz')  # what the race used to hand a consumer
        deadline = time.monotonic() + WAIT_S
        while not (half.parent / "broken" / half.name).exists():
            if worker.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the worker did not set the message aside:\n{log_path.read_text()}")
            time.sleep(0.1)
        probe = subprocess.run(
            [sys.executable, "manage.py", "probe_worker", "--timeout", str(WAIT_S)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        assert worker.poll() is None, log_path.read_text()
    finally:
        with suppress(ProcessLookupError):  # gone already if it died
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    assert probe.returncode == 0, probe.stdout + probe.stderr + log_path.read_text()
    assert "handled by" in probe.stdout
    assert f"Unreadable message {half.name}" in log_path.read_text()


def test_connecting_to_the_folders_warns_of_no_missing_hostname(tmp_path, caplog):
    folders = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    # The URL Celery is given (dashboard.celery maps it to our transport); Celery clones its
    # connections for each pool and producer, which is where kombu warned.
    with (
        caplog.at_level(logging.WARNING),
        Connection("filesystem://", transport_options=folders) as connection,
    ):
        assert isinstance(connection.transport, broker.Transport)
        with connection.clone() as clone:
            clone.default_channel._put("jobs", MESSAGE)
            assert clone.default_channel._get("jobs")["body"] == MESSAGE["body"]
    assert not [record.getMessage() for record in caplog.records], caplog.text
