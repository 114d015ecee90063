"""Thin tasks (queue ``maintenance``: short, never behind sweep batches)."""

import logging
from dataclasses import asdict

from celery import shared_task
from django.db import transaction

from notifications import service

log = logging.getLogger(__name__)

#: Attempts after the first, waiting 2, 4, 8 s (with jitter) in between.
MAX_RETRIES = 3


def enqueue(deliveries) -> None:
    """Send each delivery from its own task, once the caller's transaction is committed."""
    for delivery in deliveries:
        payload = asdict(delivery)
        transaction.on_commit(lambda payload=payload: deliver_task.delay(**payload))


@shared_task(acks_late=True, time_limit=120)
def notify_run_task(run_id: str) -> None:
    enqueue(service.notify_run(run_id))


@shared_task(acks_late=True, time_limit=600)
def check_cache_flags_task(collection_id: int) -> None:
    enqueue(service.check_cache_flags(collection_id))


@shared_task(bind=True, acks_late=True, time_limit=60, max_retries=MAX_RETRIES)
def deliver_task(self, notification_id: int, team_id: int | None = None, address: str = ""):
    delivery = service.Delivery(notification_id, team_id=team_id, address=address)
    try:
        service.deliver(delivery)
    except service.DeliveryFailed as exc:
        if exc.transient and self.request.retries < MAX_RETRIES:
            log.warning("notification %s not delivered, retrying: %s", notification_id, exc)
            raise self.retry(countdown=2 ** (self.request.retries + 1)) from None
        log.error("notification %s not delivered: %s", notification_id, exc)
