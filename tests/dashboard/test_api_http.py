"""The API over real HTTP, against a running server with the whole middleware stack (CSRF
included): what a CI script with a token, or a browser session, actually meets."""

import json
import urllib.error
import urllib.request
from http.cookies import SimpleCookie

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import Client

from dashboard.models import ApiToken
from tuning.models import RunStatus, TuningRun

pytestmark = pytest.mark.django_db(transaction=True)

SWEEP = {"function": "tuneboard-cpu", "memory_sizes": [128, 512]}


def http(url, method="GET", body=None, headers=None):
    """(status, headers, parsed JSON or raw bytes) of one request; 4xx/5xx are answers too."""
    data = None if method == "GET" else json.dumps(body or {}).encode()
    request = urllib.request.Request(  # noqa: S310 - the live test server's http URL
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            status, answer_headers, content = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, answer_headers, content = error.code, error.headers, error.read()
    if answer_headers.get_content_type() == "application/json":
        return status, answer_headers, json.loads(content)
    return status, answer_headers, content


@pytest.fixture
def starter(django_user_model):
    user = django_user_model.objects.create_user("sam")
    user.user_permissions.add(Permission.objects.get(codename="add_tuningrun"))
    return user


@pytest.fixture
def session_cookie(starter):
    """The session cookie of a logged-in browser (the session is in the shared database)."""
    client = Client()
    client.force_login(starter)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def test_a_token_starts_and_cancels_a_sweep(live_server, starter):
    _token, key = ApiToken.issue(starter, "CI")
    auth = {"Authorization": f"Bearer {key}"}
    status, headers, run = http(f"{live_server.url}/api/runs/", "POST", SWEEP, auth)
    assert status == 201, run
    assert run["status"] == "PENDING" and run["created_by"] == "sam"
    assert headers["Location"].endswith(f"/api/runs/{run['id']}/")
    status, _headers, cancelled = http(
        f"{live_server.url}/api/runs/{run['id']}/cancel/", "POST", headers=auth
    )
    assert status == 202, cancelled
    assert cancelled["status"] == "CANCELLED"
    assert TuningRun.objects.get(pk=run["id"]).status == RunStatus.CANCELLED


def test_a_read_only_token_is_refused_a_post(live_server, starter):
    _token, key = ApiToken.issue(starter, "dashboards", scope=ApiToken.Scope.READ)
    auth = {"Authorization": f"Bearer {key}"}
    status, _headers, answer = http(f"{live_server.url}/api/runs/", "POST", SWEEP, auth)
    assert status == 403
    assert "read-only" in answer["error"]
    assert http(f"{live_server.url}/api/runs/", headers=auth)[0] == 200
    assert not TuningRun.objects.exists()


def test_a_session_post_without_the_csrf_token_is_refused(live_server, session_cookie):
    cookie = {"Cookie": session_cookie}
    assert http(f"{live_server.url}/api/runs/", headers=cookie)[0] == 200  # reading is fine
    status, headers, answer = http(f"{live_server.url}/api/runs/", "POST", SWEEP, cookie)
    assert status == 403
    assert headers.get_content_type() == "application/json"
    assert "CSRF" in answer["error"]
    assert not TuningRun.objects.exists()


def test_a_session_post_with_the_csrf_token_works(live_server, session_cookie):
    status, headers, _page = http(f"{live_server.url}/tokens/", headers={"Cookie": session_cookie})
    assert status == 200
    csrf = SimpleCookie(headers["Set-Cookie"])[settings.CSRF_COOKIE_NAME].value
    browser = {
        "Cookie": f"{session_cookie}; {settings.CSRF_COOKIE_NAME}={csrf}",
        "X-CSRFToken": csrf,
    }
    status, _headers, run = http(f"{live_server.url}/api/runs/", "POST", SWEEP, browser)
    assert status == 201, run
    status, _headers, cancelled = http(
        f"{live_server.url}/api/runs/{run['id']}/cancel/", "POST", headers=browser
    )
    assert status == 202, cancelled
    assert cancelled["status"] == "CANCELLED"
