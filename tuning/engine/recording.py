"""Storing invocations: one row per (size, sequence number), with the size's and the run's
counters moved in the same transaction.

An executor batch does not write per invocation: its lanes hand outcomes to an
``InvocationBuffer``, whose own thread stores them with one INSERT (``bulk_create``) and one
counter UPDATE per table every ``TUNEBOARD_RECORD_FLUSH_MS`` or ``TUNEBOARD_RECORD_FLUSH_ROWS``
outcomes, whichever comes first, and always when the batch ends (done, stopped or crashed).
The pre-/post-processor calls made meanwhile (how many, what they cost) are added to the run's
counters by the same UPDATE.

What a dying worker loses: nothing that was committed. Outcomes still buffered when the
process is killed were never recorded, so the batch's redelivery (or the reaper's resend)
invokes those sequence numbers again: at most one flush interval of invocations per batch is
made twice on AWS, and each is still recorded exactly once.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from tuning import costing, price_table
from tuning.models import Invocation, PowerResult, TuningRun

log = logging.getLogger(__name__)


def invocation_row(run, result, seq: int, payload_index: int, outcome, prices=None) -> Invocation:
    """The (unsaved) row of one invocation. Its cost uses ``prices`` (default: the prices the
    run recorded, see tuning.price_table)."""
    report = outcome.report
    error_type = outcome.error_type
    error_message = outcome.error_message
    if report is None and not error_type:
        error_type = "ReportMissing"
        error_message = "The log tail held no REPORT line, so the invocation was not measured."
    cost = None
    if report is not None:
        cost = costing.billed_cost(  # None when the region has no known price
            report,
            result.memory_mb,
            architecture=run.architecture,
            region=run.region,
            ephemeral_storage_mb=run.ephemeral_storage_mb,
            prices=prices or price_table.for_run(run),
        )
    # A new execution environment: initialised (Init Duration) or restored from a SnapStart
    # snapshot (Restore Duration).
    cold = bool(
        report is not None
        and (report.init_duration_ms is not None or report.restore_duration_ms is not None)
    )
    return Invocation(
        result=result,
        sequence=seq,
        run_id=run.pk,
        memory_mb=result.memory_mb,
        payload_index=payload_index,
        request_id=(getattr(report, "request_id", None) or "")[:64],
        duration_ms=getattr(report, "duration_ms", None),
        billed_duration_ms=getattr(report, "billed_duration_ms", None),
        init_duration_ms=getattr(report, "init_duration_ms", None),
        restore_duration_ms=getattr(report, "restore_duration_ms", None),
        billed_restore_duration_ms=getattr(report, "billed_restore_duration_ms", None),
        max_memory_used_mb=getattr(report, "max_memory_used_mb", None),
        cold_start=cold,
        cost_usd=cost,
        error_type=error_type,
        error_message=error_message,
    )


def counts_as_error(run, row: Invocation) -> bool:
    """Does this row count against the size's error share (an error not allowed by the run)?"""
    return bool(row.error_type) and row.error_type not in run.allowed_exceptions


@dataclasses.dataclass
class ProcessorCalls:
    """Pre-/post-processor calls made and not yet added to the run's counters: ``calls`` in
    all, ``unpriced`` of them without a cost (no REPORT line, or the processor's configuration
    could not be read: their request fee only), and ``usd``, what the others cost."""

    calls: int = 0
    unpriced: int = 0
    usd: Decimal = Decimal(0)

    def add(self, cost: Decimal | None) -> None:
        self.calls += 1
        if cost is None:
            self.unpriced += 1
        else:
            self.usd += cost

    def increments(self) -> dict:
        """The run's counter updates (``TuningRun.objects.update(**…)``)."""
        if not self.calls:
            return {}
        return {
            "processor_invocations": F("processor_invocations") + self.calls,
            "processor_unpriced": F("processor_unpriced") + self.unpriced,
            "processor_cost_usd": F("processor_cost_usd") + self.usd,
        }


def store_invocations(
    run, result, rows: list[Invocation], processors: ProcessorCalls | None = None
) -> int:
    """Store ``rows`` (of one size) and move the counters, once per (result, sequence), and
    add the ``processors`` calls to the run's: one INSERT and one UPDATE per table; when a row
    was recorded before (a redelivered batch), row by row so the others are still stored (the
    processor calls were made all the same: they are counted). Returns how many rows were
    stored."""
    if not rows and not (processors and processors.calls):
        return 0
    try:
        with transaction.atomic():
            Invocation.objects.bulk_create(rows)
            _count(run, result, rows, processors)
        return len(rows)
    except IntegrityError:
        stored = sum(_store_one(run, result, row) for row in rows)
        if processors and processors.calls:
            _count(run, result, [], processors)
        return stored


def _store_one(run, result, row: Invocation) -> int:
    row.pk = None  # bulk_create may have set it before the rollback
    try:
        with transaction.atomic():
            row.save(force_insert=True)
            _count(run, result, [row])
    except IntegrityError:
        return 0  # recorded before (a redelivered or retried batch): once is enough
    return 1


def _count(run, result, rows: list[Invocation], processors: ProcessorCalls | None = None) -> None:
    allowed = set(run.allowed_exceptions)
    if rows:
        PowerResult.objects.filter(pk=result.pk).update(
            invocations_done=F("invocations_done") + len(rows),
            errors=F("errors") + sum(1 for r in rows if r.error_type),
            allowed_errors=F("allowed_errors") + sum(1 for r in rows if r.error_type in allowed),
            cold_starts=F("cold_starts") + sum(1 for r in rows if r.cold_start),
        )
    TuningRun.objects.filter(pk=run.pk).update(
        invocations_done=F("invocations_done") + len(rows),
        heartbeat_at=timezone.now(),
        **(processors.increments() if processors else {}),
    )


def record_invocation(run, result, seq: int, payload_index: int, outcome, prices=None) -> bool:
    """Store one invocation at once (once per (result, sequence)); update progress and
    heartbeat. False when it was recorded before."""
    row = invocation_row(run, result, seq, payload_index, outcome, prices)
    return store_invocations(run, result, [row]) == 1


class InvocationBuffer:
    """Collects one batch's invocation rows and stores them from its own thread, so the
    invoking lanes never wait for the database. ``with buffer:`` starts the thread; leaving
    the block stores what is left (also after an exception) and re-raises a failed store."""

    def __init__(self, run, result):
        self.run, self.result = run, result
        self.flush_rows = max(1, int(settings.TUNEBOARD_RECORD_FLUSH_ROWS))
        self.flush_s = max(1, int(settings.TUNEBOARD_RECORD_FLUSH_MS)) / 1000
        self._rows: list[Invocation] = []
        self._processors = ProcessorCalls()  # made since the last store
        # Errors counting against the share that are buffered or being stored, not yet in the
        # size's counters; changed only under _store_lock, together with the commit.
        self._unstored_errors = 0
        self._lock = threading.Lock()  # guards _rows
        self._store_lock = threading.Lock()  # one store at a time; see errors()
        self._wake = threading.Event()
        self._closing = False
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, daemon=True, name="tb-recorder")

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._closing = True
        self._wake.set()
        self._thread.join()
        if self.error is not None and exc[0] is None:
            raise self.error
        return False

    def add(self, row: Invocation) -> None:
        if self.error is not None:  # stop invoking what could not be stored
            raise RuntimeError("storing invocations failed") from self.error
        with self._lock:
            self._rows.append(row)
            if counts_as_error(self.run, row):
                self._unstored_errors += 1
            full = len(self._rows) >= self.flush_rows
        if full:
            self._wake.set()

    def add_processor_call(self, cost: Decimal | None) -> None:
        """A pre-/post-processor call was made: ``cost`` (None: its request fee only) goes to
        the run's counters with the next store."""
        with self._lock:
            self._processors.add(cost)

    def errors(self) -> int:
        """Errors of the size counting against its share: stored (all batches) + buffered
        here. Read under the store lock, so a row being committed is counted exactly once."""
        with self._store_lock:
            stored = (
                PowerResult.objects.filter(pk=self.result.pk)
                .values_list(F("errors") - F("allowed_errors"), flat=True)
                .first()
            )
            return (stored or 0) + self._unstored_errors

    def _loop(self) -> None:
        try:
            while True:
                self._wake.wait(self.flush_s)
                self._wake.clear()
                closing = self._closing
                self._flush()
                if closing:
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the batch's thread
            self.error = exc
            log.exception("storing invocations failed")
        finally:
            connection.close()

    def _flush(self) -> None:
        with self._store_lock:
            with self._lock:
                rows, self._rows = self._rows, []
                processors, self._processors = self._processors, ProcessorCalls()
            if not rows and not processors.calls:
                return
            store_invocations(self.run, self.result, rows, processors)
            errors = sum(1 for row in rows if counts_as_error(self.run, row))
            with self._lock:
                self._unstored_errors -= errors
