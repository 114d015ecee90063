"""Sessions cached in Redis (SESSION_CACHE_URL, dashboard/sessions.py): pages read the session
from Redis, not PostgreSQL; an unreachable Redis costs the cache, not the page; a logout that
cannot reach Redis fails instead of leaving a copy behind that would bring the session back."""

import json
import logging
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/12"
CLOSED_PORT_URL = "redis://127.0.0.1:1/0"
KEY_PATTERN = "*django.contrib.sessions.cached_db*"
PASSWORD = "correct-horse-42"


def sessions_cache(url):
    return {
        **settings.CACHES,
        "sessions": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }


@contextmanager
def redis_at(url):
    with override_settings(CACHES=sessions_cache(url)):
        yield


@pytest.fixture
def redis_db():
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    for key in client.scan_iter(KEY_PATTERN):
        client.delete(key)
    client.close()


@pytest.fixture
def session_cache(redis_db):
    with override_settings(
        CACHES=sessions_cache(REDIS_URL),
        SESSION_ENGINE="dashboard.sessions",
        SESSION_CACHE_ALIAS="sessions",
    ):
        yield redis_db


@pytest.fixture
def carol(django_user_model):
    return django_user_model.objects.create_user("carol", password=PASSWORD)


def log_in(client):
    client.get("/login/")
    response = client.post(
        "/login/",
        {"username": "carol", "password": PASSWORD},
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert response.status_code == 302
    return client.cookies["sessionid"].value


def log_out(client):
    return client.post("/logout/", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)


def page_with(session_key, path="/"):
    """The page as anyone holding this session cookie would get it."""
    client = Client()
    client.cookies["sessionid"] = session_key
    return client.get(path)


def is_login_redirect(response):
    return response.status_code == 302 and response["Location"].startswith("/login/")


def queries_of_a_second_view(client):
    assert client.get("/").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return [query["sql"] for query in queries.captured_queries]


def cached_keys(redis_db):
    return list(redis_db.scan_iter(KEY_PATTERN))


def test_a_page_reads_the_session_from_redis_one_query_fewer_than_from_the_database(
    session_cache, carol
):
    with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.db"):
        from_database = Client()
        from_database.force_login(carol)
        database_queries = queries_of_a_second_view(from_database)
    assert any("django_session" in sql for sql in database_queries)

    client = Client(enforce_csrf_checks=True)
    log_in(client)
    cached_queries = queries_of_a_second_view(client)

    assert not any("django_session" in sql for sql in cached_queries), cached_queries
    assert len(cached_queries) == len(database_queries) - 1
    assert len(cached_keys(session_cache)) == 1


def test_a_logout_ends_the_session_for_the_old_cookie(session_cache, carol):
    client = Client(enforce_csrf_checks=True)
    session_key = log_in(client)
    assert page_with(session_key).status_code == 200

    assert is_login_redirect(log_out(client))

    assert is_login_redirect(page_with(session_key))
    assert cached_keys(session_cache) == []
    assert not Session.objects.filter(session_key=session_key).exists()


def test_a_logout_while_redis_is_unreachable_fails_and_ends_nothing_half_way(session_cache, carol):
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    session_key = log_in(client)
    assert page_with(session_key).status_code == 200  # the copy is in Redis

    with redis_at(CLOSED_PORT_URL):
        assert log_out(client).status_code == 500
        # Still logged in, from the database: the row was not deleted.
        assert page_with(session_key).status_code == 200

    # Redis is back with its copy, and the row is still there too: one live session, no stale
    # copy of an ended one. Logging out again ends it everywhere.
    assert Session.objects.filter(session_key=session_key).exists()
    assert page_with(session_key).status_code == 200
    assert is_login_redirect(log_out(client))
    assert is_login_redirect(page_with(session_key))
    assert cached_keys(session_cache) == []


def test_pages_answer_from_the_database_while_redis_is_unreachable(session_cache, carol, caplog):
    client = Client(enforce_csrf_checks=True)
    log_in(client)

    with redis_at(CLOSED_PORT_URL), caplog.at_level(logging.WARNING, "dashboard.sessions"):
        assert client.get("/").status_code == 200
        assert client.get("/runs/").status_code == 200

    assert "Session cache unreachable, session read from the database" in caplog.text


def test_a_login_while_redis_is_unreachable_works_from_the_database(session_cache, carol):
    client = Client(enforce_csrf_checks=True)
    with redis_at(CLOSED_PORT_URL):
        session_key = log_in(client)
        assert client.get("/").status_code == 200
    assert Session.objects.filter(session_key=session_key).exists()
    assert page_with(session_key).status_code == 200


def test_a_hung_redis_delays_a_page_by_its_timeout_only(session_cache, carol):
    client = Client()
    client.force_login(carol)
    silent = socket.create_server(("127.0.0.1", 0))  # accepts connections, never answers
    with silent, redis_at(f"redis://127.0.0.1:{silent.getsockname()[1]}/0"):
        started = time.monotonic()
        assert client.get("/").status_code == 200
        assert time.monotonic() - started < 3


def session_settings(tmp_path, **env):
    inherited = {
        name: value
        for name, value in os.environ.items()
        if name
        not in {
            "SESSION_CACHE_URL",
            "DATABASE_URL",
            "TEST_DATABASE_NAME",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps([settings.SESSION_ENGINE, settings.SESSION_CACHE_ALIAS, "
        "settings.CACHES.get('sessions')]))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={**inherited, **env, "TUNEBOARD_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_session_cache_url_selects_the_cached_engine_and_a_redis_cache(tmp_path):
    engine, alias, cache = session_settings(tmp_path, SESSION_CACHE_URL="redis://127.0.0.1:6379/1")
    assert (engine, alias) == ("dashboard.sessions", "sessions")
    assert cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert cache["LOCATION"] == "redis://127.0.0.1:6379/1"
    assert cache["OPTIONS"] == {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


def test_without_session_cache_url_sessions_stay_in_the_database(tmp_path):
    engine, _alias, cache = session_settings(tmp_path)
    assert engine == "django.contrib.sessions.backends.db"
    assert cache is None
