"""A real local HTTP server standing in for a chat service's incoming webhook, and Celery tasks
run inline (eager) for tests that do not start a worker."""

from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth.models import Group

from dashboard.celery import app
from notifications.models import TeamNotifications


class WebhookServer:
    """Records every request; answers with the statuses queued in ``answers`` (then 200)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[int] = []
        self.redirect_to = ""
        self.received = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                server.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                status = server.answers.pop(0) if server.answers else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", server.redirect_to or "/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                server.received.set()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/services/T000/B000/secretpart1234") -> str:
        host, port = self.httpd.server_address
        return f"http://{host}:{port}{path}"

    def posts(self, path: str | None = None) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests if path is None or r["path"] == path]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def webhook_server():
    server = WebhookServer()
    yield server
    server.stop()


@pytest.fixture
def eager_tasks(django_capture_on_commit_callbacks):
    """Inside the ``with`` block the test opens with it, tasks run in this process as they are
    enqueued, and on-commit callbacks (enqueues included) run at the end of the block. Only
    there: a sweep started before the block must not run inline (it would reach the sandbox
    when an earlier test started one)."""

    @contextlib.contextmanager
    def eager():
        # Not propagating: a retried task re-runs at once, as Celery's eager apply() does.
        app.conf.task_always_eager = True
        try:
            with django_capture_on_commit_callbacks(execute=True):
                yield
        finally:
            app.conf.task_always_eager = False

    return eager


@pytest.fixture
def team(webhook_server, django_user_model):
    group = Group.objects.create(name="payments")
    user = django_user_model.objects.create_user("ana", "ana@example.com", "pw-ana-12345")
    user.groups.add(group)
    settings_row = TeamNotifications.objects.create(
        team=group, webhook_url=webhook_server.url(), emails=["payments@example.com"]
    )
    return user, settings_row
