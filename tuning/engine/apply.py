"""Apply: set a run's winning (or a chosen) size on $LATEST or on an alias.

A user's apply is a ``MemoryChange`` done by a worker (``run_change``) while the run owns the
function again (``TuningRun.claim_apply``): no sweep or other apply can change it meanwhile.
A run's auto-apply happens during its own cleanup, while it still owns the function.
"""

from __future__ import annotations

import logging

from aws.errors import NOT_FOUND_CODES
from aws.retry import retrying
from tuning import aws
from tuning.aws import AwsError, PermanentAwsError
from tuning.engine.liveness import run_context
from tuning.engine.target import configuration_differences
from tuning.models import MemoryChange, ResultStatus
from tuning.params import ALIAS_RE, MAX_MEMORY_MB, MIN_MEMORY_MB

log = logging.getLogger(__name__)


def validate_apply(run, target: str, memory_mb) -> tuple[str, int]:
    """The target and size an apply of ``run`` would set (None: the recommendation);
    ValueError with a message for users."""
    target = (target or "$LATEST").strip()
    if run.imported_from:
        raise ValueError("An imported run cannot be applied: Tuneboard did not measure it.")
    if target != "$LATEST" and not ALIAS_RE.match(target):
        raise ValueError(f"{target!r} is not $LATEST or an alias name.")
    if memory_mb is None:
        rec = run.recommendation()
        if not rec:
            raise ValueError("The run has no recommendation to apply.")
        memory_mb = rec["memory_mb"]
    if isinstance(memory_mb, bool) or not isinstance(memory_mb, int):
        raise ValueError(f"Memory size must be a whole number of MB, got {memory_mb!r}.")
    if not MIN_MEMORY_MB <= memory_mb <= MAX_MEMORY_MB:
        raise ValueError(f"Memory size must be between {MIN_MEMORY_MB} and {MAX_MEMORY_MB} MB.")
    if not run.results.filter(memory_mb=memory_mb, status=ResultStatus.SUCCEEDED).exists():
        raise ValueError(f"{memory_mb} MB did not succeed in this run; choose a size that did.")
    return target, memory_mb


def run_change(change_id: int) -> None:
    """Worker: make a queued MemoryChange, record how it went, and release the function."""
    change = (
        MemoryChange.objects.select_related("run__account", "requested_by")
        .filter(pk=change_id, state=MemoryChange.State.QUEUED)
        .first()
    )
    if change is None:
        return
    run = change.run
    with run_context(run.id):
        try:
            change.state = MemoryChange.State.APPLYING
            change.save(update_fields=["state"])
            _make(run, change)
        finally:
            run.release_apply()


def auto_apply(run) -> str:
    """The run's auto-apply of its recommendation ("" when done, else why not)."""
    rec = run.recommendation()
    change = MemoryChange.objects.create(
        run=run,
        target=run.auto_apply_target,
        memory_mb=rec["memory_mb"] if rec else 0,
        state=MemoryChange.State.APPLYING,
    )
    return _make(run, change)


def _make(run, change) -> str:
    try:
        change.target, change.memory_mb = validate_apply(run, change.target, change.memory_mb)
        _set_memory(run, change)
    except (AwsError, ValueError) as exc:
        change.close(MemoryChange.State.FAILED, str(exc))
        log.warning("apply of %s MB to %s failed: %s", change.memory_mb, change.target, exc)
        return f"Applying {change.memory_mb} MB to {change.target} failed: {exc}"
    change.close(MemoryChange.State.DONE, change.message)
    run.record_applied(change.memory_mb, change.target, change.requested_by)
    log.info("applied %s MB to %s (was %s MB)", change.memory_mb, change.target, change.previous_mb)
    return ""


def _set_memory(run, change) -> None:
    """For an alias, a version with the size is published from $LATEST (only when $LATEST
    runs the same code as the alias's version) and the alias is pointed at it; $LATEST's
    memory is put back afterwards. The previous size is recorded before anything changes."""
    acct, region, name = run.account, run.region, run.lambda_function
    target, memory_mb = change.target, change.memory_mb
    latest = retrying(aws.get_function_configuration, acct, region, name)
    if latest["last_update_status"] == "InProgress":
        retrying(aws.wait_updated, acct, region, name)
        latest = retrying(aws.get_function_configuration, acct, region, name)
    if target == "$LATEST":
        change.previous_mb = latest["memory_mb"]
        change.save(update_fields=["previous_mb"])
        retrying(aws.update_configuration, acct, region, name, memory_mb=memory_mb)
        retrying(aws.wait_updated, acct, region, name)
        return
    alias = _alias_or_none(acct, region, name, target)
    if alias is not None:
        current = retrying(aws.get_function_configuration, acct, region, name, alias["version"])
        differences = configuration_differences(current["raw"], latest["raw"])
        if differences:
            # The new version is $LATEST at the new size: it would change more than memory.
            raise ValueError(
                f"Alias {target} points at version {alias['version']}, which differs from "
                f"$LATEST in {', '.join(differences)}; Lambda can only publish from $LATEST, so "
                "the alias would get $LATEST's code and configuration. Apply to $LATEST, or "
                "deploy that version's configuration to $LATEST first."
            )
        change.previous_mb = current["memory_mb"]
        change.save(update_fields=["previous_mb"])
    retrying(aws.update_configuration, acct, region, name, memory_mb=memory_mb)
    retrying(aws.wait_updated, acct, region, name)
    try:
        published = retrying(
            aws.publish_version,
            acct,
            region,
            name,
            f"Tuneboard: {memory_mb} MB applied from run {run.id}",
            latest["code_sha256"],
        )
        # With SnapStart the version is Pending at first: live traffic through the alias
        # would fail until it is Active.
        if published["state"] != "Active":
            retrying(aws.wait_version_active, acct, region, name, published["version"])
        if alias is not None:
            retrying(aws.update_alias, acct, region, name, target, published["version"])
        else:
            _create_alias(run, change, published["version"])
    finally:
        retrying(aws.update_configuration, acct, region, name, memory_mb=latest["memory_mb"])
        retrying(aws.wait_updated, acct, region, name)


def _alias_or_none(acct, region: str, name: str, target: str) -> dict | None:
    try:
        return retrying(aws.get_alias, acct, region, name, target)
    except PermanentAwsError as exc:
        if exc.code in NOT_FOUND_CODES:
            return None
        raise


def _create_alias(run, change, version: str) -> None:
    """A missing alias is created on the version just published (as Power Tuning's
    autoOptimizeAlias does); if that fails, the version goes too: nothing is left half-made."""
    acct, region, name = run.account, run.region, run.lambda_function
    try:
        retrying(aws.create_alias, acct, region, name, change.target, version)
    except AwsError as exc:
        try:
            retrying(aws.delete_version, acct, region, name, version)
        except AwsError as left:  # say what is left rather than hide it
            raise AwsError(
                f"{exc} Version {version}, published for the alias, could not be deleted "
                f"({left}): delete it by hand.",
                code=exc.code,
            ) from exc
        raise
    change.message = f"Alias {change.target} did not exist: created on version {version}."
