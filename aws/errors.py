"""The one AWS error taxonomy of Tuneboard: every botocore error becomes one of two exceptions
with a message a user can act on.

* :class:`TransientAwsError` — worth retrying with backoff: throttling, 5xx, update conflicts
  (``ResourceConflictException``: Lambda accepts one configuration update at a time), a
  resource not ready yet, connection problems and any other botocore-side failure;
* :class:`PermanentAwsError` — retrying cannot help: access denied, not found, invalid
  parameters, missing or bad credentials.

One table of codes decides; both apps' adapters (``tuning.aws``, ``cachemetrics.cloudwatch``)
use it.
"""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    ParamValidationError,
)

THROTTLING_CODES = frozenset(
    {
        "TooManyRequestsException",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "LimitExceededException",
        "SlowDown",
        "EC2ThrottledException",
        "ProvisionedThroughputExceededException",
    }
)
TRANSIENT_CODES = THROTTLING_CODES | {
    "ResourceConflictException",
    "ResourceNotReadyException",
    "ServiceException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalFailure",
    "InternalError",
    "InternalServerError",
    "InternalServiceError",
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
    "EC2UnexpectedException",
    "ENILimitReachedException",
}
ACCESS_CODES = frozenset(
    {
        "AccessDeniedException",
        "AccessDenied",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "KMSAccessDeniedException",
    }
)
NOT_FOUND_CODES = frozenset({"ResourceNotFoundException", "ResourceNotFound", "NotFoundException"})
INVALID_CODES = frozenset(
    {
        "InvalidParameterValueException",
        "ValidationException",
        "ValidationError",
        "InvalidRequestContentException",
        "RequestTooLargeException",
        "InvalidParameterCombination",
        "InvalidParameterValue",
        "UnsupportedMediaTypeException",
        "PreconditionFailedException",
    }
)


class AwsError(Exception):
    """An AWS call failed; ``str(error)`` is meant for users."""

    def __init__(self, message: str, *, code: str = "", operation: str = "", status: int = 0):
        super().__init__(message)
        self.message = message
        self.code = code
        self.operation = operation
        self.status = status


class TransientAwsError(AwsError):
    """Retry with backoff (throttling, 5xx, update conflicts, network)."""

    @property
    def throttled(self) -> bool:
        return self.code in THROTTLING_CODES or self.status == 429


class PermanentAwsError(AwsError):
    """Do not retry (access denied, not found, invalid parameters, credentials)."""


def is_transient(code: str, status: int = 0) -> bool:
    return code in TRANSIENT_CODES or status >= 500 or status == 429


def map_error(
    exc: Exception, *, operation: str, resource: str = "", where: str = "", role_arn: str = ""
) -> AwsError:
    """Our error for a botocore exception. ``resource`` (e.g. the function) and ``where``
    (account and region, in words) make the message; ``role_arn`` is named when access is
    denied."""
    what = f" {resource}" if resource else ""
    place = f" in {where}" if where else ""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {}) or {}
        code = error.get("Code", "") or ""
        aws_message = error.get("Message", "") or error.get("message", "") or ""
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        detail = f" ({code}: {aws_message})" if aws_message else f" ({code})"
        kwargs = {"code": code, "operation": operation, "status": status}
        if code in ACCESS_CODES:
            role = f" (role {role_arn})" if role_arn else ""
            return PermanentAwsError(
                f"Access denied: Tuneboard's credentials{role} may not call {operation} on"
                f"{what or ' the resource'}{place}. Grant the permission to the worker's IAM "
                f"role or pick another account.{detail}",
                **kwargs,
            )
        if code in NOT_FOUND_CODES:
            return PermanentAwsError(
                f"Not found:{what or ' the resource'} does not exist{place} "
                f"(check the function name, qualifier and region).{detail}",
                **kwargs,
            )
        if code in INVALID_CODES:
            return PermanentAwsError(
                f"AWS rejected {operation} on{what or ' the request'} as invalid: "
                f"{aws_message or code}",
                **kwargs,
            )
        if is_transient(code, status):
            kind = (
                "throttled" if code in THROTTLING_CODES or status == 429 else "temporarily failed"
            )
            return TransientAwsError(
                f"AWS {kind} {operation} on{what or ' the request'}{place}{detail}", **kwargs
            )
        return PermanentAwsError(
            f"{operation} on{what or ' the request'} failed{place}{detail}", **kwargs
        )
    if isinstance(exc, NoCredentialsError):
        return PermanentAwsError(
            "No AWS credentials: the worker found none in its environment "
            "(AWS_ACCESS_KEY_ID / profile / instance role).",
            code="NoCredentials",
            operation=operation,
        )
    if isinstance(exc, ParamValidationError):
        # With a role, botocore also validates the AssumeRole call made for credentials.
        hint = " (check the account's role ARN and external id)" if role_arn else ""
        return PermanentAwsError(
            f"Invalid parameters for {operation}{what}{hint}: {exc}",
            code="ParamValidationError",
            operation=operation,
        )
    if isinstance(exc, BotoCoreError):  # connection errors, timeouts, …
        return TransientAwsError(
            f"Could not reach AWS for {operation}{what}: {exc}",
            code=type(exc).__name__,
            operation=operation,
        )
    raise TypeError(f"not a botocore error: {exc!r}")
