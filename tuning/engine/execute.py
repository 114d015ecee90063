"""Executors: invoke one size's alias for a range of sequence numbers and store every invocation.

A batch skips the sequence numbers it already recorded, so a redelivered or retried batch
never records one twice. Invocations are stored in batches (see tuning.engine.recording): a
worker killed mid-batch loses no committed invocation; the few it had not stored yet are
invoked again when the batch is redelivered or resent, and recorded once."""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import threading
import time
import uuid

from django.db import connection
from django.db.models import F

from aws.retry import Backoff
from dashboard.logging import current_run_id
from tuning import aws, s3payload
from tuning.aws import PermanentAwsError, TransientAwsError
from tuning.engine.finish import finalize_size, stop_from, try_finish
from tuning.engine.latest import FunctionChanged, check_code
from tuning.engine.liveness import Heartbeat, beat_interval, run_context, stop_requested
from tuning.engine.processors import ProcessorPricing
from tuning.engine.recording import InvocationBuffer, invocation_row
from tuning.models import (
    BatchLease,
    Invocation,
    Phase,
    PowerResult,
    ResultStatus,
    RunStatus,
    TuningRun,
)

log = logging.getLogger(__name__)

#: Invocations retried in place on throttling/5xx before the batch task retries later.
INVOKE_BACKOFF = Backoff(attempts=8)
#: How often executors re-read cancel/stop/size-failed flags (per batch).
STATE_CHECK_INTERVAL_S = 0.3
#: How often executors compare $LATEST's CodeSha256 with the run's.
CODE_CHECK_INTERVAL_S = 5.0


def payload_plan(invocations: int, weighted_payloads: list[dict]) -> list[int]:
    """Payload index of each sequence number: each payload gets its weight's share of the
    invocations (largest remainder, at least one each), interleaved over the sweep."""
    if not weighted_payloads:
        return [0] * invocations
    weights = [float(p["weight"]) for p in weighted_payloads]
    total = sum(weights)
    exact = [invocations * w / total for w in weights]
    counts = [max(1, int(x)) for x in exact]
    while sum(counts) > invocations:
        i = max(range(len(counts)), key=lambda k: (counts[k] - exact[k], counts[k]))
        counts[i] -= 1
    order = sorted(range(len(counts)), key=lambda k: exact[k] - int(exact[k]), reverse=True)
    k = 0
    while sum(counts) < invocations:
        counts[order[k % len(order)]] += 1
        k += 1
    # Interleave: spread each payload's share evenly over the sequence numbers.
    slots = []
    for index, count in enumerate(counts):
        slots.extend(((j + 0.5) / count, index) for j in range(count))
    return [index for _, index in sorted(slots)]


def _payload_bytes(payload) -> bytes:
    return json.dumps(payload if payload is not None else {}).encode()


#: Threads (and so database connections) one batch task runs at most: a higher concurrency
#: cap is reached by more batches running in more worker processes, not by more threads.
MAX_THREADS_PER_BATCH = 16


def batch_threads(run) -> int:
    """How many invocations one batch task of the run makes at once."""
    return min(run.concurrency, MAX_THREADS_PER_BATCH) if run.parallel else 1


class _Batch:
    """Invokes one size's alias for a list of sequence numbers (threads in parallel mode)."""

    def __init__(self, run, result, heartbeat: Heartbeat, lease: BatchLease):
        self.run = run
        self.result = result
        self.heartbeat = heartbeat
        self.lease = lease  # holds the lanes' concurrency slots (parallel mode)
        if run.payload_s3:  # read again by each batch: only the URI is stored
            self.payloads = [s3payload.read_payload(run.account, run.region, run.payload_s3)]
        else:
            self.payloads = [
                _payload_bytes(p["payload"]) for p in (run.weighted_payloads or [])
            ] or [_payload_bytes(run.payload)]
        self.plan = payload_plan(run.invocations_per_size, run.weighted_payloads or [])
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._left = 0  # sequence numbers not yet taken by a lane
        self._last_code_check = time.monotonic()
        self._last_state_check = 0.0
        self._stopping = False
        self.recorded = InvocationBuffer(run, result)
        self.processor_pricing = ProcessorPricing(run, self._retrying)

    def execute(self, sequences: list[int]) -> None:
        if not sequences:
            return
        self._left = len(sequences)
        queue = iter(sequences)
        with self.recorded:  # stores what is left when the lanes end, however they end
            if not self.run.parallel:
                self._lane(queue)
            else:
                self._lanes(queue, min(batch_threads(self.run), len(sequences)))
        if self.error is not None:
            raise self.error

    def _lanes(self, queue, wanted: int) -> None:
        """Up to ``wanted`` lanes, each holding one of the run's concurrency slots. Slots are
        taken as they come free (several per UPDATE on the run's row, not one per invocation)
        and each lane gives its slot back as soon as the batch has no work left for it, so
        another size's batch can use it while this one's last invocations finish."""
        lanes: list[threading.Thread] = []
        while len(lanes) < wanted and (taken := self._acquire(wanted - len(lanes))):
            for _ in range(taken):
                lane = threading.Thread(target=self._slot_lane, args=(queue,), daemon=True)
                lane.start()
                lanes.append(lane)
        for lane in lanes:
            lane.join()

    def _slot_lane(self, queue) -> None:
        try:
            self._lane(queue)
        finally:
            try:
                self.run.release_slots(self.lease, 1)
            finally:
                # Closed last: a thread's connection outlives the thread until the garbage
                # collector finds it (a worker of 2 processes held 89 connections mid-sweep).
                connection.close()

    def _next(self, queue):
        with self._lock:
            seq = next(queue, None)
            if seq is not None:
                self._left -= 1
            return seq

    def _lane(self, queue) -> None:
        token = current_run_id.set(str(self.run.id))
        first = True
        try:
            while not self.stop.is_set():
                seq = self._next(queue)
                if seq is None:
                    return
                if self._should_stop():
                    self.stop.set()
                    return
                if not self.run.parallel and not first and self.run.sleep_between_ms:
                    time.sleep(self.run.sleep_between_ms / 1000)
                first = False
                self._one(seq)
        except BaseException as exc:  # noqa: BLE001 - handed to the task thread
            self.error = self.error or exc
            self.stop.set()
        finally:
            current_run_id.reset(token)

    def _should_stop(self) -> bool:
        """Cancel, stop, or this size already failing? Read at most every
        STATE_CHECK_INTERVAL_S per batch (a stop is noticed within that time); a size failing
        in this process is seen at once."""
        with self._lock:
            if self._stopping:
                return True
            now = time.monotonic()
            if now - self._last_state_check < STATE_CHECK_INTERVAL_S:
                return False
            self._last_state_check = now
        row = (
            PowerResult.objects.filter(pk=self.result.pk)
            .values(
                "error_message",
                "run__cancel_requested",
                "run__stop_reason",
                "run__status",
                "run__phase",
            )
            .first()
        )
        stopping = row is None or bool(
            row["error_message"]
            or row["run__cancel_requested"]
            or row["run__stop_reason"]
            or row["run__status"] != RunStatus.RUNNING
            or row["run__phase"] not in (Phase.PUBLISHING, Phase.INVOKING)
        )
        if stopping:
            with self._lock:
                self._stopping = True
        return stopping

    def _acquire(self, wanted: int) -> int:
        """Wait until some of the run's concurrency slots are free and take up to ``wanted``:
        how many were taken (0 when the batch has no work left for another lane or the run
        must stop)."""
        last_check = time.monotonic()
        while not (slots := self.run.acquire_slots(self.lease, wanted)):
            if self._left <= 0 or self.stop.is_set():
                return 0
            if time.monotonic() - last_check > 0.5:
                if self._should_stop():
                    return 0
                last_check = time.monotonic()
            time.sleep(0.005 + random.random() * 0.02)
        return slots

    def _qualifier(self, seq: int) -> str:
        if self.run.cold_starts_only:
            return self.run.cold_alias_name(self.result.memory_mb, seq)
        return self.result.alias or self.run.alias_name(self.result.memory_mb)

    def _retrying(self, call):
        """``call()``, retried in place while AWS throttles or has a 5xx."""
        for attempt in range(INVOKE_BACKOFF.attempts):
            try:
                with self.heartbeat.busy():
                    return call()
            except TransientAwsError:
                if attempt == INVOKE_BACKOFF.attempts - 1 or self._should_stop():
                    raise
                time.sleep(INVOKE_BACKOFF.delay(attempt))
        raise AssertionError("unreachable")

    def _invoke(self, seq: int, payload: bytes):
        run = self.run
        return self._retrying(
            lambda: aws.invoke(
                run.account, run.region, run.lambda_function, self._qualifier(seq), payload
            )
        )

    def _process(self, which: str, payload: bytes) -> tuple[bytes, str]:
        """Invoke the run's pre- or post-processor (Power Tuning's preProcessorARN and
        postProcessorARN; not measured, but what the call cost goes to the run's total): (its
        output, "" or a failure naming it)."""
        run, function = self.run, getattr(self.run, f"{which}_processor")
        try:
            output, error, report = self._retrying(
                lambda: aws.invoke_processor(run.account, run.region, function, payload)
            )
        except PermanentAwsError as exc:  # not invoked, so not billed
            output, error = b"", str(exc)
        else:
            self.recorded.add_processor_call(self.processor_pricing.cost(function, report))
        return output, error and f"{which.capitalize()}-processor {function} failed: {error}"

    def _one(self, seq: int) -> None:
        index = self.plan[seq] if seq < len(self.plan) else 0
        payload = self.payloads[min(index, len(self.payloads) - 1)]
        outcome = self._around_processors(seq, payload)
        self.recorded.add(invocation_row(self.run, self.result, seq, index, outcome))
        if outcome.failed:
            self._judge_failure(outcome)
        self._maybe_check_code()

    def _around_processors(self, seq: int, payload: bytes):
        """The measured invocation, with the pre-processor's output (unless empty or null) as
        its payload and the post-processor invoked with its output. A failing processor fails
        the invocation (PreProcessorError / PostProcessorError, naming the processor)."""
        if self.run.pre_processor:
            output, error = self._process("pre", payload)
            if error:
                return aws.InvokeOutcome(None, "PreProcessorError", error[:2000], "", "")
            if output.strip() not in (b"", b"null"):
                payload = output
        outcome = self._invoke(seq, payload)
        if self.run.post_processor:
            _output, error = self._process("post", outcome.output)
            if error and not outcome.failed:  # the function's own error comes first
                return dataclasses.replace(
                    outcome, error_type="PostProcessorError", error_message=error[:2000]
                )
        return outcome

    def _fail_size(self, reason: str) -> None:
        self.result.mark_failing(reason)
        with self._lock:
            self._stopping = True

    def _judge_failure(self, outcome) -> None:
        mb = self.result.memory_mb
        if outcome.out_of_memory:
            used = getattr(outcome.report, "max_memory_used_mb", None)
            self._fail_size(
                f"Out of memory at {mb} MB ({outcome.error_type}: {outcome.error_message})"
                + (f"; max memory used {used} MB" if used else "")
            )
        elif outcome.timed_out:
            self._fail_size(f"Timed out at {mb} MB: {outcome.error_message}")
        elif outcome.error_type not in self.run.allowed_exceptions:
            count = self.recorded.errors()  # stored by every batch + buffered by this one
            allowed = self.run.max_error_share * self.run.invocations_per_size
            if count > allowed:
                self._fail_size(
                    f"{count} of {self.run.invocations_per_size} invocations failed (more than "
                    f"{self.run.max_error_share:.0%} allowed); last error: "
                    f"{outcome.error_type}: {outcome.error_message}"
                )

    def _maybe_check_code(self) -> None:
        with self._lock:
            if time.monotonic() - self._last_code_check < CODE_CHECK_INTERVAL_S:
                return
            self._last_code_check = time.monotonic()
        check_code(self.run)


class BatchBusy(Exception):
    """Another execution of the batch holds its lease; ``retry_in`` seconds until it runs out."""

    def __init__(self, retry_in: float):
        super().__init__(f"batch held by another execution for {retry_in:.0f} s more")
        self.retry_in = retry_in


def batch_lease_seconds() -> float:
    """A batch's lease outlives six missed heartbeats (each beat renews it), and 10 s at least:
    60 s with the default stale time. A dead holder's batch is taken over after this long."""
    return max(10.0, 6 * beat_interval())


def run_batch(run_id, result_id, batch: int, start: int, count: int) -> None:
    """Executor: invoke sequences [start, start+count) of one size under the batch's lease
    (skips recorded ones, so a retried task never records twice). BatchBusy when another
    execution holds the lease (a redelivered or duplicated task: it must come back later);
    TransientAwsError when AWS kept throttling (the task retries later)."""
    run = TuningRun.objects.select_related("account").filter(pk=run_id).first()
    result = PowerResult.objects.filter(pk=result_id).first()
    if run is None or result is None or batch in result.batches_done:
        return
    holder = uuid.uuid4().hex
    retry_in = BatchLease.acquire(result, batch, holder, batch_lease_seconds())
    if retry_in:
        raise BatchBusy(retry_in)
    try:
        lease = BatchLease.objects.get(result=result, batch=batch, holder=holder)
        _run_leased_batch(run, result, lease, start, count)
    finally:
        BatchLease.release(result, batch, holder)


def _run_leased_batch(run, result, lease, start, count) -> None:
    batch = lease.batch

    def renew_lease():
        BatchLease.renew(result, batch, lease.holder, batch_lease_seconds())

    with run_context(run.id):
        if stop_requested(run.pk):
            _after_stop(run)
            return
        PowerResult.objects.filter(pk=result.pk, status=ResultStatus.PUBLISHED).update(
            status=ResultStatus.RUNNING
        )
        recorded = set(
            Invocation.objects.filter(
                result=result, sequence__gte=start, sequence__lt=start + count
            ).values_list("sequence", flat=True)
        )
        todo = [seq for seq in range(start, start + count) if seq not in recorded]
        with Heartbeat(run.id, also=renew_lease) as heartbeat:
            try:
                _Batch(run, result, heartbeat, lease).execute(todo)
            except (FunctionChanged, PermanentAwsError, s3payload.PayloadUnavailable) as exc:
                run.request_stop(str(exc))
            except TransientAwsError:
                raise
            except Exception as exc:
                log.exception("executor crashed")
                run.request_stop(f"Internal error while invoking: {type(exc).__name__}: {exc}")
        if stop_requested(run.pk):
            _after_stop(run)
            return
        _complete_batch(run, result, batch, start, count)


def give_up_batch(run_id, result_id, batch: int, start: int, count: int, reason: str) -> None:
    """The batch's retries are exhausted (AWS kept throttling): the size fails, the run goes on."""
    run = TuningRun.objects.select_related("account").filter(pk=run_id).first()
    result = PowerResult.objects.filter(pk=result_id).first()
    if run is None or result is None:
        return
    with run_context(run.id):
        result.mark_failing(f"Gave up at {result.memory_mb} MB after repeated retries: {reason}")
        _complete_batch(run, result, batch, start, count)


def _complete_batch(run, result, batch, start, count) -> None:
    done = Invocation.objects.filter(
        result=result, sequence__gte=start, sequence__lt=start + count
    ).count()
    if count > done:
        TuningRun.objects.filter(pk=run.pk).update(
            invocations_skipped=F("invocations_skipped") + (count - done)
        )
    if result.complete_batch(batch):
        finalize_size(run, result)
        run.refresh_from_db()
        try_finish(run)


def _after_stop(run) -> None:
    run.refresh_from_db()
    if run.stop_reason or run.cancel_requested:
        stop_from(run, [Phase.INVOKING])
