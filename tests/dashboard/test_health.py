import pytest

from dashboard.celery import app

pytestmark = pytest.mark.django_db


@pytest.fixture
def unreachable_broker():
    original = app.conf.broker_write_url
    app.conf.broker_write_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    yield
    app.conf.broker_write_url = original


def test_healthz_is_public_and_reports_each_part(client):
    response = client.get("/healthz")
    body = response.json()
    assert set(body) == {"status", "database", "broker", "workers"}
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True


def test_healthz_answers_503_when_the_broker_is_unreachable(client, unreachable_broker):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["broker"]["ok"] is False
    assert body["broker"]["error"]
    assert body["workers"] == {"ok": False, "count": 0, "error": "broker unreachable"}
    assert body["database"]["ok"] is True


def test_healthz_answers_503_without_any_worker(client):
    response = client.get("/healthz")
    # No worker runs in this test (workers are started only by the tests that need one).
    assert response.status_code == 503
    assert response.json()["workers"]["count"] == 0


@pytest.mark.django_db(transaction=True)
def test_healthz_answers_200_when_a_worker_answers(client, start_celery_worker):
    worker = start_celery_worker()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert worker.name in response.json()["workers"]["names"]
