import socket

from celery import shared_task
from django.utils import timezone

from dashboard import retention
from dashboard.models import WorkerProbe


@shared_task(acks_late=True)  # idempotent: handling a probe twice writes the same fields
def handle_probe_task(probe_id: str) -> None:
    WorkerProbe.objects.filter(pk=probe_id).update(
        handled_at=timezone.now(), handled_by=socket.gethostname()
    )


@shared_task(acks_late=True)  # idempotent: what was deleted stays deleted
def purge_expired_data_task() -> dict:
    """Daily (queue ``maintenance``): retention, see dashboard/retention.py."""
    return retention.purge()
