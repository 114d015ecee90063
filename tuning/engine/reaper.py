"""The reaper (beat, every minute, on its own queue): what happens to runs nobody is driving.

* A run whose publisher, analyser or cleaner died (heartbeat older than
  ``TUNEBOARD_STALE_RUN_SECONDS``) is cleaned up and fails with that reason.
* A run in its invoking phase is alive while any of its batches holds a live lease (a batch
  waiting for a concurrency slot is not dead), and is waiting, not lost, while workers are busy
  with other runs. With no live lease, no recent progress and idle workers, its queued work was
  lost (a broker restart, a purge, a worker killed
  mid-batch): the batches that are not done are sent again, from what the database says is
  missing, and the run's events say so. Only a run that makes no progress after
  ``MAX_RESUMES`` such attempts fails, with that reason.
* A run that never started fails after a while (unless workers are busy with other runs).
* Cleanups that did not finish are retried with backoff until done.
* An apply whose worker died fails after a while and releases the function.
* Belt and braces for architecture comparisons: the copies of companion runs that finished
  in the last ``COPY_RECHECK_SECONDS`` are deleted again by name (a copy whose creation Lambda
  completed after the run's cleanup had found nothing to delete would otherwise stay).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

from tuning.aws import AwsError
from tuning.engine.copy import delete_copy_again
from tuning.engine.finish import cleanup, cleanup_and_finish
from tuning.engine.liveness import Heartbeat, run_context
from tuning.engine.publish import plan_batches
from tuning.models import (
    OPEN_RESULT_STATUSES,
    BatchLease,
    MemoryChange,
    Phase,
    RunStatus,
    TuningRun,
)
from tuning.signals import announce_finished

log = logging.getLogger(__name__)

#: Times a run's missing batches are sent again without any invocation made in between,
#: before the run fails: its tasks are sent, but no worker runs them.
MAX_RESUMES = 5

#: Longest a cleanup attempt is expected to take: another reaper leaves the run alone so long.
CLEANUP_LEASE_SECONDS = 900

#: ``enqueue_batch(run_id, result_id, batch, start, count)``, as the publisher's.
EnqueueBatch = Callable[[str, int, int, int, int], object]


def reap_stale_runs(enqueue_batch: EnqueueBatch, stale_seconds: int | None = None) -> list[str]:
    """One round of the reaper; returns the ids of the runs it acted on."""
    stale = int(
        stale_seconds if stale_seconds is not None else settings.TUNEBOARD_STALE_RUN_SECONDS
    )
    now = timezone.now()
    cutoff = now - dt.timedelta(seconds=stale)
    handled = []
    for run in TuningRun.objects.select_related("account").filter(
        status=RunStatus.RUNNING, heartbeat_at__lt=cutoff
    ):
        with run_context(run.id):
            if _reap(run, cutoff, stale, enqueue_batch):
                handled.append(str(run.id))
    pending_cutoff = now - dt.timedelta(seconds=max(600, 5 * stale))
    for run in TuningRun.objects.filter(status=RunStatus.PENDING, created_at__lt=pending_cutoff):
        if _workers_busy(cutoff, but=run):
            continue  # queued behind other sweeps, not forgotten
        if run.fail_unstarted(
            "No worker started this sweep in time; is a Celery worker consuming the 'sweeps' queue?"
        ):
            announce_finished(run)
            handled.append(str(run.id))
    handled += retry_pending_cleanups()
    handled += delete_leftover_copies(now - dt.timedelta(seconds=COPY_RECHECK_SECONDS))
    handled += fail_stuck_applies(now - dt.timedelta(seconds=APPLY_TIMEOUT_SECONDS))
    close_old_connections()
    return handled


#: An apply not finished after this long lost its worker (it waits for at most two updates).
APPLY_TIMEOUT_SECONDS = 900


def fail_stuck_applies(cutoff) -> list[str]:
    """Fail applies requested before ``cutoff`` that never finished, and release their
    function; returns the ids of their runs."""
    released = []
    stuck = MemoryChange.objects.select_related("run").filter(
        state__in=[MemoryChange.State.QUEUED, MemoryChange.State.APPLYING],
        requested_at__lt=cutoff,
    )
    for change in stuck:
        change.close(
            MemoryChange.State.FAILED,
            "The worker stopped before the apply finished: check the memory of "
            f"{change.target} and of $LATEST (was {change.previous_mb or 'not read yet'} MB).",
        )
        change.run.release_apply()
        released.append(str(change.run_id))
    return released


def _reap(run, cutoff, stale: int, enqueue_batch: EnqueueBatch) -> bool:
    if run.phase == Phase.INVOKING and not (run.stop_reason or run.cancel_requested):
        if run.has_live_lease():
            return False  # a batch is at work (or waiting for a slot): alive
        if _workers_busy(cutoff, but=run):
            return False  # its batches wait behind other work: nothing is lost yet
        progressed = run.invocations_done > run.resumed_at_done
        attempt = 1 if progressed else run.resumes + 1
        if attempt <= MAX_RESUMES:
            return _resume(run, cutoff, stale, attempt, enqueue_batch)
        reason = (
            f"No invocation was made for over {MAX_RESUMES} rounds of the reaper although the "
            "run's missing batches were sent again each time: is a Celery worker consuming "
            "the 'invocations' queue?"
        )
    else:
        reason = (
            f"The worker running this sweep stopped responding (no heartbeat for over {stale} "
            "s); the reaper cleaned up after it."
        )
    if run.stop_reason:
        reason = f"{run.stop_reason} ({reason})"
    if not run.claim_stale(cutoff, reason):
        return False
    log.warning("reaping stale run (phase %s)", run.phase)
    with Heartbeat(run.id, always=True):
        cleanup_and_finish(run, RunStatus.FAILED, reason)
    return True


def _workers_busy(cutoff, *, but) -> bool:
    """Are workers busy with other runs (a fresh heartbeat or a live batch lease)? Then a
    run that is not moving is waiting for a free worker, not lost."""
    others = TuningRun.objects.filter(status=RunStatus.RUNNING).exclude(pk=but.pk)
    return (
        others.filter(heartbeat_at__gte=cutoff).exists()
        or BatchLease.objects.filter(result__run__in=others, expires_at__gt=timezone.now()).exists()
    )


def _resume(run, cutoff, stale: int, attempt: int, enqueue_batch: EnqueueBatch) -> bool:
    """Send again every batch the database does not record as done."""
    if not run.claim_resume(cutoff, attempt):
        return False
    batches = plan_batches(run)
    missing = [
        (result.pk, index, start, count)
        for result in run.results.filter(status__in=OPEN_RESULT_STATUSES)
        for index, (start, count) in enumerate(batches)
        if index not in result.batches_done
    ]
    for result_id, index, start, count in missing:
        enqueue_batch(str(run.id), result_id, index, start, count)
    left = run.invocations_total - run.invocations_done - run.invocations_skipped
    run.note(
        f"No batch had run for over {stale} s: the {len(missing)} batches not done "
        f"({left} invocations) were sent again (attempt {attempt} of {MAX_RESUMES})."
    )
    log.warning("resumed: %s batches sent again", len(missing))
    return True


#: How long after a companion run finished the reaper still makes sure its copy is gone.
COPY_RECHECK_SECONDS = 600


def delete_leftover_copies(since) -> list[str]:
    """Delete again the copies of companion runs finished after ``since`` with a complete
    cleanup (a DeleteFunction each: "not found" is the usual answer). Returns the ids of the
    runs whose copy was still there."""
    found = []
    finished = TuningRun.objects.select_related("account").filter(
        ~Q(copy_function=""), phase=Phase.DONE, cleanup_pending="", finished_at__gte=since
    )
    for run in finished:
        with run_context(run.id):
            try:
                still_there = delete_copy_again(run)
            except AwsError as exc:  # tried again at the next round, while in the window
                log.warning("could not check the copy %s: %s", run.copy_function, exc)
                continue
            if still_there:
                log.warning("deleted the leftover copy %s", run.copy_function)
                run.note(f"The reaper deleted the leftover temporary copy {run.copy_function}.")
                found.append(str(run.id))
    return found


def retry_pending_cleanups() -> list[str]:
    """Retry every due cleanup that did not finish; returns the ids of the runs retried."""
    retried = []
    for run in TuningRun.objects.select_related("account").filter(
        ~Q(cleanup_pending=""), cleanup_retry_at__lte=timezone.now()
    ):
        with run_context(run.id):
            if not run.claim_cleanup_retry(CLEANUP_LEASE_SECONDS):
                continue
            left, _latest = cleanup(run)
            run.record_cleanup_retry(left)
            log.info("cleanup retried: %s", f"still pending: {left}" if left else "complete")
        retried.append(str(run.id))
    return retried
