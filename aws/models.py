"""AWS accounts that both tuning and cachemetrics work in."""

from fnmatch import fnmatchcase

from django.conf import settings
from django.db import models


class AwsAccount(models.Model):
    """Where sweeps run and DAX metrics are read. No secret is stored: credentials come from the
    worker's environment, optionally through an STS role (with an external id) assumed in the
    target account."""

    name = models.CharField(max_length=100, unique=True)
    account_id = models.CharField(max_length=12, blank=True, help_text="Filled in from STS.")
    role_arn = models.CharField(
        max_length=2048,
        blank=True,
        help_text="Role to assume for cross-account access; empty = the worker's own credentials.",
    )
    external_id = models.CharField(max_length=1224, blank=True)
    default_region = models.CharField(max_length=32, default="us-east-1")
    max_concurrency = models.PositiveIntegerField(
        default=100,
        help_text="Most invocations at once one sweep in this account may make: Lambda's "
        "concurrency is shared by every function of the account and region.",
    )
    allowed_functions = models.TextField(
        blank=True,
        help_text="Function names that may be swept in this account, one pattern per line "
        "(shell-style: orders-*, *-staging). Empty = every function.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        # The model moved here from the tuning app; its rows stayed where they were.
        db_table = "tuning_awsaccount"

    def __str__(self):
        return self.name

    def fetch_account_id(self) -> str:
        """The 12-digit id of the AWS account these credentials act in (through the role, when
        there is one). AwsError when the credentials do not work."""
        from aws.identity import caller_identity

        return caller_identity(
            self.default_region, self.role_arn, self.external_id, where=f"account {self.name!r}"
        ).account_id


def allowed_function_patterns(account) -> list[str]:
    """The name patterns of the functions that may be swept with ``account`` (None: the
    workers' own credentials, TUNEBOARD_ALLOWED_FUNCTIONS); [] = every function."""
    text = account.allowed_functions if account is not None else ""
    patterns = text.split() if account is not None else settings.TUNEBOARD_ALLOWED_FUNCTIONS
    return [pattern for pattern in patterns if pattern]


def function_allowed(account, name: str) -> bool:
    patterns = allowed_function_patterns(account)
    return not patterns or any(fnmatchcase(name, pattern) for pattern in patterns)


def concurrency_cap(account) -> int:
    """Most invocations at once one sweep may make with ``account`` (None: the workers' own
    credentials, TUNEBOARD_MAX_CONCURRENCY)."""
    return account.max_concurrency if account is not None else settings.TUNEBOARD_MAX_CONCURRENCY
