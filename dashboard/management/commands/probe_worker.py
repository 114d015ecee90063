import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from dashboard.models import WorkerProbe
from dashboard.tasks import handle_probe_task


class Command(BaseCommand):
    help = (
        "Sends a probe task through the broker and waits until a worker wrote it to the database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait")

    def handle(self, *args, timeout, **options):
        with transaction.atomic():
            probe = WorkerProbe.objects.create()
            transaction.on_commit(lambda: handle_probe_task.delay(str(probe.pk)))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            probe.refresh_from_db()
            if probe.handled_at:
                latency_ms = (probe.handled_at - probe.created_at).total_seconds() * 1000
                self.stdout.write(
                    f"probe {probe.pk} handled by {probe.handled_by} in {latency_ms:.0f} ms"
                )
                return
            time.sleep(0.05)
        raise CommandError(
            f"No worker handled probe {probe.pk} within {timeout:.0f} s. "
            "Is a Celery worker running (`celery -A dashboard worker`) on the same broker?"
        )
