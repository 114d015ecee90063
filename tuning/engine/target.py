"""The function a run works on, made unambiguous before anything runs: one full ARN in the
account of the credentials the run uses, owned by that run alone."""

from __future__ import annotations

from aws.models import function_allowed
from aws.retry import retrying
from tuning import aws
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


def resolve_and_own(run) -> None:
    """Resolve the run's function to its unqualified ARN with the run's credentials (STS) and
    key the run on it. TargetRefused for an ARN of another account; SweepRefused when another
    run owns the function, whichever account row, region spelling or qualifier it used."""
    if not function_allowed(run.account, run.function_name):  # the list may have changed
        raise TargetRefused(not_allowed_message(run.account, run.function_name))
    identity = retrying(aws.caller_identity, run.account, run.region)
    named = parse_function(run.function_arn).account_id
    if named and named != identity.account_id:
        raise TargetRefused(wrong_account_message(named, identity.account_id, run.account))
    run.take_ownership(identity.function_arn(run.region, run.function_name))


def check_answer(run, function_arn: str) -> None:
    """TargetRefused unless Lambda answered for the resolved function."""
    if function_arn.removesuffix(":$LATEST") != run.resolved_arn:
        raise TargetRefused(
            f"Lambda answered for {function_arn or 'no ARN'}, not for {run.resolved_arn}: "
            "nothing was changed."
        )
