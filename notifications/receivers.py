"""The hooks: tuning and cachemetrics announce (signals); this only enqueues a task after the
commit, so neither the sweep nor the collection waits for, or fails because of, a notification."""

import logging

from django.db import transaction
from django.dispatch import receiver

from cachemetrics.signals import collection_finished
from tuning.signals import run_finished

log = logging.getLogger(__name__)


def _enqueue_after_commit(task, *args) -> None:
    def send():
        try:
            task.delay(*args)
        except Exception:  # the broker is down: the event is not notified, nothing else breaks
            log.exception("could not enqueue %s", task.name)

    transaction.on_commit(send)


# The tasks (and the reports they read) are imported when an event comes, not when Django
# starts: every ``manage.py sweep`` would load them for nothing (~0.02 s).


@receiver(run_finished, dispatch_uid="notifications.run_finished")
def on_run_finished(sender, run, **kwargs):
    from notifications.tasks import notify_run_task

    _enqueue_after_commit(notify_run_task, str(run.pk))


@receiver(collection_finished, dispatch_uid="notifications.collection_finished")
def on_collection_finished(sender, collection, **kwargs):
    from notifications.tasks import check_cache_flags_task

    _enqueue_after_commit(check_cache_flags_task, collection.pk)
