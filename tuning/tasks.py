"""Celery tasks of a sweep: thin wrappers that load by id and call ``tuning.engine``.

Queues (settings.CELERY_TASK_ROUTES): ``invoke_*`` → ``invocations``, the rest → ``sweeps``.
Only idempotent tasks use ``acks_late``: a batch skips the sequences it already recorded, so
running it twice records nothing twice; the publisher is not idempotent (a redelivery after a
crash would find the run RUNNING and do nothing), so its message is acked on receipt and the
reaper cleans up after a dead publisher.
"""

import random

from celery import shared_task

from tuning.aws import TransientAwsError
from tuning.engine import apply, execute, finish, publish, reaper

#: Celery-level retries of a batch whose invocations AWS kept throttling (each attempt already
#: retried every invocation in place with backoff).
BATCH_MAX_RETRIES = 6


@shared_task(acks_late=False)
def start_sweep_task(run_id: str) -> None:
    publish.start_sweep(run_id, enqueue_batch=invoke_batch_task.delay)


@shared_task(bind=True, acks_late=True, max_retries=BATCH_MAX_RETRIES)
def invoke_batch_task(self, run_id: str, result_id: int, batch: int, start: int, count: int):
    try:
        execute.run_batch(run_id, result_id, batch, start, count)
    except execute.BatchBusy as busy:
        # A redelivered copy while the first execution still runs: a fresh task comes back
        # when the lease would have run out (and finds the batch done, or takes it over).
        invoke_batch_task.apply_async(
            (run_id, result_id, batch, start, count), countdown=busy.retry_in + 1
        )
    except TransientAwsError as exc:
        if self.request.retries < self.max_retries:
            countdown = min(60, 2 ** (self.request.retries + 1)) * (0.5 + random.random() / 2)
            raise self.retry(exc=exc, countdown=countdown) from exc
        execute.give_up_batch(run_id, result_id, batch, start, count, str(exc))


@shared_task(acks_late=False)  # not idempotent: an alias apply publishes a version
def apply_memory_task(change_id: int) -> None:
    apply.run_change(change_id)


@shared_task(acks_late=True)
def cancel_sweep_task(run_id: str) -> None:
    finish.stop_run(run_id)


@shared_task(acks_late=True)
def reap_stale_runs_task() -> list[str]:
    return reaper.reap_stale_runs(enqueue_batch=invoke_batch_task.delay)
