"""Sweep orchestration: start, publish, invoke, analyse, clean up (DESIGN.md "Sweep flow").

Plain functions taking ids or objects; Celery tasks (tuning/tasks.py) only call them.

Who does what
-------------
* ``start_run`` (web/CLI/API) validates, creates the PENDING run and its PowerResult rows,
  and enqueues ``start_sweep_task`` on commit. The database constraint
  ``one_active_sweep_per_function`` refuses a second active run on the same function.
* ``start_sweep`` (worker, queue ``sweeps``) claims the run (PENDING→RUNNING, conditional
  UPDATE), records the original configuration and CodeSha256, then publishes strictly
  serially: update ``$LATEST``'s MemorySize, wait (function_updated_v2 waiter, short poll),
  publish a version (Description = the run's marker, so cleanup finds every version it
  created), create the alias ``run.alias_name(mb)`` and enqueue that size's executor batches
  at once (pipelining). Right after the last publish it restores ``$LATEST`` (no version is
  published for that) and moves the run to phase ``invoking``.
* ``run_batch`` (worker, queue ``invocations``) invokes an alias for a range of sequence
  numbers, serially or with threads under the run's concurrency cap (a counter on the run
  taken with a conditional UPDATE, so the cap holds across processes and machines), stores
  every Invocation as it completes (idempotent on (result, sequence)), updates progress and
  heartbeat. The batch that completes a size's last batch computes its statistics; whoever
  then wins ``TuningRun.claim_finish`` analyses, cleans up and sets the final status.
* Anyone who hits a fatal error (AccessDenied, not found, invalid parameter, code changed)
  records ``stop_reason``; a cancel sets ``cancel_requested``. The first party able to claim
  the cleanup (the publisher while publishing, otherwise executors / the cancel task) deletes
  the run's aliases and versions, restores ``$LATEST`` and finishes the run.
* ``reap_stale_runs`` (beat, every minute) cleans up RUNNING runs whose heartbeat is older
  than ``settings.TUNEBOARD_STALE_RUN_SECONDS`` (a worker died): FAILED with that reason.

Cold-starts-only mode publishes one version per measured invocation: before each publish
``$LATEST`` gets the environment variable ``TUNEBOARD_COLD_START=<run>-<mb>-<n>``, so every
version has a distinct configuration (PublishVersion really creates it) and Lambda — AWS and
the sandbox alike — has no warm execution environment for a version that was never invoked:
its single invocation is a cold start. The variable is removed from ``$LATEST`` afterwards.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import random
import re
import threading
import time
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.timesince import timesince

from dashboard.logging import current_run_id
from tuning import analysis, aws, pricing
from tuning.aws import AwsError, PermanentAwsError, TransientAwsError
from tuning.models import (
    ACTIVE_STATUSES,
    OPEN_RESULT_STATUSES,
    Invocation,
    Phase,
    PowerResult,
    ResultStatus,
    RunStatus,
    Strategy,
    TuningRun,
)
from tuning.serializers import money

log = logging.getLogger(__name__)

MIN_MEMORY_MB = 128
MAX_MEMORY_MB = 10240
MAX_INVOCATIONS_PER_SIZE = 1000
MAX_TOTAL_INVOCATIONS = 20000
MAX_CONCURRENCY = 1000
MAX_SLEEP_BETWEEN_MS = 60_000
COLD_START_ENV_VAR = "TUNEBOARD_COLD_START"

#: Publishing/cleanup calls retried on throttling, 5xx and update conflicts.
AWS_ATTEMPTS = 10
#: Invocations retried in place on throttling/5xx before the batch task retries later.
INVOKE_ATTEMPTS = 8
BACKOFF_BASE_S = 0.1
BACKOFF_MAX_S = 5.0
#: How often executors re-read cancel/stop/size-failed flags (per batch).
STATE_CHECK_INTERVAL_S = 0.3
#: How often executors compare $LATEST's CodeSha256 with the run's.
CODE_CHECK_INTERVAL_S = 5.0

_NAME = r"[A-Za-z0-9_-]{1,64}"
_QUALIFIER = r"\$LATEST|[A-Za-z0-9_-]{1,128}"
_ARN_RE = re.compile(
    rf"^arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{{12}}):function:"
    rf"(?P<name>{_NAME})(?::(?P<qualifier>{_QUALIFIER}))?$"
)
_PARTIAL_ARN_RE = re.compile(
    rf"^(?P<account>\d{{12}}):function:(?P<name>{_NAME})(?::(?P<qualifier>{_QUALIFIER}))?$"
)
_NAME_RE = re.compile(rf"^(?P<name>{_NAME})(?::(?P<qualifier>{_QUALIFIER}))?$")
_ALIAS_RE = re.compile(r"^(?!\d+$)[A-Za-z0-9_-]{1,128}$")


class SweepRefused(Exception):
    """The sweep cannot start now (another one is active on the function); str() is for users."""


class InvalidSweep(ValueError):
    """A start_run parameter is invalid; ``field`` names it (a start_run keyword)."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


class CodeChanged(Exception):
    """The function's code changed during the sweep."""


class _Stop(Exception):
    """Unwinds the publisher/executors when the run must stop."""


# =========================================================================== starting


def parse_function(function: str) -> dict:
    """``{"name", "qualifier", "region", "account_id"}`` from a name, ``name:qualifier``,
    a partial ARN or a full ARN (region/account_id "" when not in the text)."""
    text = (function or "").strip()
    for pattern in (_ARN_RE, _PARTIAL_ARN_RE, _NAME_RE):
        match = pattern.match(text)
        if match:
            parts = match.groupdict()
            return {
                "name": parts["name"],
                "qualifier": parts.get("qualifier") or "",
                "region": parts.get("region") or "",
                "account_id": parts.get("account") or "",
            }
    raise InvalidSweep(
        f"{function!r} is not a Lambda function name or ARN: expected e.g. 'my-function', "
        "'my-function:alias' or 'arn:aws:lambda:us-east-1:123456789012:function:my-function'.",
        "function",
    )


def _int(value, name: str, low: int, high: int, field: str = "") -> int:
    if isinstance(value, bool):
        raise InvalidSweep(f"{name} must be a whole number, got {value!r}.", field)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidSweep(f"{name} must be a whole number, got {value!r}.", field) from None
    if isinstance(value, float) and value != number:
        raise InvalidSweep(f"{name} must be a whole number, got {value!r}.", field)
    if not low <= number <= high:
        raise InvalidSweep(f"{name} must be between {low} and {high}, got {number}.", field)
    return number


def _float(value, name: str, low: float, high: float, field: str = "") -> float:
    if isinstance(value, bool):
        raise InvalidSweep(f"{name} must be a number, got {value!r}.", field)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidSweep(f"{name} must be a number, got {value!r}.", field) from None
    if math.isnan(number) or not low <= number <= high:
        raise InvalidSweep(f"{name} must be between {low:g} and {high:g}, got {value!r}.", field)
    return number


def normalise_sizes(memory_sizes) -> list[int]:
    """Sorted, unique memory sizes, each 128..10240 MB; ValueError otherwise."""
    if isinstance(memory_sizes, str):
        memory_sizes = [p for p in re.split(r"[\s,]+", memory_sizes) if p]
    if not memory_sizes:
        raise InvalidSweep("Give at least one memory size (128 to 10240 MB).", "memory_sizes")
    sizes = {
        _int(size, "Each memory size (MB)", MIN_MEMORY_MB, MAX_MEMORY_MB, "memory_sizes")
        for size in memory_sizes
    }
    return sorted(sizes)


def _json_ready(value, name: str, field: str = ""):
    import json

    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise InvalidSweep(f"{name} must be JSON: {exc}", field) from None
    return value


def normalise_weighted_payloads(weighted_payloads, invocations_per_size: int) -> list[dict]:
    if not weighted_payloads:
        return []
    if not isinstance(weighted_payloads, list):
        raise InvalidSweep(
            'Weighted payloads must be a list of {"payload": ..., "weight": n}.',
            "weighted_payloads",
        )
    out = []
    for index, item in enumerate(weighted_payloads):
        if not isinstance(item, dict) or "payload" not in item or "weight" not in item:
            raise InvalidSweep(
                f'Weighted payload #{index + 1} must be {{"payload": ..., "weight": n}}.',
                "weighted_payloads",
            )
        weight = _float(
            item["weight"], f"Weight of payload #{index + 1}", 0, 1e9, "weighted_payloads"
        )
        if weight <= 0:
            raise InvalidSweep(
                f"Weight of payload #{index + 1} must be greater than 0.", "weighted_payloads"
            )
        out.append(
            {
                "payload": _json_ready(item["payload"], "Each payload", "weighted_payloads"),
                "weight": weight,
            }
        )
    if len(out) > invocations_per_size:
        raise InvalidSweep(
            f"{len(out)} weighted payloads need at least {len(out)} invocations per size "
            f"(one per payload); got {invocations_per_size}.",
            "weighted_payloads",
        )
    return out


def payload_plan(invocations: int, weighted_payloads: list[dict]) -> list[int]:
    """Payload index of each sequence number: each payload gets its weight's share of the
    invocations (largest remainder, at least one each), interleaved over the sweep."""
    if not weighted_payloads:
        return [0] * invocations
    weights = [float(p["weight"]) for p in weighted_payloads]
    total = sum(weights)
    exact = [invocations * w / total for w in weights]
    counts = [max(1, math.floor(x)) for x in exact]
    while sum(counts) > invocations:
        i = max(range(len(counts)), key=lambda k: (counts[k] - exact[k], counts[k]))
        counts[i] -= 1
    order = sorted(range(len(counts)), key=lambda k: exact[k] - math.floor(exact[k]), reverse=True)
    k = 0
    while sum(counts) < invocations:
        counts[order[k % len(order)]] += 1
        k += 1
    # Interleave: spread each payload's share evenly over the sequence numbers.
    slots = []
    for index, count in enumerate(counts):
        slots.extend(((j + 0.5) / count, index) for j in range(count))
    return [index for _, index in sorted(slots)]


def _function_key(account, region: str, name: str) -> str:
    return f"{account.pk if account else '-'}:{region}:{name}"


def _refusal(function_key: str, name: str) -> SweepRefused:
    active = (
        TuningRun.objects.filter(function_key=function_key, status__in=ACTIVE_STATUSES)
        .select_related("created_by")
        .first()
    )
    if active is None:
        return SweepRefused(f"{name} already has an active sweep; try again in a moment.")
    who = f" by {active.created_by.get_username()}" if active.created_by else ""
    since = active.started_at or active.created_at
    return SweepRefused(
        f"{name} already has an active sweep (started {timesince(since)} ago{who}); "
        "wait for it to finish or cancel it."
    )


def start_run(
    *,
    function: str,
    memory_sizes: list[int],
    invocations_per_size: int = 10,
    created_by=None,
    account=None,
    region: str | None = None,
    payload=None,
    weighted_payloads=None,
    parallel=False,
    concurrency=1,
    strategy="cost",
    balanced_weight=0.5,
    discard_fraction=0.2,
    cold_starts_only=False,
    sleep_between_ms=0,
    max_error_share=0.2,
    auto_apply_target="",
) -> TuningRun:
    """Validate, create the PENDING run and its per-size rows, enqueue the sweep on commit.

    ValueError (clear message) for bad input; SweepRefused when the function already has an
    active sweep.
    """
    parsed = parse_function(function)
    sizes = normalise_sizes(memory_sizes)
    num = _int(
        invocations_per_size,
        "Invocations per size",
        1,
        MAX_INVOCATIONS_PER_SIZE,
        "invocations_per_size",
    )
    if len(sizes) * num > MAX_TOTAL_INVOCATIONS:
        raise InvalidSweep(
            f"{len(sizes)} sizes × {num} invocations = {len(sizes) * num:,} invocations; "
            f"keep a sweep under {MAX_TOTAL_INVOCATIONS:,}.",
            "invocations_per_size",
        )
    if (
        account is not None
        and parsed["account_id"]
        and account.account_id
        and parsed["account_id"] != account.account_id
    ):
        raise InvalidSweep(
            f"The ARN is in account {parsed['account_id']} but account {account.name!r} "
            f"is {account.account_id}.",
            "account",
        )
    if parsed["region"] and region and parsed["region"] != region:
        raise InvalidSweep(f"The ARN is in region {parsed['region']}, not {region}.", "region")
    region = (
        parsed["region"]
        or region
        or (account.default_region if account is not None else "")
        or settings.TUNEBOARD_DEFAULT_REGION
    )
    if region not in pricing.known_regions():
        raise InvalidSweep(
            f"No Lambda prices are known for region {region!r}, so costs cannot be computed; "
            f"known regions: {', '.join(pricing.known_regions())}.",
            "region",
        )
    if strategy not in analysis.STRATEGIES:
        raise InvalidSweep(
            f"Unknown strategy {strategy!r}: choose one of {', '.join(analysis.STRATEGIES)}.",
            "strategy",
        )
    weight = _float(balanced_weight, "Balanced weight", 0, 1, "balanced_weight")
    discard = _float(
        discard_fraction, "Discard fraction", 0, analysis.MAX_DISCARD, "discard_fraction"
    )
    error_share = _float(max_error_share, "Maximum error share", 0, 1, "max_error_share")
    cap = _int(concurrency, "Concurrency", 1, MAX_CONCURRENCY, "concurrency")
    sleep_ms = _int(
        sleep_between_ms,
        "Sleep between invocations (ms)",
        0,
        MAX_SLEEP_BETWEEN_MS,
        "sleep_between_ms",
    )
    weighted = normalise_weighted_payloads(weighted_payloads, num)
    payload = _json_ready({} if payload is None else payload, "Payload", "payload")
    target = (auto_apply_target or "").strip()
    if target and target != "$LATEST" and not _ALIAS_RE.match(target):
        raise InvalidSweep(
            f"Auto-apply target {target!r} must be $LATEST or an alias name (letters, digits, "
            "- and _; not only digits).",
            "auto_apply_target",
        )
    if target.startswith("tb-"):
        raise InvalidSweep(
            "Aliases starting with 'tb-' belong to Tuneboard's own sweeps.", "auto_apply_target"
        )
    key = _function_key(account, region, parsed["name"])
    try:
        with transaction.atomic():
            run = TuningRun.objects.create(
                function_arn=function.strip(),
                function_name=parsed["name"],
                qualifier=parsed["qualifier"],
                region=region,
                function_key=key,
                account=account,
                memory_sizes=sizes,
                invocations_per_size=num,
                payload=payload,
                weighted_payloads=weighted,
                parallel=bool(parallel),
                concurrency=cap if parallel else 1,
                strategy=strategy,
                balanced_weight=weight,
                discard_fraction=discard,
                cold_starts_only=bool(cold_starts_only),
                sleep_between_ms=sleep_ms,
                max_error_share=error_share,
                auto_apply_target=target,
                status=RunStatus.PENDING,
                phase=Phase.QUEUED,
                invocations_total=len(sizes) * num,
                created_by=created_by if getattr(created_by, "pk", None) else None,
            )
            PowerResult.objects.bulk_create(PowerResult(run=run, memory_mb=mb) for mb in sizes)
    except IntegrityError as exc:
        if (
            "one_active_sweep_per_function" in str(exc)
            or TuningRun.objects.filter(function_key=key, status__in=ACTIVE_STATUSES).exists()
        ):
            raise _refusal(key, parsed["name"]) from None
        raise
    from tuning.tasks import start_sweep_task

    run_id = str(run.id)
    transaction.on_commit(lambda: start_sweep_task.delay(run_id))
    log.info("sweep of %s queued", parsed["name"], extra={"run_id": run_id})
    return run


def rerun(run, user) -> TuningRun:
    """A new run with the same parameters."""
    return start_run(
        function=run.function_arn,
        memory_sizes=list(run.memory_sizes),
        invocations_per_size=run.invocations_per_size,
        created_by=user,
        account=run.account,
        region=run.region,
        payload=run.payload,
        weighted_payloads=run.weighted_payloads or None,
        parallel=run.parallel,
        concurrency=run.concurrency,
        strategy=run.strategy,
        balanced_weight=run.balanced_weight,
        discard_fraction=run.discard_fraction,
        cold_starts_only=run.cold_starts_only,
        sleep_between_ms=run.sleep_between_ms,
        max_error_share=run.max_error_share,
        auto_apply_target=run.auto_apply_target,
    )


def request_cancel(run, user=None) -> None:
    """Cancel a run: a PENDING one at once; a RUNNING one stops invoking and is cleaned up
    (CANCELLED). A finished run is left as it is."""
    who = f"Cancelled by {user.get_username()}." if getattr(user, "pk", None) else "Cancelled."
    if run.cancel_pending():
        TuningRun.objects.filter(pk=run.pk).update(error_message=who)
        run.results.filter(status__in=OPEN_RESULT_STATUSES).update(status=ResultStatus.CANCELLED)
        run.refresh_from_db()
        return
    updated = TuningRun.objects.filter(
        pk=run.pk, status=RunStatus.RUNNING, cancel_requested=False
    ).update(cancel_requested=True, error_message=who)
    if updated:
        from tuning.tasks import cancel_sweep_task

        run_id = str(run.pk)
        transaction.on_commit(lambda: cancel_sweep_task.delay(run_id))
    run.refresh_from_db()


# =========================================================================== helpers


@contextlib.contextmanager
def _run_context(run_id):
    token = current_run_id.set(str(run_id))
    try:
        yield
    finally:
        current_run_id.reset(token)


class _Heartbeat:
    """Background thread: refreshes ``heartbeat_at`` while AWS work of the run is under way
    in this process (``with beat.busy():``). Waiting alone (e.g. for a concurrency slot) does
    not count, so a run whose slots leaked with a killed worker still goes stale."""

    def __init__(self, run_id, *, always: bool = False):
        self.run_id = run_id
        self.always = always
        self._busy = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        stale = max(1, int(settings.TUNEBOARD_STALE_RUN_SECONDS))
        self.interval = min(10.0, max(0.2, stale / 4))
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
        try:
            while not self._stop.wait(self.interval):
                if self.always or self._busy:
                    TuningRun.objects.filter(pk=self.run_id, status=RunStatus.RUNNING).update(
                        heartbeat_at=timezone.now()
                    )
        except Exception:  # noqa: BLE001 - a heartbeat must never crash the task
            log.exception("heartbeat failed")
        finally:
            connection.close()


def _backoff(attempt: int) -> float:
    return min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2**attempt) * (0.5 + random.random() / 2)


def _retrying(call, *args, attempts: int = AWS_ATTEMPTS, **kwargs):
    """Call an aws function, retrying TransientAwsError with exponential backoff."""
    for attempt in range(attempts):
        try:
            return call(*args, **kwargs)
        except TransientAwsError as exc:
            if attempt == attempts - 1:
                raise
            log.info("retrying %s after: %s", call.__name__, exc)
            time.sleep(_backoff(attempt))
    raise AssertionError("unreachable")


def _code_changed_message(old: str, new: str) -> str:
    return (
        f"The function's code changed during the sweep (CodeSha256 {old} → {new}); the "
        "measurements would mix two versions of the code. Start a new sweep."
    )


def _stop_requested(run_id) -> tuple[bool, str, bool]:
    row = (
        TuningRun.objects.filter(pk=run_id)
        .values("cancel_requested", "stop_reason", "status", "phase")
        .first()
    )
    if row is None:
        return True, "The run was deleted.", False
    stopping = bool(row["cancel_requested"] or row["stop_reason"]) or (
        row["status"] != RunStatus.RUNNING or row["phase"] not in (Phase.PUBLISHING, Phase.INVOKING)
    )
    return stopping, row["stop_reason"], row["cancel_requested"]


# =========================================================================== publishing


def start_sweep(run_id) -> None:
    """Worker side of a sweep: claim, record, publish serially, hand over to executors."""
    run = TuningRun.objects.select_related("account").filter(pk=run_id).first()
    if run is None:
        log.warning("run %s does not exist", run_id)
        return
    with _run_context(run.id):
        if not run.claim_start():
            log.info("run already claimed (status %s); nothing to do", run.status)
            return
        log.info("sweep of %s started: %s MB", run.function_name, run.memory_sizes)
        with _Heartbeat(run.id, always=True):
            try:
                _record_original(run)
                _publish_all(run)
            except _Stop:
                pass
            except CodeChanged as exc:
                run.request_stop(str(exc))
            except AwsError as exc:
                log.warning("sweep stopped: %s", exc)
                run.request_stop(str(exc))
            except Exception as exc:
                log.exception("sweep crashed while publishing")
                run.request_stop(f"Internal error while publishing: {type(exc).__name__}: {exc}")
            run.refresh_from_db()
            if run.stop_reason or run.cancel_requested:
                _stop_from(run, [Phase.PUBLISHING])
                return
            if run.mark_published():
                run.refresh_from_db()
                if run.stop_reason or run.cancel_requested:
                    _stop_from(run, [Phase.INVOKING])
                else:
                    _try_finish(run)


def _record_original(run) -> None:
    acct, region, name = run.account, run.region, run.function_name
    latest = _retrying(aws.get_function_configuration, acct, region, name)
    if latest["last_update_status"] == "InProgress":
        _retrying(aws.wait_updated, acct, region, name)
        latest = _retrying(aws.get_function_configuration, acct, region, name)
    if run.qualifier and run.qualifier != "$LATEST":
        target = _retrying(aws.get_function_configuration, acct, region, name, run.qualifier)
        if target["code_sha256"] != latest["code_sha256"]:
            raise PermanentAwsError(
                f"{name}:{run.qualifier} runs other code than $LATEST (CodeSha256 "
                f"{target['code_sha256']} vs {latest['code_sha256']}). Lambda publishes versions "
                "only from $LATEST, so the sweep would measure other code: deploy the same code "
                "to $LATEST, or tune $LATEST."
            )
    raw = latest["raw"]
    run.original_config = {
        "FunctionArn": raw.get("FunctionArn", ""),
        "Runtime": raw.get("Runtime", ""),
        "MemorySize": raw.get("MemorySize"),
        "Timeout": raw.get("Timeout"),
        "Description": raw.get("Description", ""),
        "Environment": {"Variables": latest["environment"]},
        "Architectures": raw.get("Architectures") or ["x86_64"],
        "EphemeralStorage": raw.get("EphemeralStorage") or {"Size": 512},
        "CodeSha256": latest["code_sha256"],
        "RevisionId": raw.get("RevisionId", ""),
        "LastModified": raw.get("LastModified", ""),
    }
    run.original_code_sha256 = latest["code_sha256"]
    run.heartbeat_at = timezone.now()
    run.save(update_fields=["original_config", "original_code_sha256", "heartbeat_at"])


def _check_publisher(run) -> None:
    stopping, _reason, _cancel = _stop_requested(run.pk)
    if stopping:
        raise _Stop


def _publish_one(run, memory_mb: int, alias: str, description: str, environment=None) -> dict:
    acct, region, name = run.account, run.region, run.function_name
    _retrying(
        aws.update_configuration, acct, region, name, memory_mb=memory_mb, environment=environment
    )
    _retrying(aws.wait_updated, acct, region, name)
    try:
        published = _retrying(
            aws.publish_version, acct, region, name, description, run.original_code_sha256
        )
    except PermanentAwsError as exc:
        if "CodeSHA256" in exc.message or "CodeSha256" in exc.message:
            latest = _retrying(aws.get_function_configuration, acct, region, name)
            raise CodeChanged(
                _code_changed_message(run.original_code_sha256, latest["code_sha256"])
            ) from exc
        raise
    if published["code_sha256"] and published["code_sha256"] != run.original_code_sha256:
        raise CodeChanged(_code_changed_message(run.original_code_sha256, published["code_sha256"]))
    _retrying(aws.create_alias, acct, region, name, alias, published["version"])
    return published


def plan_batches(run) -> list[tuple[int, int]]:
    """(first sequence, count) of each executor task of one size.

    Serial: one task per size. Parallel: batches of twice the concurrency cap (at least 10),
    so several worker processes/machines share a size's work.
    """
    n = run.invocations_per_size
    if not run.parallel:
        return [(0, n)]
    size = max(10, 2 * run.concurrency)
    return [(start, min(size, n - start)) for start in range(0, n, size)]


def _publish_all(run) -> None:
    from tuning.tasks import invoke_batch_task

    env = dict((run.original_config.get("Environment") or {}).get("Variables") or {})
    results = list(run.results.order_by("memory_mb"))
    for result in results:
        mb = result.memory_mb
        _check_publisher(run)
        if run.cold_starts_only:
            created = []
            for seq in range(run.invocations_per_size):
                _check_publisher(run)
                published = _publish_one(
                    run,
                    mb,
                    run.cold_alias_name(mb, seq),
                    f"{run.version_marker} {mb} MB cold #{seq}",
                    environment={**env, COLD_START_ENV_VAR: f"{run.id.hex[:12]}-{mb}-{seq}"},
                )
                created.append(published)
            result.version = created[-1]["version"] if created else ""
            result.version_created = all(p["created"] for p in created)
        else:
            published = _publish_one(run, mb, run.alias_name(mb), f"{run.version_marker} {mb} MB")
            result.version = published["version"]
            result.version_created = published["created"]
        batches = plan_batches(run)
        result.alias = run.alias_name(mb)
        result.status = ResultStatus.PUBLISHED
        result.batches_total = len(batches)
        result.save(
            update_fields=["version", "version_created", "alias", "status", "batches_total"]
        )
        run.beat()
        log.info("published %s MB as version %s", mb, result.version)
        for index, (start, count) in enumerate(batches):
            invoke_batch_task.delay(str(run.id), result.pk, index, start, count)
    _restore_latest(run, wait=False)


def _restore_latest(run, *, wait: bool = True) -> dict | None:
    """Put back $LATEST's MemorySize (and environment, in cold-starts mode) as recorded;
    returns $LATEST's configuration as read before (None when nothing was recorded).
    ``wait=False`` (right after the last publish) does not wait for the update to finish:
    executors are busy meanwhile, and cleanup waits."""
    original = run.original_config or {}
    if not original.get("MemorySize"):
        return None
    acct, region, name = run.account, run.region, run.function_name
    current = _retrying(aws.get_function_configuration, acct, region, name)
    changes = {}
    if current["memory_mb"] != original["MemorySize"]:
        changes["memory_mb"] = original["MemorySize"]
    original_env = (original.get("Environment") or {}).get("Variables") or {}
    if COLD_START_ENV_VAR in current["environment"] and current["environment"] != original_env:
        changes["environment"] = original_env
    if current["last_update_status"] == "InProgress" and (changes or wait):
        _retrying(aws.wait_updated, acct, region, name)
    if changes:
        _retrying(aws.update_configuration, acct, region, name, **changes)
        if wait:
            _retrying(aws.wait_updated, acct, region, name)
        log.info("restored $LATEST of %s: %s", name, changes)
    return current


# =========================================================================== executors


class _Batch:
    """Invokes one size's alias for a list of sequence numbers (threads in parallel mode)."""

    def __init__(self, run, result, heartbeat: _Heartbeat):
        self.run = run
        self.result = result
        self.heartbeat = heartbeat
        self.payloads = [_payload_bytes(p["payload"]) for p in (run.weighted_payloads or [])] or [
            _payload_bytes(run.payload)
        ]
        self.plan = payload_plan(run.invocations_per_size, run.weighted_payloads or [])
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._last_code_check = time.monotonic()
        self._last_state_check = 0.0
        self._stopping = False

    def execute(self, sequences: list[int]) -> None:
        if not sequences:
            return
        threads = min(self.run.concurrency, len(sequences)) if self.run.parallel else 1
        queue = iter(sequences)
        if threads == 1:
            self._lane(queue, threaded=False)
        else:
            workers = [
                threading.Thread(target=self._lane, args=(queue, True), daemon=True)
                for _ in range(threads)
            ]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
        if self.error is not None:
            raise self.error

    def _next(self, queue):
        with self._lock:
            return next(queue, None)

    def _lane(self, queue, threaded: bool) -> None:
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
            if threaded:
                connection.close()

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

    def _acquire(self) -> bool:
        """Wait for one of the run's concurrency slots; False when the run must stop."""
        if not self.run.parallel:
            return True
        last_check = time.monotonic()
        while not self.run.acquire_slot():
            if time.monotonic() - last_check > 0.5:
                if self._should_stop():
                    return False
                last_check = time.monotonic()
            time.sleep(0.005 + random.random() * 0.02)
        return True

    def _qualifier(self, seq: int) -> str:
        if self.run.cold_starts_only:
            return self.run.cold_alias_name(self.result.memory_mb, seq)
        return self.result.alias or self.run.alias_name(self.result.memory_mb)

    def _invoke(self, seq: int, payload: bytes):
        for attempt in range(INVOKE_ATTEMPTS):
            try:
                with self.heartbeat.busy():
                    return aws.invoke(
                        self.run.account,
                        self.run.region,
                        self.run.function_name,
                        self._qualifier(seq),
                        payload,
                    )
            except TransientAwsError:
                if attempt == INVOKE_ATTEMPTS - 1 or self._should_stop():
                    raise
                time.sleep(_backoff(attempt))
        raise AssertionError("unreachable")

    def _one(self, seq: int) -> None:
        index = self.plan[seq] if seq < len(self.plan) else 0
        payload = self.payloads[min(index, len(self.payloads) - 1)]
        if not self._acquire():
            self.stop.set()
            return
        try:
            outcome = self._invoke(seq, payload)
        finally:
            if self.run.parallel:
                self.run.release_slot()
        _record(self.run, self.result, seq, index, outcome)
        self._judge(outcome)
        self._maybe_check_code()

    def _judge(self, outcome) -> None:
        if outcome.failed:
            self._judge_failure(outcome)

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
        elif outcome.failed:
            errors = PowerResult.objects.filter(pk=self.result.pk).values_list("errors", flat=True)
            count = errors.first() or 0
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
        _check_code(self.run)


def _check_code(run) -> None:
    latest = _retrying(aws.get_function_configuration, run.account, run.region, run.function_name)
    if run.original_code_sha256 and latest["code_sha256"] != run.original_code_sha256:
        raise CodeChanged(_code_changed_message(run.original_code_sha256, latest["code_sha256"]))


def _payload_bytes(payload) -> bytes:
    import json

    return json.dumps(payload if payload is not None else {}).encode()


def _record(run, result, seq: int, payload_index: int, outcome) -> bool:
    """Store one invocation (once per (result, sequence)); update progress and heartbeat."""
    report = outcome.report
    error_type = outcome.error_type
    error_message = outcome.error_message
    if report is None and not error_type:
        error_type = "ReportMissing"
        error_message = "The log tail held no REPORT line, so the invocation was not measured."
    cost = None
    if report is not None:
        cost = pricing.invocation_cost(
            result.memory_mb,
            report.billed_duration_ms,
            architecture=run.architecture,
            region=run.region,
            ephemeral_storage_mb=run.ephemeral_storage_mb,
        )
    cold = bool(report is not None and report.init_duration_ms is not None)
    try:
        with transaction.atomic():
            Invocation.objects.create(
                result=result,
                sequence=seq,
                run_id=run.pk,
                memory_mb=result.memory_mb,
                payload_index=payload_index,
                request_id=(getattr(report, "request_id", None) or "")[:64],
                duration_ms=getattr(report, "duration_ms", None),
                billed_duration_ms=getattr(report, "billed_duration_ms", None),
                init_duration_ms=getattr(report, "init_duration_ms", None),
                max_memory_used_mb=getattr(report, "max_memory_used_mb", None),
                cold_start=cold,
                cost_usd=cost,
                error_type=error_type,
                error_message=error_message,
            )
            PowerResult.objects.filter(pk=result.pk).update(
                invocations_done=F("invocations_done") + 1,
                errors=F("errors") + (1 if error_type else 0),
                cold_starts=F("cold_starts") + (1 if cold else 0),
            )
            TuningRun.objects.filter(pk=run.pk).update(
                invocations_done=F("invocations_done") + 1, heartbeat_at=timezone.now()
            )
    except IntegrityError:
        return False  # recorded before (a redelivered or retried batch): once is enough
    return True


def run_batch(run_id, result_id, batch: int, start: int, count: int) -> None:
    """Executor: invoke sequences [start, start+count) of one size (skips recorded ones, so a
    redelivered or retried task never records twice). Raises TransientAwsError when AWS kept
    throttling; the task retries later."""
    run = TuningRun.objects.select_related("account").filter(pk=run_id).first()
    result = PowerResult.objects.filter(pk=result_id).first()
    if run is None or result is None:
        return
    with _run_context(run.id):
        stopping, _reason, _cancel = _stop_requested(run.pk)
        if stopping:
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
        with _Heartbeat(run.id) as heartbeat:
            executor = _Batch(run, result, heartbeat)
            try:
                executor.execute(todo)
            except CodeChanged as exc:
                run.request_stop(str(exc))
            except PermanentAwsError as exc:
                run.request_stop(str(exc))
            except TransientAwsError:
                raise
            except Exception as exc:
                log.exception("executor crashed")
                run.request_stop(f"Internal error while invoking: {type(exc).__name__}: {exc}")
        stopping, _reason, _cancel = _stop_requested(run.pk)
        if stopping:
            _after_stop(run)
            return
        _complete_batch(run, result, batch, start, count)


def give_up_batch(run_id, result_id, batch: int, start: int, count: int, reason: str) -> None:
    """The batch's retries are exhausted (AWS kept throttling): the size fails, the run goes on."""
    run = TuningRun.objects.select_related("account").filter(pk=run_id).first()
    result = PowerResult.objects.filter(pk=result_id).first()
    if run is None or result is None:
        return
    with _run_context(run.id):
        result.mark_failing(f"Gave up at {result.memory_mb} MB after repeated retries: {reason}")
        _complete_batch(run, result, batch, start, count)


def _complete_batch(run, result, batch, start, count) -> None:
    done = Invocation.objects.filter(
        result=result, sequence__gte=start, sequence__lt=start + count
    ).count()
    if result.complete_batch(batch):
        if count > done:
            TuningRun.objects.filter(pk=run.pk).update(
                invocations_skipped=F("invocations_skipped") + (count - done)
            )
        finalize_size(run, result)
        run.refresh_from_db()
        _try_finish(run)
    elif count > done:
        TuningRun.objects.filter(pk=run.pk).update(
            invocations_skipped=F("invocations_skipped") + (count - done)
        )


def _after_stop(run) -> None:
    run.refresh_from_db()
    if run.stop_reason or run.cancel_requested:
        _stop_from(run, [Phase.INVOKING])


# =========================================================================== analysis


def _trimmed_decimal(values: list[Decimal], discard: float) -> Decimal | None:
    if not values:
        return None
    ordered = sorted(values)
    drop = int(len(ordered) * min(max(float(discard), 0.0), analysis.MAX_DISCARD))
    kept = ordered[drop : len(ordered) - drop]
    return sum(kept, Decimal(0)) / len(kept)


def finalize_size(run, result) -> None:
    """Statistics of one size from its stored invocations; SUCCEEDED or FAILED."""
    result.refresh_from_db()
    rows = list(result.invocations.all())
    ok = [r for r in rows if not r.error_type and r.duration_ms is not None]
    errors = sum(1 for r in rows if r.error_type)
    fields: dict = {
        "invocations_done": len(rows),
        "errors": errors,
        "cold_starts": sum(1 for r in rows if r.cold_start),
        "finished_at": timezone.now(),
    }
    if ok:
        stats = analysis.summarize([r.duration_ms for r in ok], run.discard_fraction)
        billed = [r.billed_duration_ms for r in ok if r.billed_duration_ms is not None]
        costs = [r.cost_usd for r in ok if r.cost_usd is not None]
        used = [r.max_memory_used_mb for r in rows if r.max_memory_used_mb is not None]
        fields.update(
            avg_duration_ms=stats.trimmed_mean,
            mean_duration_ms=stats.mean,
            min_duration_ms=stats.min,
            max_duration_ms=stats.max,
            p50_duration_ms=stats.p50,
            p95_duration_ms=stats.p95,
            p99_duration_ms=stats.p99,
            stdev_duration_ms=stats.stdev,
            ci95_low_ms=stats.ci95_low,
            ci95_high_ms=stats.ci95_high,
            noisy=stats.noisy,
            avg_billed_duration_ms=analysis.trimmed_mean(billed, run.discard_fraction)
            if billed
            else None,
            avg_cost_usd=_trimmed_decimal(costs, run.discard_fraction),
            max_memory_used_mb=max(used) if used else None,
        )
    reason = result.error_message
    if not reason and rows and errors / len(rows) > run.max_error_share:
        last = next(r for r in reversed(rows) if r.error_type)
        reason = (
            f"{errors} of {len(rows)} invocations failed (more than {run.max_error_share:.0%} "
            f"allowed); last error: {last.error_type}: {last.error_message}"
        )
    if not reason and not ok:
        reason = f"No successful invocation at {result.memory_mb} MB."
    fields["status"] = ResultStatus.FAILED if reason else ResultStatus.SUCCEEDED
    fields["error_message"] = reason
    PowerResult.objects.filter(pk=result.pk, status__in=OPEN_RESULT_STATUSES).update(**fields)


def _rec(result) -> dict | None:
    if result is None:
        return None
    return {
        "memory_mb": result.memory_mb,
        "avg_cost_usd": money(result.avg_cost_usd),
        "avg_duration_ms": result.avg_duration_ms,
    }


def build_analysis(run) -> dict:
    """The run's stored analysis (shape documented in tuning/serializers.py)."""
    results = list(run.results.order_by("memory_mb"))
    candidates = [
        analysis.Candidate(
            memory_mb=r.memory_mb,
            avg_cost_usd=r.avg_cost_usd,
            avg_duration_ms=r.avg_duration_ms,
            failed=r.status != ResultStatus.SUCCEEDED,
        )
        for r in results
        if r.avg_cost_usd is not None and r.avg_duration_ms is not None
    ]
    by_size = {r.memory_mb: r for r in results}
    recommendation = {}
    for strategy in analysis.STRATEGIES:
        pick = analysis.recommend(candidates, strategy, run.balanced_weight)
        recommendation[strategy] = _rec(by_size[pick.memory_mb]) if pick else None
    original_mb = (run.original_config or {}).get("MemorySize")
    baseline = by_size.get(original_mb)
    best = recommendation.get(run.strategy)
    comparison = None
    if best and baseline is not None and baseline.status == ResultStatus.SUCCEEDED:
        base_cost = baseline.avg_cost_usd
        base_duration = baseline.avg_duration_ms
        comparison = {
            "memory_mb": original_mb,
            "avg_cost_usd": money(base_cost),
            "avg_duration_ms": base_duration,
            "cost_change": float((Decimal(best["avg_cost_usd"]) - base_cost) / base_cost)
            if base_cost
            else None,
            "duration_change": (best["avg_duration_ms"] - base_duration) / base_duration
            if base_duration
            else None,
        }
    return {
        "version": 1,
        "computed_at": timezone.now().isoformat(),
        "strategy": run.strategy,
        "balanced_weight": run.balanced_weight,
        "discard_fraction": run.discard_fraction,
        "architecture": run.architecture,
        "region": run.region,
        "recommendation": recommendation,
        "best": best,
        "pareto_frontier": [c.memory_mb for c in analysis.pareto_frontier(candidates)],
        "failed_sizes": [r.memory_mb for r in results if r.status == ResultStatus.FAILED],
        "noisy_sizes": [r.memory_mb for r in results if r.noisy],
        "original": comparison,
    }


def _try_finish(run) -> None:
    """The last executor (or the publisher, if executors were faster) finishes the run."""
    if not run.claim_finish():
        run.refresh_from_db()
        if run.stop_reason or run.cancel_requested:
            _stop_from(run, [Phase.INVOKING])
        return
    with _Heartbeat(run.id, always=True):
        status, message = RunStatus.SUCCEEDED, ""
        try:
            run.analysis = build_analysis(run)
            run.save(update_fields=["analysis"])
            if not run.analysis["recommendation"].get(run.strategy):
                failures = "; ".join(
                    f"{r.memory_mb} MB: {r.error_message}"
                    for r in run.results.filter(status=ResultStatus.FAILED)
                )
                status, message = RunStatus.FAILED, f"No memory size succeeded. {failures}"
        except Exception as exc:
            log.exception("analysis failed")
            status, message = RunStatus.FAILED, f"Analysis failed: {type(exc).__name__}: {exc}"
        run.claim_cleanup(from_phases=[Phase.ANALYSING])
        _cleanup_and_finish(run, status, message)


# =========================================================================== stop & cleanup


def stop_run(run_id) -> None:
    """Cancel task: clean up a run whose stop/cancel was requested (when publishing is over;
    during publishing the publisher does it itself)."""
    run = TuningRun.objects.select_related("account").filter(pk=run_id).first()
    if run is None:
        return
    with _run_context(run.id):
        _stop_from(run, [Phase.INVOKING])


def _stop_from(run, phases) -> bool:
    run.refresh_from_db()
    if not (run.stop_reason or run.cancel_requested):
        return False
    cancelled = run.cancel_requested and not run.stop_reason
    reason = run.stop_reason or run.error_message or "Cancelled."
    if not run.claim_cleanup(from_phases=phases, reason=reason):
        return False
    with _Heartbeat(run.id, always=True):
        _cleanup_and_finish(run, RunStatus.CANCELLED if cancelled else RunStatus.FAILED, reason)
    return True


def cleanup(run) -> tuple[list[str], dict | None]:
    """Restore $LATEST, delete every alias and version this run created. Idempotent; returns
    what could not be cleaned up (messages, [] when everything is clean) and $LATEST's
    configuration as last read (None when it could not be read).

    Deletions are serial on purpose: Lambda allows about 15 control-plane requests per
    second, so parallel deletes would only trade a few milliseconds for throttling."""
    problems = []
    latest = None
    acct, region, name = run.account, run.region, run.function_name
    try:
        prefix = run.alias_prefix + "-"
        for alias in _retrying(aws.list_aliases, acct, region, name):
            if alias["name"].startswith(prefix):
                _retrying(aws.delete_alias, acct, region, name, alias["name"])
        for version in _retrying(aws.list_versions, acct, region, name):
            if version["description"].startswith(run.version_marker):
                _retrying(aws.delete_version, acct, region, name, version["version"])
    except AwsError as exc:
        if exc.code in aws.NOT_FOUND_CODES:
            return [], None  # the function is gone: nothing left to clean
        problems.append(f"aliases/versions of the run could not all be deleted: {exc}")
    try:
        # Last, so the deletions overlap an update still in progress; waits until $LATEST
        # is settled with its original configuration.
        latest = _restore_latest(run)
    except AwsError as exc:
        if exc.code not in aws.NOT_FOUND_CODES:
            problems.append(f"$LATEST could not be restored: {exc}")
    return problems, latest


def _cleanup_and_finish(run, status: str, message: str) -> None:
    run.refresh_from_db()
    problems, latest = cleanup(run)
    code_now = (latest or {}).get("code_sha256")
    if status == RunStatus.SUCCEEDED and code_now and code_now != run.original_code_sha256:
        # The sweep's last code check, on the configuration the restore has just read.
        message = _code_changed_message(run.original_code_sha256, code_now)
        status = RunStatus.FAILED
    open_status = ResultStatus.CANCELLED if status == RunStatus.CANCELLED else ResultStatus.FAILED
    run.results.filter(status__in=OPEN_RESULT_STATUSES).update(
        status=open_status,
        error_message="Not measured: the run stopped before this size finished.",
        finished_at=timezone.now(),
    )
    if status == RunStatus.SUCCEEDED and run.auto_apply_target and not problems:
        try:
            apply_memory(run, None, target=run.auto_apply_target, _during_run=True)
        except (AwsError, ValueError, SweepRefused) as exc:
            message = f"Auto-apply to {run.auto_apply_target} failed: {exc}"
    if problems:
        note = "Cleanup incomplete: " + "; ".join(problems)
        message = f"{message} {note}".strip() if message else note
        if status == RunStatus.SUCCEEDED:
            status = RunStatus.FAILED
    run.finish(status, message)
    log.info("sweep finished: %s %s", status, message)


def reap_stale_runs(stale_seconds: int | None = None) -> list[str]:
    """Clean up RUNNING runs whose heartbeat is older than the threshold (their worker died)
    and fail PENDING runs no worker started for a long time. Returns the ids handled."""
    stale = int(
        stale_seconds if stale_seconds is not None else settings.TUNEBOARD_STALE_RUN_SECONDS
    )
    now = timezone.now()
    cutoff = now - dt.timedelta(seconds=stale)
    handled = []
    for run in TuningRun.objects.select_related("account").filter(
        status=RunStatus.RUNNING, heartbeat_at__lt=cutoff
    ):
        reason = (
            f"The worker running this sweep stopped responding (no heartbeat for over {stale} s); "
            "Tuneboard deleted the run's aliases and versions and restored $LATEST."
        )
        if run.stop_reason:
            reason = f"{run.stop_reason} ({reason})"
        with _run_context(run.id):
            if not run.claim_stale(cutoff, reason):
                continue
            log.warning("reaping stale run (phase %s)", run.phase)
            with _Heartbeat(run.id, always=True):
                _cleanup_and_finish(run, RunStatus.FAILED, reason)
        handled.append(str(run.id))
    pending_cutoff = now - dt.timedelta(seconds=max(600, 5 * stale))
    for run in TuningRun.objects.filter(status=RunStatus.PENDING, created_at__lt=pending_cutoff):
        updated = TuningRun.objects.filter(pk=run.pk, status=RunStatus.PENDING).update(
            status=RunStatus.FAILED,
            phase=Phase.DONE,
            finished_at=now,
            error_message="No worker started this sweep in time; is a Celery worker consuming "
            "the 'sweeps' queue?",
        )
        if updated:
            run.results.filter(status__in=OPEN_RESULT_STATUSES).update(
                status=ResultStatus.CANCELLED
            )
            handled.append(str(run.id))
    close_old_connections()
    return handled


# =========================================================================== apply


def apply_memory(run, user, target="$LATEST", memory_mb=None, *, _during_run=False) -> None:
    """Set the winning (or given) size on $LATEST or on an alias; recorded on the run.

    For an alias, a version with that memory is published from $LATEST (only when $LATEST
    runs the same code as the alias's version) and the alias is pointed at it; $LATEST's
    memory is put back afterwards.
    """
    target = (target or "$LATEST").strip()
    if not _during_run and run.status != RunStatus.SUCCEEDED:
        raise ValueError("Only a succeeded run can be applied.")
    if target != "$LATEST" and not _ALIAS_RE.match(target):
        raise ValueError(f"{target!r} is not $LATEST or an alias name.")
    if memory_mb is None:
        rec = run.recommendation()
        if not rec:
            raise ValueError("The run has no recommendation to apply.")
        memory_mb = rec["memory_mb"]
    memory_mb = _int(memory_mb, "Memory size (MB)", MIN_MEMORY_MB, MAX_MEMORY_MB)
    if not run.results.filter(memory_mb=memory_mb, status=ResultStatus.SUCCEEDED).exists():
        raise ValueError(f"{memory_mb} MB did not succeed in this run; choose a size that did.")
    others = TuningRun.objects.filter(
        function_key=run.function_key, status__in=ACTIVE_STATUSES
    ).exclude(pk=run.pk)
    if others.exists():
        raise _refusal(run.function_key, run.function_name)
    acct, region, name = run.account, run.region, run.function_name
    latest = _retrying(aws.get_function_configuration, acct, region, name)
    if latest["last_update_status"] == "InProgress":
        _retrying(aws.wait_updated, acct, region, name)
    if target == "$LATEST":
        _retrying(aws.update_configuration, acct, region, name, memory_mb=memory_mb)
        _retrying(aws.wait_updated, acct, region, name)
    else:
        alias = _retrying(aws.get_alias, acct, region, name, target)
        current = _retrying(aws.get_function_configuration, acct, region, name, alias["version"])
        if current["code_sha256"] != latest["code_sha256"]:
            raise ValueError(
                f"Alias {target} points at version {alias['version']}, whose code differs from "
                "$LATEST; Lambda can only publish from $LATEST. Apply to $LATEST, or deploy that "
                "code to $LATEST first."
            )
        previous_mb = latest["memory_mb"]
        _retrying(aws.update_configuration, acct, region, name, memory_mb=memory_mb)
        _retrying(aws.wait_updated, acct, region, name)
        try:
            published = _retrying(
                aws.publish_version,
                acct,
                region,
                name,
                f"Tuneboard: {memory_mb} MB applied from run {run.id}",
                latest["code_sha256"],
            )
            _retrying(aws.update_alias, acct, region, name, target, published["version"])
        finally:
            _retrying(aws.update_configuration, acct, region, name, memory_mb=previous_mb)
            _retrying(aws.wait_updated, acct, region, name)
    TuningRun.objects.filter(pk=run.pk).update(
        applied_memory_mb=memory_mb,
        applied_to=target,
        applied_at=timezone.now(),
        applied_by=user if getattr(user, "pk", None) else None,
    )
    run.refresh_from_db()
    log.info("applied %s MB to %s:%s", memory_mb, name, target)


__all__ = [
    "CodeChanged",
    "InvalidSweep",
    "SweepRefused",
    "Strategy",
    "apply_memory",
    "build_analysis",
    "cleanup",
    "finalize_size",
    "give_up_batch",
    "parse_function",
    "payload_plan",
    "plan_batches",
    "reap_stale_runs",
    "request_cancel",
    "rerun",
    "run_batch",
    "start_run",
    "start_sweep",
    "stop_run",
]
