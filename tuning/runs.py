"""The commands users trigger — start, re-run, cancel, apply — shared by the web pages, the
JSON API and ``manage.py sweep``. They write rows and enqueue the worker's tasks on commit;
the work itself is in ``tuning.engine``."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from tuning import aws
from tuning.aws import AwsError
from tuning.engine.apply import validate_apply
from tuning.engine.target import account_mismatch
from tuning.models import (
    OPEN_RESULT_STATUSES,
    MemoryChange,
    Phase,
    PowerResult,
    ResultStatus,
    RunStatus,
    SweepRefused,
    TuningRun,
)
from tuning.params import InvalidSweep, SweepParams
from tuning.signals import announce_finished
from tuning.tasks import apply_memory_task, cancel_sweep_task, start_sweep_task

log = logging.getLogger(__name__)

#: Why a companion run of an architecture comparison has no "Apply".
COPY_NOT_APPLIED = (
    "This run measured a temporary copy of the function with another architecture; the copy "
    "was deleted when the run ended. Switching architecture needs a code deploy (a package "
    "built for it): apply a memory size from the run on the function itself."
)

#: Permission needed to start a sweep (and to re-run or import one).
START_PERMISSION = "tuning.add_tuningrun"
#: Permission needed to change a function's memory: auto-apply and "Apply" on a run.
APPLY_PERMISSION = "tuning.change_tuningrun"


def can_start(user) -> bool:
    return bool(user and user.has_perm(START_PERMISSION))


def can_apply(user) -> bool:
    return bool(user and user.has_perm(APPLY_PERMISSION))


def can_control(user, run) -> bool:
    """Cancel: whoever may start sweeps, and the run's own creator."""
    return can_start(user) or bool(run.created_by_id and run.created_by_id == user.pk)


def provisional_key(params: SweepParams) -> str:
    """The run's key for the one-owner rule until its worker resolves the function's ARN: the
    ARN itself when the user gave one, else account row, region and name (so a second sweep
    named the same way is refused at once; any other spelling is refused by the worker)."""
    ref = params.target
    if ref.unqualified_arn:
        return ref.unqualified_arn
    account = params.account
    return f"{account.pk if account else '-'}:{params.region}:{ref.name}"


def check_account(params: SweepParams) -> None:
    """InvalidSweep when the ARN names another AWS account than the sweep's credentials act
    in. When STS cannot be asked here, the worker asks again before touching anything."""
    try:
        mismatch = account_mismatch(params.function, params.account, params.region)
    except AwsError as exc:
        log.warning("account of %s not checked before queueing: %s", params.function, exc)
        return
    if mismatch:
        raise InvalidSweep(mismatch, "function")


def check_concurrency(params: SweepParams) -> None:
    """InvalidSweep when a parallel sweep asks for more invocations at once than the account
    has unreserved concurrency in the region (it would throttle every other function). Not
    checked when Lambda cannot be asked (the cap of the account still holds)."""
    if not params.parallel:
        return
    try:
        unreserved = aws.cached_unreserved_concurrency(params.account, params.region)
    except AwsError as exc:
        log.warning("unreserved concurrency not checked: %s", exc)
        return
    if params.concurrency > unreserved:
        raise InvalidSweep(
            f"The account has {unreserved} unreserved concurrent executions in {params.region}: "
            f"{params.concurrency} at once would throttle its other functions. Ask for at most "
            f"{unreserved}.",
            "concurrency",
        )


def start_run(params: SweepParams, *, created_by=None) -> TuningRun:
    """Create the PENDING run and its per-size rows; enqueue the sweep on commit.

    InvalidSweep for an ARN of another account; SweepRefused when the function already has
    an active sweep.
    """
    check_account(params)
    check_concurrency(params)
    key = provisional_key(params)
    owner = TuningRun.objects.owner_named(params.account, params.region, params.target.name)
    if owner is not None:  # resolved by its worker: its key is the ARN, no longer ``key``
        raise SweepRefused.for_function(owner.function_key, params.target.name)
    try:
        with transaction.atomic():
            run = TuningRun.objects.create(
                **params.run_fields(),
                function_key=key,
                status=RunStatus.PENDING,
                phase=Phase.QUEUED,
                created_by=created_by if getattr(created_by, "pk", None) else None,
            )
            PowerResult.objects.bulk_create(
                PowerResult(run=run, memory_mb=mb) for mb in params.memory_sizes
            )
            copy = _companion_run(run, params) if params.compare_architectures else None
    except IntegrityError as exc:
        if "one_owner_per_function" in str(exc) or TuningRun.objects.active_on(key).exists():
            raise SweepRefused.for_function(key, params.target.name) from None
        raise
    for queued in (run, copy) if copy else (run,):
        run_id = str(queued.id)
        transaction.on_commit(lambda run_id=run_id: start_sweep_task.delay(run_id))
        log.info("sweep of %s queued", run.function_name, extra={"run_id": run_id})
    return run


def _companion_run(run, params: SweepParams) -> TuningRun:
    """The run that sweeps a temporary copy of ``run``'s function with the other architecture
    (its worker names and creates the copy). It never applies anything: its function is
    deleted when it ends."""
    fields = {
        **params.run_fields(),
        "compare_architectures": False,
        "auto_apply_target": "",
        "qualifier": "",  # the copy is made from $LATEST, which the run checks is the same
    }
    copy = TuningRun.objects.create(
        **fields,
        copy_of=run,
        function_key=f"copy-of:{run.id}",  # until its worker resolves the copy's ARN
        status=RunStatus.PENDING,
        phase=Phase.QUEUED,
        created_by=run.created_by,
    )
    PowerResult.objects.bulk_create(
        PowerResult(run=copy, memory_mb=mb) for mb in params.memory_sizes
    )
    return copy


def rerun(run, user) -> TuningRun:
    """A new run with the same parameters (InvalidSweep for a run that cannot be repeated,
    e.g. an imported one). PermissionDenied when the user may not start it, or when it would
    apply a size automatically and the user may not change functions. A companion run repeats
    the whole architecture comparison."""
    run = run.copy_of if run.copy_of_id else run
    if not can_start(user) or (run.auto_apply_target and not can_apply(user)):
        raise PermissionDenied(
            f"Re-running this sweep needs the “{START_PERMISSION}” permission"
            + (
                f" and, as it applies its winner, “{APPLY_PERMISSION}”."
                if run.auto_apply_target
                else "."
            )
        )
    return start_run(SweepParams.from_run(run), created_by=user)


def request_cancel(run, user=None) -> None:
    """Cancel a run: a PENDING one at once; a RUNNING one stops invoking and is cleaned up
    (CANCELLED). A finished run is left as it is. Both runs of an architecture comparison
    stop together."""
    partner = run.architecture_partner()
    _cancel_one(run, user)
    if partner is not None:
        _cancel_one(partner, user)


def _cancel_one(run, user=None) -> None:
    who = f"Cancelled by {user.get_username()}." if getattr(user, "pk", None) else "Cancelled."
    if run.cancel_pending():
        TuningRun.objects.filter(pk=run.pk).update(error_message=who)
        run.results.filter(status__in=OPEN_RESULT_STATUSES).update(status=ResultStatus.CANCELLED)
        run.refresh_from_db()
        announce_finished(run)
        return
    updated = TuningRun.objects.filter(
        pk=run.pk, status=RunStatus.RUNNING, cancel_requested=False
    ).update(cancel_requested=True, error_message=who)
    if updated:
        run_id = str(run.pk)
        transaction.on_commit(lambda: cancel_sweep_task.delay(run_id))
    run.refresh_from_db()


def resolve_cleanup(run, user) -> None:
    """A user with the apply permission states that what the run's cleanup left was removed by
    hand: the function is released (recorded on the run). PermissionDenied otherwise."""
    if not can_apply(user):
        raise PermissionDenied(f"Marking a cleanup resolved needs “{APPLY_PERMISSION}”.")
    run.resolve_cleanup(user)


def request_apply(run, user, *, target: str, memory_mb: int) -> MemoryChange:
    """Queue the apply of a size of a succeeded run to $LATEST or an alias: a worker makes it
    while the run owns the function. PermissionDenied without the apply permission; ValueError
    for a size or target that cannot be applied; SweepRefused while something else is
    changing the function."""
    if not can_apply(user):
        raise PermissionDenied(f"Applying a size needs “{APPLY_PERMISSION}”.")
    if run.is_architecture_copy:
        raise ValueError(COPY_NOT_APPLIED)
    if run.status != RunStatus.SUCCEEDED:
        raise ValueError("Only a succeeded run can be applied.")
    target, memory_mb = validate_apply(run, target, memory_mb)
    with transaction.atomic():
        run.claim_apply()
        change = MemoryChange.objects.create(
            run=run, target=target, memory_mb=memory_mb, requested_by=user
        )
    change_id = change.pk
    transaction.on_commit(lambda: apply_memory_task.delay(change_id))
    log.info("apply of %s MB to %s queued", memory_mb, target, extra={"run_id": str(run.id)})
    return change
