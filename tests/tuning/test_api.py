"""The runs JSON API: list (paginated, filtered), detail, start, cancel; auth and permissions."""

import json
import uuid

import pytest
from django.contrib.auth.models import Permission

from aws.models import AwsAccount
from dashboard.models import ApiToken
from tests.tuning.runfactory import start_run
from tuning.models import RunStatus, TuningRun
from tuning.serializers import run_to_dict

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("carol")


@pytest.fixture
def starter(django_user_model):
    user = django_user_model.objects.create_user("sam")
    user.user_permissions.add(Permission.objects.get(codename="add_tuningrun"))
    return user


def bearer(user) -> dict:
    _token, key = ApiToken.issue(user, "tests")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def make_runs(count: int, function="tuneboard-cpu", status=RunStatus.SUCCEEDED):
    runs = []
    for _ in range(count):
        run = start_run(function=function, memory_sizes=[128], invocations_per_size=1)
        TuningRun.objects.filter(pk=run.pk).update(status=status)
        runs.append(run)
    return runs


def test_the_api_needs_a_session_or_a_token(client):
    response = client.get("/api/runs/")
    assert response.status_code == 401
    assert response.json() == {"error": "Authentication required."}


def test_the_list_is_newest_first_and_paginated(client, user):
    runs = make_runs(5)
    response = client.get("/api/runs/?page_size=2", **bearer(user))
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 5
    assert [r["id"] for r in data["results"]] == [str(runs[4].id), str(runs[3].id)]
    assert data["previous"] is None
    assert "before=" in data["next"] and "page_size=2" in data["next"]
    second = client.get(data["next"], **bearer(user)).json()
    assert [r["id"] for r in second["results"]] == [str(runs[2].id), str(runs[1].id)]
    make_runs(3)  # new runs do not move the pages already linked
    last = client.get(second["next"], **bearer(user)).json()
    assert [r["id"] for r in last["results"]] == [str(runs[0].id)]
    assert last["next"] is None
    back = client.get(last["previous"], **bearer(user)).json()
    assert [r["id"] for r in back["results"]] == [str(runs[2].id), str(runs[1].id)]


def test_offset_pages_still_work(client, user):
    runs = make_runs(5)
    data = client.get("/api/runs/?page_size=2&page=3", **bearer(user)).json()
    assert [r["id"] for r in data["results"]] == [str(runs[0].id)]
    assert data["next"] is None and "page=2" in data["previous"]


def test_the_list_filters_by_function_and_status(client, user):
    make_runs(2, "tuneboard-cpu")
    make_runs(1, "tuneboard-io", RunStatus.FAILED)
    headers = bearer(user)
    assert client.get("/api/runs/?function=tuneboard-io", **headers).json()["count"] == 1
    assert client.get("/api/runs/?status=failed", **headers).json()["count"] == 1
    assert client.get("/api/runs/?status=SUCCEEDED", **headers).json()["count"] == 2


@pytest.mark.parametrize(
    "query,message",
    [
        ("page_size=101", "page_size must be at least 1 and at most 100"),
        ("page=0", "page must be at least 1"),
        ("page=two", "page must be a whole number"),
        ("status=DONE", "Unknown status 'DONE'"),
        ("before=not-a-cursor", "this page link is not valid"),
        ("after=%00", "this page link is not valid"),
    ],
)
def test_bad_list_parameters_get_a_json_400(client, user, query, message):
    response = client.get(f"/api/runs/?{query}", **bearer(user))
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_the_detail_is_exactly_run_to_dict(client, user):
    run = make_runs(1)[0]
    response = client.get(f"/api/runs/{run.id}/", **bearer(user))
    assert response.status_code == 200
    run.refresh_from_db()
    assert response.json() == json.loads(json.dumps(run_to_dict(run)))


@pytest.mark.parametrize("pk", [str(uuid.uuid4()), "not-a-uuid"])
def test_an_unknown_run_is_a_json_404(client, user, pk):
    response = client.get(f"/api/runs/{pk}/", **bearer(user))
    assert response.status_code == 404
    assert response.json() == {"error": "No such run."}


def test_starting_a_sweep_needs_the_permission(client, user):
    response = client.post(
        "/api/runs/",
        {"function": "tuneboard-cpu", "memory_sizes": [128]},
        content_type="application/json",
        **bearer(user),
    )
    assert response.status_code == 403
    assert "permission" in response.json()["error"]
    assert not TuningRun.objects.exists()


def test_starting_a_sweep_creates_a_pending_run(client, starter):
    AwsAccount.objects.create(name="sandbox")
    response = client.post(
        "/api/runs/",
        {
            "function": "tuneboard-cpu",
            "memory_sizes": [512, 128],
            "invocations_per_size": 3,
            "parallel": True,
            "concurrency": 4,
            "strategy": "balanced",
            "balanced_weight": 0.7,
            "account": "sandbox",
        },
        content_type="application/json",
        **bearer(starter),
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "PENDING"
    assert data["memory_sizes"] == [128, 512]
    assert data["created_by"] == "sam"
    assert data["account"] == "sandbox"
    assert response["Location"].endswith(f"/api/runs/{data['id']}/")


@pytest.mark.parametrize(
    "body,field",
    [
        ({"function": "tuneboard-cpu", "memory_sizes": [64]}, "memory_sizes"),
        ({"function": "tuneboard-cpu", "memory_sizes": [128], "strategy": "x"}, "strategy"),
        ({"function": "bad name!", "memory_sizes": [128]}, "function"),
        ({"memory_sizes": [128]}, "function"),
        ({"function": "f", "memory_sizes": [128], "num": 3}, "num"),
        ({"function": "f", "memory_sizes": [128], "account": "nope"}, "account"),
        ({"function": "f", "memory_sizes": [128], "parallel": "yes"}, "parallel"),
        (
            {"function": "f", "memory_sizes": [128], "invocations_per_size": 0},
            "invocations_per_size",
        ),
    ],
)
def test_bad_input_gets_a_400_naming_the_field(client, starter, body, field):
    response = client.post("/api/runs/", body, content_type="application/json", **bearer(starter))
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_a_second_active_sweep_gets_a_409(client, starter):
    make_runs(1, status=RunStatus.RUNNING)
    response = client.post(
        "/api/runs/",
        {"function": "tuneboard-cpu", "memory_sizes": [128]},
        content_type="application/json",
        **bearer(starter),
    )
    assert response.status_code == 409
    assert "already has an active sweep" in response.json()["error"]


def test_cancel_of_a_pending_run_answers_with_the_cancelled_run(client, starter):
    run = make_runs(1, status=RunStatus.PENDING)[0]
    response = client.post(f"/api/runs/{run.id}/cancel/", **bearer(starter))
    assert response.status_code == 202
    assert response.json()["status"] == "CANCELLED"
    again = client.post(f"/api/runs/{run.id}/cancel/", **bearer(starter))
    assert again.status_code == 409


def test_only_the_creator_or_a_starter_may_cancel(client, user):
    run = make_runs(1, status=RunStatus.PENDING)[0]
    response = client.post(f"/api/runs/{run.id}/cancel/", **bearer(user))
    assert response.status_code == 403


def test_a_logged_in_session_can_read_the_list(client, user):
    client.force_login(user)
    make_runs(1)
    assert client.get("/api/runs/").json()["count"] == 1
