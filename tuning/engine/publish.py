"""Publishing: claim the run, then for each size update $LATEST, publish a version, wait until
it can be invoked (with SnapStart it is Pending until Lambda has made its snapshot) and point an
alias at it, strictly serially (Lambda accepts one configuration update at a time). Each size's
executor batches are enqueued as soon as its alias exists, so earlier sizes are measured while
later ones are still publishing."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aws.retry import retrying
from tuning import aws, s3payload
from tuning.aws import AwsError, PermanentAwsError
from tuning.engine.copy import create_copy
from tuning.engine.execute import batch_threads
from tuning.engine.finish import stop_from, try_finish
from tuning.engine.latest import (
    COLD_START_ENV_VAR,
    FunctionChanged,
    code_changed_message,
    record_original,
    restore_latest,
)
from tuning.engine.liveness import Heartbeat, Stop, run_context, stop_requested
from tuning.engine.target import TargetRefused, resolve_and_own
from tuning.models import Phase, ResultStatus, SweepRefused, TuningRun
from tuning.s3payload import PayloadUnavailable

log = logging.getLogger(__name__)

#: ``enqueue_batch(run_id, result_id, batch, start, count)`` hands one executor batch to a worker.
EnqueueBatch = Callable[[str, int, int, int, int], object]


def start_sweep(run_id, enqueue_batch: EnqueueBatch) -> None:
    """Worker side of a sweep: claim, record, publish serially, hand over to executors."""
    run = TuningRun.objects.select_related("account").filter(pk=run_id).first()
    if run is None:
        log.warning("run %s does not exist", run_id)
        return
    with run_context(run.id):
        if not run.claim_start():
            log.info("run already claimed (status %s); nothing to do", run.status)
            return
        log.info("sweep of %s started: %s MB", run.function_name, run.memory_sizes)
        with Heartbeat(run.id, always=True):
            try:
                identity = resolve_and_own(run)
                if run.copy_of_id:  # a companion run sweeps a copy with the other architecture
                    create_copy(run, identity)
                if run.payload_s3:  # fail before the function is touched
                    s3payload.read_payload(run.account, run.region, run.payload_s3)
                environment = record_original(run)
                _publish_all(run, enqueue_batch, environment)
            except Stop:
                pass
            except (FunctionChanged, TargetRefused, SweepRefused, PayloadUnavailable) as exc:
                run.request_stop(str(exc))
            except AwsError as exc:
                log.warning("sweep stopped: %s", exc)
                run.request_stop(str(exc))
            except Exception as exc:
                log.exception("sweep crashed while publishing")
                run.request_stop(f"Internal error while publishing: {type(exc).__name__}: {exc}")
            run.refresh_from_db()
            if run.stop_reason or run.cancel_requested:
                stop_from(run, [Phase.PUBLISHING])
                return
            if run.mark_published():
                run.refresh_from_db()
                if run.stop_reason or run.cancel_requested:
                    stop_from(run, [Phase.INVOKING])
                else:
                    try_finish(run)


def plan_batches(run) -> list[tuple[int, int]]:
    """(first sequence, count) of each executor task of one size.

    Serial: one task per size. Parallel: batches of twice the threads a batch runs (at least
    10), so several worker processes/machines share a size's work and a high concurrency cap
    fans out into more batches rather than more threads.
    """
    n = run.invocations_per_size
    if not run.parallel:
        return [(0, n)]
    size = max(10, 2 * batch_threads(run))
    return [(start, min(size, n - start)) for start in range(0, n, size)]


def _check_publisher(run) -> None:
    if stop_requested(run.pk):
        raise Stop


def _publish_one(run, memory_mb: int, alias: str, description: str, environment=None) -> dict:
    acct, region, name = run.account, run.region, run.lambda_function
    retrying(
        aws.update_configuration, acct, region, name, memory_mb=memory_mb, environment=environment
    )
    retrying(aws.wait_updated, acct, region, name)
    try:
        published = retrying(
            aws.publish_version, acct, region, name, description, run.original_code_sha256
        )
    except PermanentAwsError as exc:
        if "CodeSHA256" in exc.message or "CodeSha256" in exc.message:
            latest = retrying(aws.get_function_configuration, acct, region, name)
            raise FunctionChanged(
                code_changed_message(run.original_code_sha256, latest["code_sha256"])
            ) from exc
        raise
    if published["code_sha256"] != run.original_code_sha256:
        raise FunctionChanged(
            code_changed_message(run.original_code_sha256, published["code_sha256"])
        )
    if published["memory_mb"] != memory_mb:
        # Someone else changed $LATEST between our update and the publish.
        raise FunctionChanged(
            f"Version {published['version']} was published with {published['memory_mb']} MB "
            f"instead of {memory_mb} MB: another change to the function's configuration "
            "overlapped the sweep. Nothing of it was measured; start a new sweep."
        )
    if published["state"] != "Active":  # SnapStart: Pending until its snapshot is made
        retrying(aws.wait_version_active, acct, region, name, published["version"])
    retrying(aws.create_alias, acct, region, name, alias, published["version"])
    return published


def _publish_all(run, enqueue_batch: EnqueueBatch, environment: dict) -> None:
    """``environment``: $LATEST's variables as read at the start (cold-starts mode adds one)."""
    for result in run.results.order_by("memory_mb"):
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
                    environment={
                        **environment,
                        COLD_START_ENV_VAR: f"{run.id.hex[:12]}-{mb}-{seq}",
                    },
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
            enqueue_batch(str(run.id), result.pk, index, start, count)
    restore_latest(run, wait=False)
