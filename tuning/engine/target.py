"""The function a run works on, made unambiguous before anything runs: one full ARN in the
account of the credentials the run uses, owned by that run alone."""

from __future__ import annotations

from aws.errors import NOT_FOUND_CODES
from aws.models import function_allowed
from aws.retry import retrying
from tuning import aws
from tuning.aws import PermanentAwsError
from tuning.params import not_allowed_message, parse_function


class TargetRefused(Exception):
    """The function the user named is not one this run may touch; str() is for users."""


def wrong_account_message(named: str, actual: str, account) -> str:
    credentials = (
        f"account {account.name!r} (its role)" if account is not None else "the workers' own"
    )
    return (
        f"The ARN names AWS account {named}, but the credentials of {credentials} act in "
        f"account {actual}: nothing was changed. Choose the account whose role reaches "
        f"{named}, or name a function of {actual}."
    )


def account_mismatch(function: str, account, region: str) -> str:
    """The message when an ARN names another account than the run's credentials act in
    ("" when it does not, or names no account)."""
    named = parse_function(function).account_id
    if not named:
        return ""
    actual = aws.caller_identity(account, region).account_id  # one try: a web request waits
    return wrong_account_message(named, actual, account) if named != actual else ""


def resolve_and_own(run):
    """Resolve the run's function to its unqualified ARN with the run's credentials (STS) and
    key the run on it. TargetRefused for an ARN of another account; SweepRefused when another
    run owns the function, whichever account row, region spelling or qualifier it used.
    Returns the credentials' identity. A companion run of an architecture comparison checks
    the function it copies the same way, and owns its copy once named (``engine.copy``)."""
    if not function_allowed(run.account, run.function_name):  # the list may have changed
        raise TargetRefused(not_allowed_message(run.account, run.function_name))
    identity = retrying(aws.caller_identity, run.account, run.region)
    named = parse_function(run.function_arn).account_id
    if named and named != identity.account_id:
        raise TargetRefused(wrong_account_message(named, identity.account_id, run.account))
    _check_processors(run, identity.account_id)
    if not run.copy_of_id:
        run.take_ownership(identity.function_arn(run.region, run.function_name))
    return identity


def _check_processors(run, account_id: str) -> None:
    """Pre-/post-processors are functions the account allows, in the run's account."""
    for label, function in (("Pre", run.pre_processor), ("Post", run.post_processor)):
        ref = parse_function(function) if function else None
        if ref and not function_allowed(run.account, ref.name):
            raise TargetRefused(f"{label}-processor: {not_allowed_message(run.account, ref.name)}")
        if ref and ref.account_id and ref.account_id != account_id:
            raise TargetRefused(
                f"{label}-processor {function} is in AWS account {ref.account_id}, but the "
                f"sweep's credentials act in account {account_id}: nothing was changed."
            )
        if ref:
            _check_processor_exists(run, label, function)


def _check_processor_exists(run, label: str, function: str) -> None:
    """A processor that does not exist would fail every invocation: refuse before anything
    changes. Only "not found" refuses: credentials allowed to invoke a processor but not to
    read its configuration still run the sweep."""
    try:
        retrying(aws.get_function_configuration, run.account, run.region, function)
    except PermanentAwsError as error:
        if error.code in NOT_FOUND_CODES:
            raise TargetRefused(
                f"{label}-processor {function} does not exist in {run.region}: nothing was changed."
            ) from None


def check_answer(run, function_arn: str) -> None:
    """TargetRefused unless Lambda answered for the resolved function."""
    if function_arn.removesuffix(":$LATEST") != run.resolved_arn:
        raise TargetRefused(
            f"Lambda answered for {function_arn or 'no ARN'}, not for {run.resolved_arn}: "
            "nothing was changed."
        )


#: What a version's configuration holds besides its memory size that changes what the function
#: does or how fast it runs: (label for users, how to read it from GetFunctionConfiguration).
_COMPARED = (
    ("code", lambda c: c.get("CodeSha256")),
    ("runtime", lambda c: c.get("Runtime")),
    ("handler", lambda c: c.get("Handler")),
    ("execution role", lambda c: c.get("Role")),
    ("timeout", lambda c: c.get("Timeout")),
    ("architecture", lambda c: c.get("Architectures") or ["x86_64"]),
    ("ephemeral storage", lambda c: (c.get("EphemeralStorage") or {}).get("Size", 512)),
    ("layers", lambda c: [layer.get("Arn") for layer in c.get("Layers") or []]),
    (
        "VPC",
        lambda c: (
            sorted((c.get("VpcConfig") or {}).get("SubnetIds") or []),
            sorted((c.get("VpcConfig") or {}).get("SecurityGroupIds") or []),
        ),
    ),
    ("file systems", lambda c: c.get("FileSystemConfigs") or []),
    ("SnapStart", lambda c: (c.get("SnapStart") or {}).get("ApplyOn", "None")),
    ("tracing", lambda c: (c.get("TracingConfig") or {}).get("Mode", "PassThrough")),
    ("image configuration", lambda c: c.get("ImageConfigResponse") or {}),
)


def configuration_differences(target: dict, latest: dict) -> list[str]:
    """What differs between a version's configuration and ``$LATEST``'s (raw
    GetFunctionConfiguration answers), memory size and description aside: labels for users.
    Environment variables are compared in memory and named, never their values."""
    found = [label for label, read in _COMPARED if read(target) != read(latest)]
    target_env, latest_env = target.get("Environment") or {}, latest.get("Environment") or {}
    if target_env.get("Error") or latest_env.get("Error"):
        found.append("environment variables (Lambda could not decrypt them to compare)")
    else:
        mine, theirs = target_env.get("Variables") or {}, latest_env.get("Variables") or {}
        names = sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
        if names:
            found.append("environment variables " + ", ".join(names))
    return found


def qualifier_mismatch_message(name: str, qualifier: str, versions: dict[str, list[str]]) -> str:
    """Why a qualified sweep is refused: ``versions`` maps each version the qualifier runs to
    what differs from $LATEST."""
    parts = "; ".join(
        f"version {version}: {', '.join(diffs)}" for version, diffs in versions.items() if diffs
    )
    return (
        f"{name}:{qualifier} is not configured like $LATEST apart from memory ({parts}). Lambda "
        "publishes new versions only from $LATEST, and a sweep changes nothing on $LATEST but "
        f"its memory size, so it would measure $LATEST's configuration, not {qualifier}'s: "
        f"nothing was changed. Deploy {qualifier}'s code and configuration to $LATEST first, "
        "or tune $LATEST."
    )
