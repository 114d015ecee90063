"""API POSTs through the whole middleware stack with CSRF enforced, as a browser or script meets
it (Django's default test client skips CSRF checks)."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from dashboard.models import ApiToken
from tests.tuning.runfactory import start_run
from tuning.models import RunStatus, TuningRun

pytestmark = pytest.mark.django_db

SWEEP = {"function": "tuneboard-cpu", "memory_sizes": [128, 512]}


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def starter(django_user_model):
    user = django_user_model.objects.create_user("sam")
    user.user_permissions.add(Permission.objects.get(codename="add_tuningrun"))
    return user


def bearer(user, scope=ApiToken.Scope.WRITE) -> dict:
    _token, key = ApiToken.issue(user, "CI", scope=scope)
    return {"Authorization": f"Bearer {key}"}


def test_a_token_starts_a_sweep(csrf_client, starter):
    response = csrf_client.post(
        "/api/runs/", SWEEP, content_type="application/json", headers=bearer(starter)
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "PENDING"
    assert TuningRun.objects.get().created_by == starter


def test_a_token_cancels_a_run(csrf_client, starter):
    run = start_run(created_by=starter, **SWEEP)
    response = csrf_client.post(f"/api/runs/{run.id}/cancel/", headers=bearer(starter))
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "CANCELLED"


def test_a_read_only_token_cannot_cancel(csrf_client, starter):
    run = start_run(created_by=starter, **SWEEP)
    headers = bearer(starter, scope=ApiToken.Scope.READ)
    response = csrf_client.post(f"/api/runs/{run.id}/cancel/", headers=headers)
    assert response.status_code == 403
    assert "read-only" in response.json()["error"]
    assert csrf_client.get(f"/api/runs/{run.id}/", headers=headers).json()["status"] == "PENDING"


def test_a_session_post_without_the_csrf_token_gets_a_json_403(csrf_client, starter):
    csrf_client.force_login(starter)
    response = csrf_client.post("/api/runs/", SWEEP, content_type="application/json")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert "CSRF" in response.json()["error"]
    assert not TuningRun.objects.exists()
    run = start_run(created_by=starter, **SWEEP)
    response = csrf_client.post(f"/api/runs/{run.id}/cancel/")
    assert response.status_code == 403
    assert "X-CSRFToken" in response.json()["error"]
    run.refresh_from_db()
    assert run.status == RunStatus.PENDING


def test_a_session_post_with_the_csrf_token_works(csrf_client, starter):
    csrf_client.force_login(starter)
    csrf_client.get("/tokens/")  # any page with a form sets the csrftoken cookie
    csrf = {"X-CSRFToken": csrf_client.cookies["csrftoken"].value}
    response = csrf_client.post("/api/runs/", SWEEP, content_type="application/json", headers=csrf)
    assert response.status_code == 201, response.content
    run_id = response.json()["id"]
    response = csrf_client.post(f"/api/runs/{run_id}/cancel/", headers=csrf)
    assert response.status_code == 202
    assert response.json()["status"] == "CANCELLED"


def test_a_session_get_needs_no_csrf_token(csrf_client, starter):
    csrf_client.force_login(starter)
    assert csrf_client.get("/api/runs/").status_code == 200
