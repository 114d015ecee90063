"""State of the parts Tuneboard needs: database, broker, workers.

Readiness (/readyz, for a load balancer) asks the database and the broker only, each on a
connection of its own with short timeouts: a part that does not answer makes the check fail
within about a second instead of holding a web worker. Workers are asked only by the status
page and `manage.py health` (status()), which wait up to WORKERS_TIMEOUT_S for their replies.
"""

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import load_backend

from dashboard.celery import app

DB_TIMEOUT_S = 0.5  # PostgreSQL statement timeout; SQLite wait for a lock
# libpq and psycopg take no connect timeout below 2 s (a smaller one is raised to 2).
DB_CONNECT_TIMEOUT_S = 2
BROKER_TIMEOUT_S = 0.5  # to connect, then to read each answer (Redis)
WORKERS_TIMEOUT_S = 1.0  # how long replies of workers are collected


def database_connection():
    """A new connection to the default database, with the short timeouts of the check.

    Its own, so that the timeouts apply to nothing else; the caller closes it.
    """
    settings_dict = connections[DEFAULT_DB_ALIAS].settings_dict
    backend = load_backend(settings_dict["ENGINE"])
    options = dict(settings_dict["OPTIONS"])
    if backend.DatabaseWrapper.vendor == "postgresql":
        options["connect_timeout"] = DB_CONNECT_TIMEOUT_S
        statement_timeout = f"-c statement_timeout={round(DB_TIMEOUT_S * 1000)}"
        options["options"] = f"{options.get('options', '')} {statement_timeout}".strip()
    elif backend.DatabaseWrapper.vendor == "sqlite":
        options["timeout"] = DB_TIMEOUT_S
    return backend.DatabaseWrapper({**settings_dict, "OPTIONS": options}, DEFAULT_DB_ALIAS)


def database_state() -> dict:
    connection = database_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # any failure means "down"; the message says why
        return {"ok": False, "vendor": connection.vendor, "error": _short(exc)}
    finally:
        connection.close()


def broker_connection():
    """A new connection to the broker tasks are sent to, with the short timeouts of the check
    (the embedded broker, folders on this machine, has nothing to wait for)."""
    return app.connection_for_write(
        connect_timeout=BROKER_TIMEOUT_S,
        transport_options={
            "socket_connect_timeout": BROKER_TIMEOUT_S,
            "socket_timeout": BROKER_TIMEOUT_S,
        },
    )


def broker_state() -> dict:
    """Connects (Redis answers a PING) and publishes nothing."""
    transport = app.conf.broker_url.split("://", 1)[0]
    try:
        with broker_connection() as conn:
            conn.ensure_connection(max_retries=0)  # one attempt
        return {"ok": True, "transport": transport}
    except Exception as exc:
        return {"ok": False, "transport": transport, "error": _short(exc)}


def workers_state() -> dict:
    """The workers that answer within WORKERS_TIMEOUT_S, each with the queues it consumes, and
    Tuneboard's queues that none of them consumes (their tasks would wait forever)."""
    try:
        replies = app.control.inspect(timeout=WORKERS_TIMEOUT_S).active_queues() or {}
    except Exception as exc:
        return {"ok": False, "workers": {}, "unconsumed": [], "error": _short(exc)}
    workers = {name: sorted(q["name"] for q in queues) for name, queues in sorted(replies.items())}
    consumed = {queue for queues in workers.values() for queue in queues}
    unconsumed = [queue for queue in settings.TUNEBOARD_QUEUES if queue not in consumed]
    return {"ok": bool(workers) and not unconsumed, "workers": workers, "unconsumed": unconsumed}


def readiness() -> tuple[bool, dict]:
    """What a load balancer needs to know: can this instance serve pages and start sweeps."""
    state = {"database": database_state(), "broker": broker_state()}
    return all(part["ok"] for part in state.values()), state


def status() -> tuple[bool, dict]:
    """Everything, for the status page and `manage.py health`."""
    _ready, state = readiness()
    if state["broker"]["ok"]:
        state["workers"] = workers_state()
    else:  # no point asking workers through a broker that is down
        state["workers"] = {
            "ok": False,
            "workers": {},
            "unconsumed": list(settings.TUNEBOARD_QUEUES),
            "error": "not asked: the broker is down",
        }
    return all(part["ok"] for part in state.values()), state


def _short(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]
