"""State of the parts Tuneboard needs: database, broker, at least one worker."""

from django.db import connection

from dashboard.celery import app

BROKER_TIMEOUT_S = 2.0
PING_TIMEOUT_S = 1.0


def database_state() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # any failure means "down"; the message says why
        return {"ok": False, "vendor": connection.vendor, "error": _short(exc)}


def broker_state() -> dict:
    transport = app.conf.broker_url.split("://", 1)[0]
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT_S
            )
        return {"ok": True, "transport": transport}
    except Exception as exc:
        return {"ok": False, "transport": transport, "error": _short(exc)}


def workers_state() -> dict:
    try:
        replies = app.control.ping(timeout=PING_TIMEOUT_S) or []
    except Exception as exc:
        return {"ok": False, "count": 0, "error": _short(exc)}
    names = sorted(name for reply in replies for name in reply)
    return {"ok": bool(names), "count": len(names), "names": names}


def overall() -> tuple[bool, dict]:
    state = {"database": database_state(), "broker": broker_state()}
    # No point pinging workers through a broker that is down.
    if state["broker"]["ok"]:
        state["workers"] = workers_state()
    else:
        state["workers"] = {"ok": False, "count": 0, "error": "broker unreachable"}
    healthy = all(part["ok"] for part in state.values())
    return healthy, state


def _short(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]
