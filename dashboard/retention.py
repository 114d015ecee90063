"""Retention: what Tuneboard deletes once it is older than TUNEBOARD_RETENTION_DAYS (0 = never).

Each app says what has expired: ``TuningRun.objects.expired`` (never a run that still owns its
function), ``Collection.objects.expired``, ``Notification.objects.expired``, and
``cachemetrics.rollup.purge`` for metric points and rollups (its own horizons, which the
retention only lengthens). The embedded broker's leftovers go too (``dashboard.broker.prune``).
The daily beat task and ``manage.py purge`` both call ``purge``.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from cachemetrics import rollup
from cachemetrics.models import Collection
from dashboard import broker
from notifications.models import Notification
from tuning.models import TuningRun

#: Rows deleted per transaction (with what cascades from them: a run's invocations, ...).
BATCH_SIZE = 100


def purge(days: int | None = None, dry_run: bool = False, now: datetime | None = None) -> dict:
    """Delete what has expired under a retention of ``days`` (default TUNEBOARD_RETENTION_DAYS);
    with ``dry_run`` delete nothing. Returns {kind: how many} of what went (or would go)."""
    days = settings.TUNEBOARD_RETENTION_DAYS if days is None else days
    if days < 0:
        raise ValueError(f"A retention of {days} days makes no sense; 0 keeps everything.")
    now = now or timezone.now()
    counts = Counter()
    counts.update(_delete_in_batches(TuningRun.objects.expired(days, now), dry_run))
    counts.update(_delete_in_batches(Collection.objects.expired(days, now), dry_run))
    counts.update(_delete_in_batches(Notification.objects.expired(days, now), dry_run))
    metrics = rollup.purge(now, days=days, dry_run=dry_run)
    counts["metric points"] += metrics["points"]
    counts["metric rollups"] += metrics["rollups"]
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        counts["broker files"] += broker.prune(options, now, dry_run=dry_run)
    return {kind: n for kind, n in sorted(counts.items()) if n}


def _delete_in_batches(expired: QuerySet, dry_run: bool) -> Counter:
    """Delete ``expired`` BATCH_SIZE rows per transaction, so a big purge never holds a long
    transaction or many rows in memory. A dry run deletes each batch and rolls it back: its
    counts are those of the real purge, every cascade included.

    The rows of a batch are locked while the condition of ``expired`` still holds (SQLite: the
    transaction holds the database's write lock), so a run that starts owning its function
    again (an apply) meanwhile is not deleted; rows another transaction holds are left for the
    next purge."""
    counts = Counter()
    after = None  # keyset: a dry run leaves the rows of earlier batches in place
    while True:
        with transaction.atomic():
            batch = expired.order_by("pk")
            if after is not None:
                batch = batch.filter(pk__gt=after)
            pks = list(
                batch.select_for_update(skip_locked=True).values_list("pk", flat=True)[:BATCH_SIZE]
            )
            if not pks:
                return counts
            after = pks[-1]
            _, deleted = expired.model.objects.filter(pk__in=pks).delete()
            if dry_run:
                transaction.set_rollback(True)
        for label, n in deleted.items():
            counts[str(apps.get_model(label)._meta.verbose_name_plural)] += n
