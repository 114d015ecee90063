"""The tuning app's AWS adapter: the only module of the app that calls boto3 (Lambda and
CloudWatch), shaping AWS answers into plain dicts.

Every botocore error becomes a ``TransientAwsError`` or ``PermanentAwsError`` (``aws.errors``,
the one taxonomy) with a message naming the function, account and region. Clients come from
``aws.clients`` (one per process, region and role), endpoints from botocore's standard
``AWS_ENDPOINT_URL_*`` variables.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError, WaiterError
from django.core.cache import cache

from aws import clients, errors, identity
from aws.errors import NOT_FOUND_CODES, AwsError, PermanentAwsError, TransientAwsError
from tuning.reports import ReportNotFound, decode_log_result, parse_report

__all__ = ["NOT_FOUND_CODES", "AwsError", "PermanentAwsError", "TransientAwsError"]

log = logging.getLogger(__name__)

#: Poll delay of our waiters (botocore's defaults are 1 s and 5 s; the sandbox and most real
#: updates finish well under a second, and updates are on the sweep's critical path).
WAITER_DELAY_S = 0.1
WAITER_MAX_WAIT_S = 300


def map_error(
    exc: Exception, *, operation: str, resource: str = "", account=None, region: str = ""
) -> AwsError:
    """A botocore exception as our error, naming the account (and its role) and region."""
    name = f"account {account.name!r}" if account is not None else "the worker's AWS account"
    return errors.map_error(
        exc,
        operation=operation,
        resource=resource,
        where=f"{name}, region {region}" if region else "",
        role_arn=account.role_arn if account is not None else "",
    )


def _client(service: str, account, region: str):
    role = account.role_arn if account is not None else None
    external = account.external_id if account is not None else None
    return clients.client(service, region, role, external)


def lambda_client(account, region: str):
    return _client("lambda", account, region)


class _Call:
    """``with _Call(...)``: run boto3 code, re-raising botocore errors as ours."""

    def __init__(self, operation: str, resource: str = "", account=None, region: str = ""):
        self.operation, self.resource, self.account, self.region = (
            operation,
            resource,
            account,
            region,
        )

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is not None and isinstance(exc, ClientError | BotoCoreError):
            raise map_error(
                exc,
                operation=self.operation,
                resource=self.resource,
                account=self.account,
                region=self.region,
            ) from exc
        return False


def caller_identity(account, region: str) -> identity.Identity:
    """The AWS account (and partition) a sweep in ``account`` acts in: the assumed role's, or
    the workers' own when no account is chosen."""
    if account is None:
        return identity.caller_identity(region, where=f"the worker's AWS account, region {region}")
    return identity.caller_identity(
        region,
        account.role_arn,
        account.external_id,
        where=f"account {account.name!r}, region {region}",
    )


# --------------------------------------------------------------------------- functions


def _summary(cfg: dict) -> dict:
    architectures = cfg.get("Architectures") or ["x86_64"]
    return {
        "name": cfg.get("FunctionName", ""),
        "arn": cfg.get("FunctionArn", ""),
        "runtime": cfg.get("Runtime", ""),
        "memory_mb": cfg.get("MemorySize"),
        "timeout_s": cfg.get("Timeout"),
        "architecture": architectures[0],
        "last_modified": cfg.get("LastModified", ""),
    }


def list_functions(account, region: str) -> list[dict]:
    """Every function of the account/region, sorted by name (summaries, see ``_summary``)."""
    client = lambda_client(account, region)
    out = []
    with _Call("lambda:ListFunctions", account=account, region=region):
        for page in client.get_paginator("list_functions").paginate():
            out.extend(_summary(cfg) for cfg in page.get("Functions", []))
    return sorted(out, key=lambda f: f["name"])


def get_function_configuration(account, region: str, function: str, qualifier=None) -> dict:
    """Summary fields plus ``code_sha256``, ``description``, ``environment``,
    ``ephemeral_storage_mb``, ``version``, ``state``, ``last_update_status``,
    ``revision_id`` and the AWS answer in ``raw``."""
    client = lambda_client(account, region)
    params = {"FunctionName": function}
    if qualifier:
        params["Qualifier"] = qualifier
    with _Call("lambda:GetFunctionConfiguration", function, account, region):
        cfg = client.get_function_configuration(**params)
    cfg.pop("ResponseMetadata", None)
    return {
        **_summary(cfg),
        "code_sha256": cfg.get("CodeSha256", ""),
        "description": cfg.get("Description", ""),
        "environment": dict((cfg.get("Environment") or {}).get("Variables") or {}),
        "ephemeral_storage_mb": (cfg.get("EphemeralStorage") or {}).get("Size", 512),
        "version": cfg.get("Version", "$LATEST"),
        "state": cfg.get("State", ""),
        "last_update_status": cfg.get("LastUpdateStatus", ""),
        "revision_id": cfg.get("RevisionId", ""),
        "raw": json.loads(json.dumps(cfg, default=str)),
    }


def update_configuration(
    account, region: str, function: str, *, memory_mb=None, environment=None
) -> dict:
    """Change MemorySize and/or the environment variables of ``$LATEST`` (not waiting)."""
    params: dict = {"FunctionName": function}
    if memory_mb is not None:
        params["MemorySize"] = int(memory_mb)
    if environment is not None:
        params["Environment"] = {"Variables": dict(environment)}
    client = lambda_client(account, region)
    with _Call("lambda:UpdateFunctionConfiguration", function, account, region):
        return client.update_function_configuration(**params)


def _wait(account, region: str, waiter: str, operation: str, resource: str, **params) -> dict:
    """Poll with botocore's ``waiter`` every WAITER_DELAY_S. Returns {} once it succeeds, else
    its last answer (a failure state, or still waiting after WAITER_MAX_WAIT_S); an error
    answer or a connection problem is raised as our error."""
    client = lambda_client(account, region)
    config = {"Delay": WAITER_DELAY_S, "MaxAttempts": int(WAITER_MAX_WAIT_S / WAITER_DELAY_S)}
    try:
        client.get_waiter(waiter).wait(**params, WaiterConfig=config)
    except WaiterError as exc:  # a BotoCoreError too: handled first
        last = exc.last_response or {}
        if "Error" not in last:
            return last
        error = ClientError(last, operation.split(":")[-1])
        raise map_error(
            error, operation=operation, resource=resource, account=account, region=region
        ) from exc
    except BotoCoreError as exc:  # e.g. the connection failed while polling
        raise map_error(
            exc, operation=operation, resource=resource, account=account, region=region
        ) from exc
    return {}


def wait_updated(account, region: str, function: str) -> None:
    """Wait until ``$LATEST`` is no longer being updated (function_updated_v2 waiter)."""
    last = _wait(
        account,
        region,
        "function_updated_v2",
        "lambda:GetFunction",
        function,
        FunctionName=function,
    )
    if not last:
        return
    cfg = last.get("Configuration", {})
    reason = cfg.get("LastUpdateStatusReason") or f"LastUpdateStatus {cfg.get('LastUpdateStatus')}"
    if cfg.get("LastUpdateStatus") == "Failed":
        raise PermanentAwsError(
            f"Lambda could not apply the configuration update to {function}: {reason}",
            code=cfg.get("LastUpdateStatusReasonCode", "UpdateFailed"),
            operation="lambda:UpdateFunctionConfiguration",
        )
    raise TransientAwsError(
        f"{function} was still being updated after {WAITER_MAX_WAIT_S} s: {reason}",
        code="WaiterTimeout",
        operation="lambda:GetFunction",
    )


def wait_version_active(account, region: str, function: str, version: str) -> None:
    """Wait until a published version can be invoked (published_version_active waiter). With
    SnapStart, a new version is Pending while Lambda initialises it and takes its snapshot;
    invoking it, or an alias pointing to it, fails meanwhile (ResourceConflictException)."""
    last = _wait(
        account,
        region,
        "published_version_active",
        "lambda:GetFunctionConfiguration",
        f"{function}:{version}",
        FunctionName=function,
        Qualifier=str(version),
    )
    if not last:
        return
    state = last.get("State") or "not Active"
    reason = last.get("StateReason") or f"State {state}"
    if state == "Failed":
        code = last.get("StateReasonCode") or "Failed"
        raise PermanentAwsError(
            f"Lambda could not make version {version} of {function} ready to invoke "
            f"(State Failed, {code}): {reason}",
            code=code,
            operation="lambda:PublishVersion",
        )
    raise TransientAwsError(
        f"Version {version} of {function} was still {state} after {WAITER_MAX_WAIT_S} s: {reason}",
        code="WaiterTimeout",
        operation="lambda:GetFunctionConfiguration",
    )


def publish_version(account, region: str, function: str, description: str, code_sha256="") -> dict:
    """PublishVersion; ``{"version", "description", "code_sha256", "memory_mb", "created",
    "state"}``.

    Lambda returns the existing newest version when nothing changed since it was published:
    ``created`` is True only when the answer carries our (unique) description. ``state`` is
    the version's State: "Active", or "Pending" while a SnapStart snapshot is made (see
    ``wait_version_active``).
    """
    params = {"FunctionName": function, "Description": description}
    if code_sha256:
        params["CodeSha256"] = code_sha256
    client = lambda_client(account, region)
    with _Call("lambda:PublishVersion", function, account, region):
        answer = client.publish_version(**params)
    return {
        "version": answer["Version"],
        "description": answer.get("Description", ""),
        "code_sha256": answer.get("CodeSha256", ""),
        "memory_mb": answer.get("MemorySize"),
        "created": answer.get("Description", "") == description,
        "state": answer.get("State", ""),
    }


def list_versions(account, region: str, function: str) -> list[dict]:
    """Published versions (not ``$LATEST``): ``{"version", "description", "code_sha256"}``."""
    client = lambda_client(account, region)
    out = []
    with _Call("lambda:ListVersionsByFunction", function, account, region):
        for page in client.get_paginator("list_versions_by_function").paginate(
            FunctionName=function
        ):
            for cfg in page.get("Versions", []):
                if cfg.get("Version") != "$LATEST":
                    out.append(
                        {
                            "version": cfg["Version"],
                            "description": cfg.get("Description", ""),
                            "code_sha256": cfg.get("CodeSha256", ""),
                            "memory_mb": cfg.get("MemorySize"),
                        }
                    )
    return out


def delete_version(account, region: str, function: str, version: str) -> bool:
    """Delete a published version; False when it was already gone."""
    client = lambda_client(account, region)
    try:
        with _Call("lambda:DeleteFunction", f"{function}:{version}", account, region):
            client.delete_function(FunctionName=function, Qualifier=str(version))
    except PermanentAwsError as exc:
        if exc.code in NOT_FOUND_CODES:
            return False
        raise
    return True


def create_alias(account, region: str, function: str, name: str, version: str) -> None:
    """Create (or re-point, when it exists from an interrupted attempt) an alias."""
    client = lambda_client(account, region)
    try:
        with _Call("lambda:CreateAlias", f"{function}:{name}", account, region):
            client.create_alias(FunctionName=function, Name=name, FunctionVersion=str(version))
    except TransientAwsError as exc:
        if exc.code != "ResourceConflictException":
            raise
        with _Call("lambda:UpdateAlias", f"{function}:{name}", account, region):
            client.update_alias(FunctionName=function, Name=name, FunctionVersion=str(version))


def update_alias(account, region: str, function: str, name: str, version: str) -> None:
    client = lambda_client(account, region)
    with _Call("lambda:UpdateAlias", f"{function}:{name}", account, region):
        client.update_alias(FunctionName=function, Name=name, FunctionVersion=str(version))


def get_alias(account, region: str, function: str, name: str) -> dict:
    client = lambda_client(account, region)
    with _Call("lambda:GetAlias", f"{function}:{name}", account, region):
        answer = client.get_alias(FunctionName=function, Name=name)
    weights = (answer.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return {"name": answer["Name"], "version": answer["FunctionVersion"], "weights": weights}


def list_aliases(account, region: str, function: str) -> list[dict]:
    client = lambda_client(account, region)
    out = []
    with _Call("lambda:ListAliases", function, account, region):
        for page in client.get_paginator("list_aliases").paginate(FunctionName=function):
            out.extend(
                {"name": a["Name"], "version": a["FunctionVersion"]}
                for a in page.get("Aliases", [])
            )
    return out


def delete_alias(account, region: str, function: str, name: str) -> bool:
    client = lambda_client(account, region)
    try:
        with _Call("lambda:DeleteAlias", f"{function}:{name}", account, region):
            client.delete_alias(FunctionName=function, Name=name)
    except PermanentAwsError as exc:
        if exc.code in NOT_FOUND_CODES:
            return False
        raise
    return True


# --------------------------------------------------------------------------- copies
# x86_64 vs arm64 in one run (tuning.engine.copy): a temporary copy of a function, created from
# the same code package and configuration, deleted when its run ends.

#: Largest code package CreateFunction takes inline (ZipFile); larger ones need an S3 bucket.
MAX_INLINE_ZIP_BYTES = 50 * 1024 * 1024
CODE_DOWNLOAD_TIMEOUT_S = 60


def get_function(account, region: str, function: str) -> dict:
    """GetFunction: ``{"config": the raw configuration, "code_location": a presigned URL of the
    code package ("" for container images)}``. The configuration holds the environment values:
    callers keep it in memory only."""
    client = lambda_client(account, region)
    with _Call("lambda:GetFunction", function, account, region):
        answer = client.get_function(FunctionName=function)
    return {
        "config": answer.get("Configuration") or {},
        "code_location": (answer.get("Code") or {}).get("Location", ""),
    }


def download_code(url: str, function: str, max_bytes: int = MAX_INLINE_ZIP_BYTES) -> bytes:
    """The code package at GetFunction's ``Code.Location`` (a presigned S3 URL on AWS).
    PermanentAwsError when it is larger than CreateFunction takes inline."""
    try:
        with urllib.request.urlopen(url, timeout=CODE_DOWNLOAD_TIMEOUT_S) as answer:  # noqa: S310
            data = answer.read(max_bytes + 1)
    except (urllib.error.URLError, OSError) as exc:
        raise TransientAwsError(
            f"Could not download the code package of {function}: {exc}",
            code="CodeDownloadFailed",
            operation="lambda:GetFunction",
        ) from exc
    if len(data) > max_bytes:
        raise PermanentAwsError(
            f"The code package of {function} is larger than the {max_bytes // 2**20} MB "
            "CreateFunction accepts inline: Tuneboard cannot copy it to compare architectures.",
            code="CodePackageTooLarge",
            operation="lambda:CreateFunction",
        )
    return data


def create_function(account, region: str, request: dict) -> dict:
    """CreateFunction with ``request`` (not logged: it holds the environment values). Returns
    the new function's configuration; when it exists already (an earlier attempt whose answer
    was lost: copies are named after their run), its current configuration."""
    client = lambda_client(account, region)
    name = request["FunctionName"]
    try:
        with _Call("lambda:CreateFunction", name, account, region):
            answer = client.create_function(**request)
    except TransientAwsError as exc:
        if exc.code != "ResourceConflictException":
            raise
        return get_function_configuration(account, region, name)["raw"]
    answer.pop("ResponseMetadata", None)
    return answer


def wait_function_active(account, region: str, function: str) -> None:
    """Wait until a new function can be invoked (function_active_v2 waiter)."""
    last = _wait(
        account, region, "function_active_v2", "lambda:GetFunction", function, FunctionName=function
    )
    if not last:
        return
    cfg = last.get("Configuration", {})
    state = cfg.get("State") or "not Active"
    reason = cfg.get("StateReason") or f"State {state}"
    if state == "Failed":
        raise PermanentAwsError(
            f"Lambda could not create {function}: {reason}",
            code=cfg.get("StateReasonCode") or "Failed",
            operation="lambda:CreateFunction",
        )
    raise TransientAwsError(
        f"{function} was still {state} after {WAITER_MAX_WAIT_S} s: {reason}",
        code="WaiterTimeout",
        operation="lambda:GetFunction",
    )


def delete_function(account, region: str, function: str) -> bool:
    """Delete a whole function (its versions and aliases with it); False when it was gone."""
    client = lambda_client(account, region)
    try:
        with _Call("lambda:DeleteFunction", function, account, region):
            client.delete_function(FunctionName=function)
    except PermanentAwsError as exc:
        if exc.code in NOT_FOUND_CODES:
            return False
        raise
    return True


# --------------------------------------------------------------------------- invoke


@dataclass(frozen=True)
class InvokeOutcome:
    """One synchronous invocation: the parsed REPORT (None if the tail had none) and the
    function error, if any (``error_type`` "" when the call succeeded)."""

    report: object | None
    error_type: str
    error_message: str
    executed_version: str
    log_tail: str
    output: bytes = b""  # the response payload (what a post-processor receives)

    @property
    def failed(self) -> bool:
        return bool(self.error_type)

    @property
    def out_of_memory(self) -> bool:
        text = f"{self.error_type} {self.error_message}"
        if "OutOfMemory" in text or "MemoryError" in text:
            return True
        report = self.report
        return bool(
            report is not None
            and "signal: killed" in text
            and report.max_memory_used_mb is not None
            and report.max_memory_used_mb >= report.memory_size_mb
        )

    @property
    def timed_out(self) -> bool:
        text = f"{self.error_type} {self.error_message}"
        status = getattr(self.report, "status", None) or ""
        return "Task timed out" in text or "Sandbox.Timedout" in text or status == "timeout"


def invoke(account, region: str, function: str, qualifier: str, payload: bytes) -> InvokeOutcome:
    """``Invoke(RequestResponse, LogType=Tail)`` of ``function:qualifier``."""
    client = lambda_client(account, region)
    with _Call("lambda:InvokeFunction", f"{function}:{qualifier}", account, region):
        answer = client.invoke(
            FunctionName=function,
            Qualifier=qualifier,
            InvocationType="RequestResponse",
            LogType="Tail",
            Payload=payload,
        )
        body = answer["Payload"].read()
    tail, report = _log_tail(answer)
    error_type = error_message = ""
    if answer.get("FunctionError"):
        error_type = answer["FunctionError"]
        try:
            data = json.loads(body or b"null")
        except ValueError:
            data = None
        if isinstance(data, dict):
            error_type = str(data.get("errorType") or error_type)
            error_message = str(data.get("errorMessage") or "")
        else:
            error_message = (body or b"").decode(errors="replace")[:1000]
    return InvokeOutcome(
        report=report,
        error_type=error_type[:200],
        error_message=error_message[:2000],
        executed_version=answer.get("ExecutedVersion", ""),
        log_tail=tail,
        output=body or b"",
    )


def _log_tail(answer: dict) -> tuple[str, object | None]:
    """The decoded log tail of an Invoke answer and its parsed REPORT (None without one)."""
    if not answer.get("LogResult"):
        return "", None
    try:
        tail = decode_log_result(answer["LogResult"])
    except ValueError:
        return "", None
    try:
        return tail, parse_report(tail)
    except (ReportNotFound, ValueError):
        return tail, None


def invoke_processor(
    account, region: str, function: str, payload: bytes
) -> tuple[bytes, str, object | None]:
    """``Invoke(RequestResponse, LogType=Tail)`` of a pre-/post-processor (a name or ARN,
    qualified or not): (its response payload, "" or its error as "Type: message", the REPORT
    it was billed by or None)."""
    client = lambda_client(account, region)
    with _Call("lambda:InvokeFunction", function, account, region):
        answer = client.invoke(
            FunctionName=function,
            InvocationType="RequestResponse",
            LogType="Tail",
            Payload=payload,
        )
        body = answer["Payload"].read() or b""
    report = _log_tail(answer)[1]
    if not answer.get("FunctionError"):
        return body, "", report
    try:
        data = json.loads(body or b"null")
    except ValueError:
        data = None
    if isinstance(data, dict):
        kind = data.get("errorType") or answer["FunctionError"]
        return body, f"{kind}: {data.get('errorMessage')}", report
    return body, f"{answer['FunctionError']}: {body.decode(errors='replace')[:500]}", report


# --------------------------------------------------------------------------- CloudWatch


def monthly_invocations(account, region: str, function_name: str) -> int | None:
    """AWS/Lambda ``Invocations`` summed over the last 30 days; None when CloudWatch has no
    datapoint. AwsError when CloudWatch cannot be read (the page says why)."""
    client = _client("cloudwatch", account, region)
    end = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    start = end - dt.timedelta(days=30)
    query = {
        "Id": "invocations",
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/Lambda",
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "FunctionName", "Value": function_name}],
            },
            "Period": 86400,
            "Stat": "Sum",
        },
        "ReturnData": True,
    }
    total = 0.0
    seen = False
    with _Call("cloudwatch:GetMetricData", function_name, account, region):
        for page in client.get_paginator("get_metric_data").paginate(
            MetricDataQueries=[query], StartTime=start, EndTime=end
        ):
            for series in page.get("MetricDataResults", []):
                values = series.get("Values", [])
                seen = seen or bool(values)
                total += sum(values)
    return int(round(total)) if seen else None


# --------------------------------------------------------------------------- cached reads
# For pages: the same answer is asked for on every keystroke of a form or every page view.

#: The function picker's estimate reads the configuration again at most this often.
CONFIGURATION_CACHE_S = 300
#: A month of traffic barely moves in an hour.
TRAFFIC_CACHE_S = 3600


def _cache_key(kind: str, account, region: str, function: str) -> str:
    return f"tb:{kind}:{account.pk if account is not None else '-'}:{region}:{function}"


def cached_function_configuration(account, region: str, function: str) -> dict:
    key = _cache_key("fnconfig", account, region, function)
    config = cache.get(key)
    if config is None:
        config = get_function_configuration(account, region, function)
        cache.set(key, config, CONFIGURATION_CACHE_S)
    return config


def unreserved_concurrency(account, region: str) -> int:
    """Concurrent executions of the account and region that no function reserved: what every
    unreserved function, a sweep included, shares (GetAccountSettings)."""
    client = lambda_client(account, region)
    with _Call("lambda:GetAccountSettings", account=account, region=region):
        answer = client.get_account_settings()
    return int(answer["AccountLimit"]["UnreservedConcurrentExecutions"])


def cached_unreserved_concurrency(account, region: str) -> int:
    key = _cache_key("unreserved", account, region, "")
    value = cache.get(key)
    if value is None:
        value = unreserved_concurrency(account, region)
        cache.set(key, value, CONFIGURATION_CACHE_S)
    return value


def cached_monthly_invocations(account, region: str, function_name: str) -> int | None:
    """``monthly_invocations``, cached (errors are not: the next view tries again)."""
    key = _cache_key("monthly", account, region, function_name)
    cached = cache.get(key)
    if cached is None:
        cached = {"traffic": monthly_invocations(account, region, function_name)}
        cache.set(key, cached, TRAFFIC_CACHE_S)
    return cached["traffic"]
