"""Apply: set the winning (or a chosen) size on $LATEST or on an alias, recorded on the run."""

from __future__ import annotations

import logging

from aws.retry import retrying
from tuning import aws
from tuning.models import ResultStatus, RunStatus, SweepRefused, TuningRun
from tuning.params import ALIAS_RE, MAX_MEMORY_MB, MIN_MEMORY_MB

log = logging.getLogger(__name__)


def apply_memory(run, user, target="$LATEST", memory_mb=None, *, during_run=False) -> None:
    """Set the winning (or given) size on $LATEST or on an alias; recorded on the run.

    For an alias, a version with that memory is published from $LATEST (only when $LATEST
    runs the same code as the alias's version) and the alias is pointed at it; $LATEST's
    memory is put back afterwards. ``during_run``: the run's own auto-apply, while it still
    owns the function.
    """
    target = (target or "$LATEST").strip()
    if not during_run and run.status != RunStatus.SUCCEEDED:
        raise ValueError("Only a succeeded run can be applied.")
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
    others = TuningRun.objects.active_on(run.function_key).exclude(pk=run.pk)
    if others.exists():
        raise SweepRefused.for_function(run.function_key, run.function_name)
    acct, region, name = run.account, run.region, run.lambda_function
    latest = retrying(aws.get_function_configuration, acct, region, name)
    if latest["last_update_status"] == "InProgress":
        retrying(aws.wait_updated, acct, region, name)
    if target == "$LATEST":
        retrying(aws.update_configuration, acct, region, name, memory_mb=memory_mb)
        retrying(aws.wait_updated, acct, region, name)
    else:
        alias = retrying(aws.get_alias, acct, region, name, target)
        current = retrying(aws.get_function_configuration, acct, region, name, alias["version"])
        if current["code_sha256"] != latest["code_sha256"]:
            raise ValueError(
                f"Alias {target} points at version {alias['version']}, whose code differs from "
                "$LATEST; Lambda can only publish from $LATEST. Apply to $LATEST, or deploy that "
                "code to $LATEST first."
            )
        previous_mb = latest["memory_mb"]
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
            retrying(aws.update_alias, acct, region, name, target, published["version"])
        finally:
            retrying(aws.update_configuration, acct, region, name, memory_mb=previous_mb)
            retrying(aws.wait_updated, acct, region, name)
    run.record_applied(memory_mb, target, user)
    log.info("applied %s MB to %s:%s", memory_mb, name, target)
