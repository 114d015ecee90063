"""What every engine step shares: the run id in log lines, the heartbeat that tells the reaper a
run is alive, and the flags that tell a step to stop."""

from __future__ import annotations

import contextlib
import logging
import threading

from django.conf import settings
from django.db import connection
from django.utils import timezone

from dashboard.logging import current_run_id
from tuning.models import Phase, RunStatus, TuningRun

log = logging.getLogger(__name__)


class Stop(Exception):
    """Unwinds the publisher/executors when the run must stop."""


@contextlib.contextmanager
def run_context(run_id):
    """Log lines inside carry the run id."""
    token = current_run_id.set(str(run_id))
    try:
        yield
    finally:
        current_run_id.reset(token)


def beat_interval() -> float:
    """Seconds between heartbeats: four beats per stale period, at most 10 s apart."""
    stale = max(1, int(settings.TUNEBOARD_STALE_RUN_SECONDS))
    return min(10.0, max(0.2, stale / 4))


class Heartbeat:
    """Background thread: refreshes ``heartbeat_at`` while AWS work of the run is under way
    in this process (``with beat.busy():``). Waiting alone (e.g. for a concurrency slot) does
    not count, so a run whose slots leaked with a killed worker still goes stale."""

    def __init__(self, run_id, *, always: bool = False, also=None):
        self.run_id = run_id
        self.always = always
        self.also = also  # called at every beat too (e.g. to renew a batch's lease)
        self._busy = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.interval = beat_interval()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="tb-heartbeat")

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=30)
        return False

    @contextlib.contextmanager
    def busy(self):
        with self._lock:
            self._busy += 1
        try:
            yield
        finally:
            with self._lock:
                self._busy -= 1

    def _loop(self):
        while not self._stop.wait(self.interval):
            try:
                if self.always or self._busy:
                    TuningRun.objects.filter(pk=self.run_id, status=RunStatus.RUNNING).update(
                        heartbeat_at=timezone.now()
                    )
                if self.also is not None:
                    self.also()
            except Exception:  # noqa: BLE001 - one failed beat (e.g. a database restart)
                log.exception("heartbeat failed; beating again in %.1f s", self.interval)
                connection.close()  # reconnects at the next beat
        connection.close()


def stop_requested(run_id) -> bool:
    """Must the run's publisher/executors stop (cancel, stop reason, no longer running)?"""
    row = (
        TuningRun.objects.filter(pk=run_id)
        .values("cancel_requested", "stop_reason", "status", "phase")
        .first()
    )
    if row is None:
        return True  # the run was deleted
    return bool(row["cancel_requested"] or row["stop_reason"]) or (
        row["status"] != RunStatus.RUNNING or row["phase"] not in (Phase.PUBLISHING, Phase.INVOKING)
    )
