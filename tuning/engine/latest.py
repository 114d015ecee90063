"""``$LATEST`` as the run found it: recorded before the first change, checked for code changes,
and put back after the last publish and at cleanup."""

from __future__ import annotations

import logging

from django.utils import timezone

from aws.retry import retrying
from tuning import aws
from tuning.aws import PermanentAwsError
from tuning.engine.target import (
    TargetRefused,
    check_answer,
    configuration_differences,
    qualifier_mismatch_message,
)

log = logging.getLogger(__name__)

#: Set on $LATEST before each cold-starts-only publish, so every version is a new one.
COLD_START_ENV_VAR = "TUNEBOARD_COLD_START"


class FunctionChanged(Exception):
    """The function changed under the sweep (its code, or a configuration someone else set):
    its measurements would not be what they say; str() is for users."""


def code_changed_message(old: str, new: str) -> str:
    return (
        f"The function's code changed during the sweep (CodeSha256 {old} → {new}); the "
        "measurements would mix two versions of the code. Start a new sweep."
    )


def record_original(run) -> dict:
    """Store what the sweep will change (the memory size) and what it measures (the code),
    before any change. Returns ``$LATEST``'s environment variables for cold-starts mode: they
    are kept in memory only, never stored or logged (they often hold secrets)."""
    acct, region, name = run.account, run.region, run.lambda_function
    latest = retrying(aws.get_function_configuration, acct, region, name)
    if latest["last_update_status"] == "InProgress":
        retrying(aws.wait_updated, acct, region, name)
        latest = retrying(aws.get_function_configuration, acct, region, name)
    if run.qualifier and run.qualifier != "$LATEST":
        check_qualifier(run, latest["raw"])
    raw = latest["raw"]
    check_answer(run, raw.get("FunctionArn", ""))
    unreadable = (raw.get("Environment") or {}).get("Error")
    if run.cold_starts_only and unreadable:
        # Cold-starts mode sets a variable of its own and must put the others back as they are.
        raise PermanentAwsError(
            "Cold-starts mode needs to read the function's environment variables, but Lambda "
            f"could not decrypt them ({unreadable.get('ErrorCode', 'error')}): nothing was "
            "changed. Give the workers' role kms:Decrypt on the function's key, or measure "
            "without cold-starts mode."
        )
    run.original_config = {
        "FunctionArn": raw.get("FunctionArn", ""),
        "Runtime": raw.get("Runtime", ""),
        "MemorySize": raw.get("MemorySize"),
        "Architectures": raw.get("Architectures") or ["x86_64"],
        "EphemeralStorage": raw.get("EphemeralStorage") or {"Size": 512},
        "CodeSha256": latest["code_sha256"],
    }
    run.original_code_sha256 = latest["code_sha256"]
    run.heartbeat_at = timezone.now()
    run.save(update_fields=["original_config", "original_code_sha256", "heartbeat_at"])
    return latest["environment"]


def check_qualifier(run, latest_raw: dict) -> None:
    """A sweep publishes its versions from $LATEST, changing only the memory size: it measures
    a version or alias only when every version the qualifier runs (an alias may route to two)
    is configured like $LATEST apart from memory. TargetRefused otherwise, naming what differs
    (environment values are compared here, in memory, and never shown)."""
    acct, region, name = run.account, run.region, run.lambda_function
    versions = [run.qualifier]
    if not run.qualifier.isdigit():
        alias = retrying(aws.get_alias, acct, region, name, run.qualifier)
        versions = [alias["version"], *alias["weights"]]
    differences = {}
    for version in versions:
        target = retrying(aws.get_function_configuration, acct, region, name, version)["raw"]
        differences[target.get("Version", version)] = configuration_differences(target, latest_raw)
    if any(differences.values()):
        raise TargetRefused(qualifier_mismatch_message(name, run.qualifier, differences))


def restore_latest(run, *, wait: bool = True) -> dict | None:
    """Put back $LATEST's memory size as recorded and, after cold-starts mode, remove the run's
    own variable (re-reading the current variables: none are stored). Returns $LATEST's
    configuration as read before (None when nothing was recorded). ``wait=False`` (right after
    the last publish) does not wait for the update to finish: executors are busy meanwhile,
    and cleanup waits."""
    original = run.original_config or {}
    if not original.get("MemorySize"):
        return None
    acct, region, name = run.account, run.region, run.lambda_function
    current = retrying(aws.get_function_configuration, acct, region, name)
    changes = {}
    if current["memory_mb"] != original["MemorySize"]:
        changes["memory_mb"] = original["MemorySize"]
    if COLD_START_ENV_VAR in current["environment"]:
        others = current["environment"]
        changes["environment"] = {k: v for k, v in others.items() if k != COLD_START_ENV_VAR}
    if current["last_update_status"] == "InProgress" and (changes or wait):
        retrying(aws.wait_updated, acct, region, name)
    if changes:
        retrying(aws.update_configuration, acct, region, name, **changes)
        if wait:
            retrying(aws.wait_updated, acct, region, name)
        log.info("restored $LATEST of %s: %s", name, ", ".join(sorted(changes)))
    return current


def check_code(run) -> None:
    """FunctionChanged when $LATEST's code is no longer the code the run measures."""
    latest = retrying(aws.get_function_configuration, run.account, run.region, run.lambda_function)
    if run.original_code_sha256 and latest["code_sha256"] != run.original_code_sha256:
        raise FunctionChanged(code_changed_message(run.original_code_sha256, latest["code_sha256"]))
