"""Finishing a run: statistics per size, the analysis, cleanup of everything the run created
(on success, failure, cancel and worker death alike) and the reaper that finds dead runs."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.utils import timezone

from aws.retry import retrying
from tuning import analysis, aws
from tuning.aws import AwsError
from tuning.engine.apply import auto_apply
from tuning.engine.copy import delete_copy
from tuning.engine.latest import code_changed_message, restore_latest
from tuning.engine.liveness import Heartbeat, run_context
from tuning.models import (
    OPEN_RESULT_STATUSES,
    Phase,
    PowerResult,
    ResultStatus,
    RunStatus,
    TuningRun,
)
from tuning.signals import announce_finished

log = logging.getLogger(__name__)


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
    # An allowed error type is measured like a success and not held against the size.
    allowed = {r.pk for r in rows if r.error_type and r.error_type in run.allowed_exceptions}
    ok = [r for r in rows if (not r.error_type or r.pk in allowed) and r.duration_ms is not None]
    errors = sum(1 for r in rows if r.error_type) - len(allowed)
    fields: dict = {
        "invocations_done": len(rows),
        "errors": errors + len(allowed),
        "allowed_errors": len(allowed),
        "cold_starts": sum(1 for r in rows if r.cold_start),
        "finished_at": timezone.now(),
    }
    if ok and not run.dry_run:  # a dry run only checks that each size answers
        # Cold-starts-only runs measure what a cold start costs in latency: init or restore
        # included (Power Tuning and Lambda's own cold start figures count them too).
        measured = [r.measured_ms(with_start=run.cold_starts_only) for r in ok]
        stats = analysis.summarize(measured, run.discard_fraction)
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
        last = next(r for r in reversed(rows) if r.error_type and r.pk not in allowed)
        reason = (
            f"{errors} of {len(rows)} invocations failed (more than {run.max_error_share:.0%} "
            f"allowed); last error: {last.error_type}: {last.error_message}"
        )
    if not reason and not ok:
        reason = f"No successful invocation at {result.memory_mb} MB."
    fields["status"] = ResultStatus.FAILED if reason else ResultStatus.SUCCEEDED
    fields["error_message"] = reason
    PowerResult.objects.filter(pk=result.pk, status__in=OPEN_RESULT_STATUSES).update(**fields)


def try_finish(run) -> None:
    """The last executor (or the publisher, if executors were faster) finishes the run."""
    if not run.claim_finish():
        run.refresh_from_db()
        if run.stop_reason or run.cancel_requested:
            stop_from(run, [Phase.INVOKING])
        return
    with Heartbeat(run.id, always=True):
        status, message = RunStatus.SUCCEEDED, ""
        try:
            if run.dry_run:
                status, message = dry_run_outcome(run)
            else:
                run.store_analysis()
                if not run.recommendation():
                    failures = "; ".join(
                        f"{r.memory_mb} MB: {r.error_message}"
                        for r in run.results.filter(status=ResultStatus.FAILED)
                    )
                    status, message = RunStatus.FAILED, f"No memory size succeeded. {failures}"
        except Exception as exc:
            log.exception("analysis failed")
            status, message = RunStatus.FAILED, f"Analysis failed: {type(exc).__name__}: {exc}"
        run.claim_cleanup(from_phases=[Phase.ANALYSING])
        cleanup_and_finish(run, status, message)


def dry_run_outcome(run) -> tuple[str, str]:
    """A dry run succeeds when every size answered its one invocation; nothing is analysed."""
    failed = run.results.filter(status=ResultStatus.FAILED).order_by("memory_mb")
    if not failed:
        return RunStatus.SUCCEEDED, ""
    reasons = "; ".join(f"{r.memory_mb} MB: {r.error_message}" for r in failed)
    return RunStatus.FAILED, f"Dry run: {len(failed)} size(s) failed. {reasons}"


def stop_run(run_id) -> None:
    """Cancel task: clean up a run whose stop/cancel was requested (when publishing is over;
    during publishing the publisher does it itself)."""
    run = TuningRun.objects.select_related("account").filter(pk=run_id).first()
    if run is None:
        return
    with run_context(run.id):
        stop_from(run, [Phase.INVOKING])


def stop_from(run, phases) -> bool:
    """Clean up and finish a run asked to stop, if it is in one of ``phases``."""
    run.refresh_from_db()
    if not (run.stop_reason or run.cancel_requested):
        return False
    cancelled = run.cancel_requested and not run.stop_reason
    reason = run.stop_reason or run.error_message or "Cancelled."
    if not run.claim_cleanup(from_phases=phases, reason=reason):
        return False
    with Heartbeat(run.id, always=True):
        cleanup_and_finish(run, RunStatus.CANCELLED if cancelled else RunStatus.FAILED, reason)
    return True


def cleanup(run) -> tuple[str, dict | None]:
    """Restore $LATEST, delete every alias and version this run created. Idempotent; returns
    what is left in AWS ("" when everything is clean, else e.g. "2 versions, $LATEST memory
    (the error)") and $LATEST's configuration as last read (None when it could not be read).

    Deletions are serial on purpose: Lambda allows about 15 control-plane requests per
    second, so parallel deletes would only trade a few milliseconds for throttling.

    A companion run's function is its temporary copy: deleting it deletes all the run made."""
    if run.copy_of_id or run.copy_function:
        return delete_copy(run), None
    if not run.original_config:
        return "", None  # nothing is changed before the original configuration is recorded
    left, errors = [], []
    aliases = versions = None
    acct, region, name = run.account, run.region, run.lambda_function
    try:
        prefix = run.alias_prefix + "-"
        aliases = [
            a["name"]
            for a in retrying(aws.list_aliases, acct, region, name)
            if a["name"].startswith(prefix)
        ]
        versions = [
            v["version"]
            for v in retrying(aws.list_versions, acct, region, name)
            if v["description"].startswith(run.version_marker)
        ]
        for items, delete in ((aliases, aws.delete_alias), (versions, aws.delete_version)):
            while items:  # what is still in the list is what is left if a delete fails
                retrying(delete, acct, region, name, items[0])
                items.pop(0)
    except AwsError as exc:
        if exc.code in aws.NOT_FOUND_CODES:
            return "", None  # the function is gone: nothing left to clean
        errors.append(str(exc))
        if aliases is None or versions is None:
            left.append("the run's aliases and versions (not listed)")
        else:
            left += [_count(len(aliases), "alias", "aliases"), _count(len(versions), "version")]
    latest = None
    try:
        # Last, so the deletions overlap an update still in progress; waits until $LATEST
        # is settled with its original configuration.
        latest = restore_latest(run)
    except AwsError as exc:
        if exc.code not in aws.NOT_FOUND_CODES:
            left.append("$LATEST memory")
            errors.append(str(exc))
    left = [item for item in left if item]
    return (f"{', '.join(left)} ({'; '.join(errors)})" if left else ""), latest


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}" if n else ""


def cleanup_and_finish(run, status: str, message: str) -> None:
    run.refresh_from_db()
    left, latest = cleanup(run)
    code_now = (latest or {}).get("code_sha256")
    if status == RunStatus.SUCCEEDED and code_now and code_now != run.original_code_sha256:
        # The sweep's last code check, on the configuration the restore has just read.
        message = code_changed_message(run.original_code_sha256, code_now)
        status = RunStatus.FAILED
    open_status = ResultStatus.CANCELLED if status == RunStatus.CANCELLED else ResultStatus.FAILED
    run.results.filter(status__in=OPEN_RESULT_STATUSES).update(
        status=open_status,
        error_message="Not measured: the run stopped before this size finished.",
        finished_at=timezone.now(),
    )
    if status == RunStatus.SUCCEEDED and run.auto_apply_target and not left:
        message = auto_apply(run) or message
    try:
        # Its executors have stopped; a call still in flight after a cancel is not counted.
        run.store_sweep_cost()
    except Exception:  # the run must still finish and release its function
        log.exception("could not store the sweep's cost")
    if left:
        note = f"Cleanup pending: {left}. Tuneboard retries it."
        message = f"{message} {note}".strip() if message else note
        if status == RunStatus.SUCCEEDED:
            status = RunStatus.FAILED
    if run.finish(status, message, left=left):
        announce_finished(run)
    log.info("sweep finished: %s %s", status, message)
    try:  # after the run is final (whoever waits for it does not wait for plotly), before
        # most first viewers; a viewer who comes sooner has its page build them
        if not run.dry_run:
            # imported here: Plotly takes ~0.1 s to load, which a process that only queues
            # sweeps (``manage.py sweep``) would pay for nothing
            from tuning import charts

            charts.store_figures(run)
    except Exception:
        log.exception("could not build the figures of run %s", run.id)
