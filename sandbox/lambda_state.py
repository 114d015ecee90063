"""State of the sandbox Lambda service: functions, versions, aliases, concurrency.

Everything AWS would keep server-side lives here, behind one lock, and is
persisted (JSON + code zips) after every change when a state directory is
given. The HTTP layer (``sandbox.lambda_api``) only parses requests and
renders what this module returns; errors are raised as :class:`LambdaError`
carrying AWS's error code, HTTP status and message.

Semantics follow AWS where our callers can observe them:

* ``$LATEST`` is mutable; ``UpdateFunctionConfiguration`` / ``UpdateFunctionCode``
  are shown at once but report ``LastUpdateStatus: InProgress`` for ``update_delay_s``
  seconds, during which invocations of ``$LATEST`` still run the previous
  configuration and a further update or a ``PublishVersion`` is refused with
  ``ResourceConflictException``.
* Versions are immutable snapshots numbered 1, 2, 3... and never reused;
  ``PublishVersion`` returns the newest version when ``$LATEST`` has not changed
  since it was published.
* SnapStart (``ApplyOn: PublishedVersions``, Python 3.12+ only): a new version is
  ``Pending`` (``StateReasonCode: Creating``) for ``snapstart_delay_s`` seconds while
  "its snapshot is made", then ``Active``; invoking it (or an alias routed to it)
  meanwhile is a ``ResourceConflictException``. No snapshot is really taken.
* Every change gets a fresh ``RevisionId``; ``RevisionId`` preconditions fail
  with ``PreconditionFailedException`` (412).
* Reserved concurrency per function and an account concurrency limit shared
  by all unreserved functions; throttles are ``TooManyRequestsException`` (429).
* Regions: functions live in the region of the request (the SigV4 credential scope,
  set by the HTTP layer with :func:`in_region`); a function of one region is not
  visible from another and its ARNs carry its region. Unlike AWS, the concurrency
  limit is one for the sandbox, shared by all regions.
* Architectures ``x86_64`` or ``arm64`` are stored, described and passed to the runtime;
  both run on this machine's CPU (no emulation, so no speed difference between them).
* Container images (``PackageType: Image``, ``Code.ImageUri``) can be created and are
  described as AWS does (no Runtime/Handler; GetFunction's ``Code`` names the image), but
  not run: invoking one is an ``InvalidParameterValueException``.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import copy
import hashlib
import io
import json
import os
import random
import re
import shutil
import tempfile
import threading
import time
import uuid
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ACCOUNT_ID = "123456789012"
#: The region of requests that name none (no SigV4 Authorization header), and of functions
#: saved before the sandbox had regions.
REGION = "us-east-1"
LATEST = "$LATEST"

MIN_MEMORY_MB, MAX_MEMORY_MB = 128, 10240
MIN_TIMEOUT_S, MAX_TIMEOUT_S = 1, 900
MAX_LIST_ITEMS = 50
STATE_FILE = "lambda_state.json"

_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_ALIAS_RE = re.compile(r"^(?!^[0-9]+$)([a-zA-Z0-9_-]+)$")
_QUALIFIER_RE = re.compile(r"^(\$LATEST|[a-zA-Z0-9_-]{1,128})$")
_FUNCTION_ID_RE = re.compile(
    r"^(?:arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):)?"
    r"(?:(?P<account>\d{12}):)?"
    r"(?:function:)?"
    r"(?P<name>[a-zA-Z0-9_-]+)"
    r"(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]+))?$"
)

UPDATE_IN_PROGRESS_REASON = "The function is being updated."
CREATING_REASON = "The function is being created."

SNAPSTART_APPLY_ON = ("PublishedVersions", "None")
# AWS offers SnapStart on Java 11+, Python 3.12+ and .NET 8+ (the sandbox runs Python only).
_SNAPSTART_RUNTIME_RE = re.compile(r"^(python3\.(1[2-9])|java(11|17|21|25)|dotnet(8|10))$")


# --------------------------------------------------------------------------- errors

ERROR_STATUS = {
    "ResourceNotFoundException": 404,
    "ResourceConflictException": 409,
    "InvalidParameterValueException": 400,
    "ValidationException": 400,
    "InvalidRequestContentException": 400,
    "RequestTooLargeException": 413,
    "TooManyRequestsException": 429,
    "PreconditionFailedException": 412,
    "ServiceException": 500,
    "AccessDeniedException": 403,
    "InvalidSignatureException": 403,
    "UnknownOperationException": 404,
}


class LambdaError(Exception):
    """An AWS Lambda API error: ``code`` goes into ``x-amzn-ErrorType``."""

    def __init__(self, code: str, message: str, *, extra: dict | None = None, headers=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = ERROR_STATUS.get(code, 400)
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict:
        # AWS spells the message key "Message" for these two and "message" otherwise.
        key = (
            "Message"
            if self.code in ("ResourceNotFoundException", "ServiceException")
            else ("message")
        )
        return {
            "Type": "Service" if self.status >= 500 else "User",
            key: self.message,
            **self.extra,
        }


# The region the current request is served in (each request runs in its own thread).
_current_region: contextvars.ContextVar[str] = contextvars.ContextVar("region", default=REGION)


@contextlib.contextmanager
def in_region(region: str):
    """Serve what runs inside in ``region`` (the HTTP layer wraps each request in it)."""
    token = _current_region.set(region)
    try:
        yield
    finally:
        _current_region.reset(token)


def current_region() -> str:
    return _current_region.get()


def function_arn(name: str, qualifier: str | None = None, region: str | None = None) -> str:
    arn = f"arn:aws:lambda:{region or current_region()}:{ACCOUNT_ID}:function:{name}"
    return arn + (f":{qualifier}" if qualifier else "")


def not_found(name: str, qualifier: str | None = None) -> LambdaError:
    return LambdaError(
        "ResourceNotFoundException", f"Function not found: {function_arn(name, qualifier)}"
    )


def invalid(message: str) -> LambdaError:
    return LambdaError("InvalidParameterValueException", message)


def update_in_progress(name: str) -> LambdaError:
    return LambdaError(
        "ResourceConflictException",
        "The operation cannot be performed at this time. "
        f"An update is in progress for resource: {function_arn(name)}",
    )


def still_pending() -> LambdaError:
    """Invoke of a version that is not Active yet (AWS's message for a Pending function)."""
    return LambdaError(
        "ResourceConflictException",
        "The operation cannot be performed at this time. "
        "The function is currently in the following state: Pending",
    )


def revision_mismatch(what: str = "GetFunction") -> LambdaError:
    return LambdaError(
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. "
        f"Call the {what} API to retrieve the latest Revision Id",
    )


def throttled(reason: str) -> LambdaError:
    return LambdaError(
        "TooManyRequestsException",
        "Rate Exceeded.",
        extra={"Reason": reason},
        headers={"Retry-After": "1"},
    )


def parse_function_id(identifier: str, qualifier: str | None = None) -> tuple[str, str | None]:
    """Split a name, partial ARN or full ARN (optionally ``:qualifier``) into (name, qualifier).

    ``qualifier`` is the separately passed ``Qualifier`` parameter, which must agree with
    a qualifier embedded in the identifier.
    """
    match = _FUNCTION_ID_RE.match(identifier or "")
    if not match:
        raise LambdaError(
            "ValidationException",
            f"1 validation error detected: Value '{identifier}' at 'functionName' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: "
            r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?"
            r"(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?",
        )
    name = match["name"]
    # Another region's or account's function is not visible from here (as on AWS).
    if match["region"] not in (None, current_region()) or match["account"] not in (
        None,
        ACCOUNT_ID,
    ):
        raise not_found(name, match["qualifier"] or qualifier)
    embedded = match["qualifier"]
    if qualifier is not None and not _QUALIFIER_RE.match(qualifier):
        raise LambdaError(
            "ValidationException",
            f"1 validation error detected: Value '{qualifier}' at 'qualifier' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)",
        )
    if embedded and qualifier and embedded != qualifier:
        raise invalid(
            "The derived qualifier from the function name does not match the specified qualifier."
        )
    return name, embedded or qualifier


def _now_iso() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


def _new_revision() -> str:
    return str(uuid.uuid4())


# --------------------------------------------------------------------------- model


@dataclass
class VersionConfig:
    """One function configuration: ``$LATEST`` (mutable) or a published version."""

    version: str
    runtime: str
    role: str
    handler: str
    description: str
    timeout: int
    memory_size: int
    environment: dict[str, str]
    log_format: str
    architectures: list[str]
    code_hex: str
    code_sha256: str
    code_size: int
    last_modified: str
    revision_id: str
    # For published versions: the $LATEST fingerprint they were published from.
    source_fingerprint: str = ""
    snap_start: str = "None"  # SnapStart ApplyOn: "PublishedVersions" or "None"
    # Container images are stored and described, never run (Invoke answers an error).
    package_type: str = "Zip"
    image_uri: str = ""

    def fingerprint(self) -> str:
        """Changes whenever code or configuration changes (what PublishVersion compares)."""
        data = [
            self.runtime,
            self.role,
            self.handler,
            self.description,
            self.timeout,
            self.memory_size,
            sorted(self.environment.items()),
            self.log_format,
            self.architectures,
            self.code_hex,
        ]
        if self.snap_start != "None":  # only then, so fingerprints saved before stay valid
            data.append(self.snap_start)
        return hashlib.sha256(json.dumps(data).encode()).hexdigest()[:16]


@dataclass
class Alias:
    name: str
    function_version: str
    description: str = ""
    additional_weights: dict[str, float] = field(default_factory=dict)
    revision_id: str = field(default_factory=_new_revision)


@dataclass
class Function:
    name: str
    uid: str
    latest: VersionConfig
    versions: dict[int, VersionConfig] = field(default_factory=dict)
    next_version: int = 1
    aliases: dict[str, Alias] = field(default_factory=dict)
    reserved_concurrency: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    update_until: float = 0.0  # time.time() until which $LATEST is InProgress
    # $LATEST as it was before the update in progress: what invocations run until the update
    # is done (as on Lambda, where a new configuration takes effect when it is Successful).
    serving: VersionConfig | None = None
    # SnapStart versions: time.time() until which each is Pending (not persisted: after a
    # restart their snapshots are done).
    pending_until: dict[str, float] = field(default_factory=dict)
    region: str = REGION

    def arn(self, qualifier: str | None = None) -> str:
        return function_arn(self.name, qualifier, self.region)

    def updating(self) -> bool:
        return time.time() < self.update_until

    def pending(self, version: str) -> bool:
        return time.time() < self.pending_until.get(version, 0.0)


# --------------------------------------------------------------------------- code store


class CodeStore:
    """Code zips by hex sha256 under ``root/code``, extracted once under ``root/extracted``."""

    def __init__(self, root: Path):
        self.zips = root / "code"
        self.extracted = root / "extracted"
        self.zips.mkdir(parents=True, exist_ok=True)
        self.extracted.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def put(self, data: bytes) -> tuple[str, str, int]:
        """Store a zip; returns (hex sha256, base64 sha256 as AWS's CodeSha256, size)."""
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                bad = archive.testzip()
                names = archive.namelist()
        except (zipfile.BadZipFile, ValueError, EOFError):
            bad, names = "?", []
        if bad is not None or any(n.startswith("/") or ".." in Path(n).parts for n in names):
            raise invalid(
                "Could not unzip uploaded file. Please check your file, then try to upload again."
            )
        digest = hashlib.sha256(data)
        hex_sha = digest.hexdigest()
        path = self.zips / f"{hex_sha}.zip"
        if not path.exists():
            tmp = path.with_suffix(f".tmp{threading.get_ident()}")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        return hex_sha, base64.b64encode(digest.digest()).decode(), len(data)

    def zip_path(self, hex_sha: str) -> Path:
        return self.zips / f"{hex_sha}.zip"

    def code_dir(self, hex_sha: str) -> Path:
        """Directory holding the extracted code (extracted on first use)."""
        target = self.extracted / hex_sha
        with self._lock:
            if not target.is_dir():
                tmp = Path(tempfile.mkdtemp(prefix=f".{hex_sha[:8]}-", dir=self.extracted))
                with zipfile.ZipFile(self.zip_path(hex_sha)) as archive:
                    archive.extractall(tmp)  # noqa: S202 - names checked in put()
                os.replace(tmp, target)
        return target


# --------------------------------------------------------------------------- concurrency


class ConcurrencyGate:
    """Counts in-flight invocations; refuses those over the account or reserved limit."""

    def __init__(self, limit: int):
        self.limit = limit
        self._lock = threading.Lock()
        self.in_flight = 0
        self.in_flight_unreserved = 0
        self.by_function: Counter[str] = Counter()
        self.throttled = 0
        self.invocations = 0

    @contextlib.contextmanager
    def slot(self, function_name: str, reserved: int | None, total_reserved: int):
        with self._lock:
            if reserved is not None:
                if self.by_function[function_name] >= reserved or self.in_flight >= self.limit:
                    self.throttled += 1
                    raise throttled("ReservedFunctionConcurrentInvocationLimitExceeded")
            elif (
                self.in_flight_unreserved >= max(0, self.limit - total_reserved)
                or self.in_flight >= self.limit
            ):
                self.throttled += 1
                raise throttled("ConcurrentInvocationLimitExceeded")
            self.in_flight += 1
            self.invocations += 1
            self.by_function[function_name] += 1
            if reserved is None:
                self.in_flight_unreserved += 1
        try:
            yield
        finally:
            with self._lock:
                self.in_flight -= 1
                self.by_function[function_name] -= 1
                if not self.by_function[function_name]:
                    del self.by_function[function_name]
                if reserved is None:
                    self.in_flight_unreserved -= 1


def min_unreserved(limit: int) -> int:
    """AWS keeps 100 of the default 1000 unreserved; scaled down for tiny test limits."""
    return min(100, limit // 10)


# --------------------------------------------------------------------------- state


class LambdaState:
    """All functions of the sandbox account, thread-safe, optionally persisted."""

    def __init__(
        self,
        state_dir: str | os.PathLike | None = None,
        *,
        update_delay_s: float = 0.5,
        snapstart_delay_s: float = 1.0,
        concurrency_limit: int = 1000,
    ):
        self._lock = threading.RLock()
        self.update_delay_s = update_delay_s
        self.snapstart_delay_s = snapstart_delay_s
        self.gate = ConcurrencyGate(concurrency_limit)
        self._temp_root = state_dir is None
        root = Path(state_dir) if state_dir else Path(tempfile.mkdtemp(prefix="tuneboard-lambda-"))
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.code = CodeStore(root)
        self._regions: dict[str, dict[str, Function]] = {}
        self._load()

    @property
    def functions(self) -> dict[str, Function]:
        """The functions of the current request's region, by name."""
        return self.functions_in(current_region())

    def functions_in(self, region: str) -> dict[str, Function]:
        return self._regions.setdefault(region, {})

    def all_functions(self) -> list[Function]:
        """Every function of every region."""
        return [fn for functions in self._regions.values() for fn in functions.values()]

    # ---------------------------------------------------------------- persistence

    def _load(self) -> None:
        path = self.root / STATE_FILE
        if not path.exists():
            return
        data = json.loads(path.read_text())
        for item in data.get("functions", []):
            latest = VersionConfig(**item["latest"])
            fn = Function(
                name=item["name"],
                uid=item["uid"],
                latest=latest,
                versions={int(k): VersionConfig(**v) for k, v in item["versions"].items()},
                next_version=item["next_version"],
                aliases={k: Alias(**v) for k, v in item["aliases"].items()},
                reserved_concurrency=item.get("reserved_concurrency"),
                tags=item.get("tags", {}),
                region=item.get("region", REGION),  # saved before regions: us-east-1
            )  # a pending update is complete after a restart
            self.functions_in(fn.region)[fn.name] = fn

    def _save(self) -> None:
        if self._temp_root:
            return
        data = {"functions": []}
        for fn in self.all_functions():
            data["functions"].append(
                {
                    "region": fn.region,
                    "name": fn.name,
                    "uid": fn.uid,
                    "latest": asdict(fn.latest),
                    "versions": {str(k): asdict(v) for k, v in fn.versions.items()},
                    "next_version": fn.next_version,
                    "aliases": {k: asdict(v) for k, v in fn.aliases.items()},
                    "reserved_concurrency": fn.reserved_concurrency,
                    "tags": fn.tags,
                }
            )
        path = self.root / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        os.replace(tmp, path)

    def close(self) -> None:
        if self._temp_root:
            shutil.rmtree(self.root, ignore_errors=True)

    # ---------------------------------------------------------------- helpers

    def _function(self, name: str, qualifier: str | None = None) -> Function:
        fn = self.functions.get(name)
        if fn is None:
            raise not_found(name, qualifier)
        return fn

    def _resolve(self, fn: Function, qualifier: str | None) -> tuple[VersionConfig, Alias | None]:
        """Configuration a qualifier designates (``None``/``$LATEST``/version/alias)."""
        if qualifier in (None, LATEST):
            return fn.latest, None
        if qualifier.isdigit():
            cfg = fn.versions.get(int(qualifier))
            if cfg is None:
                raise not_found(fn.name, qualifier)
            return cfg, None
        alias = fn.aliases.get(qualifier)
        if alias is None:
            raise not_found(fn.name, qualifier)
        return self._resolve(fn, alias.function_version)[0], alias

    def _render(self, fn: Function, cfg: VersionConfig, arn_qualifier: str | None) -> dict:
        out: dict[str, Any] = {
            "FunctionName": fn.name,
            "FunctionArn": fn.arn(arn_qualifier),
            "Runtime": cfg.runtime,
            "Role": cfg.role,
            "Handler": cfg.handler,
            "CodeSize": cfg.code_size,
            "Description": cfg.description,
            "Timeout": cfg.timeout,
            "MemorySize": cfg.memory_size,
            "LastModified": cfg.last_modified,
            "CodeSha256": cfg.code_sha256,
            "Version": cfg.version,
            "TracingConfig": {"Mode": "PassThrough"},
            "RevisionId": cfg.revision_id,
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": cfg.package_type,
            "Architectures": list(cfg.architectures),
            "EphemeralStorage": {"Size": 512},
            "SnapStart": {
                "ApplyOn": cfg.snap_start,
                # On only for versions published with it; $LATEST always reports Off.
                "OptimizationStatus": "On"
                if cfg.snap_start == "PublishedVersions" and cfg.version != LATEST
                else "Off",
            },
            "LoggingConfig": {"LogFormat": cfg.log_format, "LogGroup": f"/aws/lambda/{fn.name}"},
        }
        if cfg.log_format == "JSON":
            out["LoggingConfig"].update(ApplicationLogLevel="INFO", SystemLogLevel="INFO")
        if cfg.environment:
            out["Environment"] = {"Variables": dict(cfg.environment)}
        if cfg.package_type == "Image":  # AWS describes images without runtime and handler
            del out["Runtime"], out["Handler"]
        if cfg.version == LATEST and fn.updating():
            out["LastUpdateStatus"] = "InProgress"
            out["LastUpdateStatusReason"] = UPDATE_IN_PROGRESS_REASON
        if cfg.version != LATEST and fn.pending(cfg.version):
            out.update(State="Pending", StateReason=CREATING_REASON, StateReasonCode="Creating")
            del out["LastUpdateStatus"]  # AWS reports none until the version is Active
        return out

    @staticmethod
    def _validated_int(params: dict, key: str, low: int, high: int, default: int) -> int:
        value = params.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool):
            raise LambdaError("ValidationException", f"'{key}' must be an integer")
        if not low <= value <= high:  # AWS's request validation, before the service sees it
            bound = (
                f"greater than or equal to {low}"
                if value < low
                else f"less than or equal to {high}"
            )
            raise LambdaError(
                "ValidationException",
                f"1 validation error detected: Value '{value}' at '{key[0].lower() + key[1:]}' "
                f"failed to satisfy constraint: Member must have value {bound}",
            )
        return value

    @staticmethod
    def _runtime(value: str | None) -> str:
        if not value:
            raise invalid(
                "Runtime and Handler are mandatory parameters for functions created "
                "with deployment packages."
            )
        if not re.fullmatch(r"python3\.(9|1[0-9])", value):
            raise invalid(
                f"The runtime parameter of {value} is not supported by this sandbox; "
                "only python3.x runtimes can be created."
            )
        return value

    @staticmethod
    def _snap_start(params: dict, runtime: str, default: str) -> str:
        """SnapStart ApplyOn (``default`` when not given), checked against the runtime."""
        apply_on = default
        if "SnapStart" in params:
            apply_on = (params["SnapStart"] or {}).get("ApplyOn", "None")
            if apply_on not in SNAPSTART_APPLY_ON:
                raise LambdaError(
                    "ValidationException",
                    f"1 validation error detected: Value '{apply_on}' at 'snapStart.applyOn' "
                    "failed to satisfy constraint: Member must satisfy enum value set: "
                    "[PublishedVersions, None]",
                )
        if apply_on == "PublishedVersions" and not _SNAPSTART_RUNTIME_RE.match(runtime):
            raise invalid(f"{runtime} is not supported for SnapStart enabled functions.")
        return apply_on

    @staticmethod
    def _environment(params: dict, default: dict) -> dict[str, str]:
        if "Environment" not in params:
            return dict(default)
        variables = (params["Environment"] or {}).get("Variables") or {}
        for key in variables:
            if not re.fullmatch(r"[a-zA-Z]([a-zA-Z0-9_])*", key):
                raise invalid(f"Environment variable name {key} is not valid")
            if key in (
                "AWS_REGION",
                "AWS_DEFAULT_REGION",
                "AWS_LAMBDA_FUNCTION_NAME",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                "AWS_LAMBDA_FUNCTION_VERSION",
                "AWS_EXECUTION_ENV",
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN",
                "_HANDLER",
                "LAMBDA_TASK_ROOT",
                "LAMBDA_RUNTIME_DIR",
            ):
                raise invalid(
                    "Lambda was unable to configure your environment variables because "
                    f"the environment variables you have provided contains reserved "
                    f"keys that are currently not supported for modification. "
                    f"Reserved keys used in this request: {key}"
                )
        return {str(k): str(v) for k, v in variables.items()}

    @staticmethod
    def _log_format(params: dict, default: str) -> str:
        value = (params.get("LoggingConfig") or {}).get("LogFormat", default)
        if value not in ("Text", "JSON"):
            raise LambdaError(
                "ValidationException",
                f"1 validation error detected: Value '{value}' at 'loggingConfig.logFormat' "
                "failed to satisfy constraint: Member must satisfy enum value set: [JSON, Text]",
            )
        return value

    @staticmethod
    def _architectures(params: dict, default: list[str]) -> list[str]:
        value = params.get("Architectures") or default
        if len(value) != 1 or value[0] not in ("x86_64", "arm64"):
            raise invalid("Architectures must contain exactly one of x86_64, arm64")
        return list(value)

    def _zip(self, params: dict) -> tuple[str, str, int]:
        data = params.get("ZipFile")
        if data is None:
            if params.get("S3Bucket") or params.get("ImageUri"):
                raise invalid("This sandbox only accepts ZipFile deployment packages.")
            raise invalid("Please provide a source for function code.")
        if isinstance(data, str):
            try:
                data = base64.b64decode(data, validate=True)
            except ValueError as exc:
                raise invalid(
                    "Could not unzip uploaded file. Please check your file, "
                    "then try to upload again."
                ) from exc
        return self.code.put(data)

    @staticmethod
    def _check_revision(expected: str | None, actual: str, what: str = "GetFunction") -> None:
        if expected is not None and expected != actual:
            raise revision_mismatch(what)

    def _mark_updating(self, fn: Function, before: VersionConfig) -> None:
        fn.update_until = time.time() + self.update_delay_s if self.update_delay_s > 0 else 0.0
        fn.serving = before

    # ---------------------------------------------------------------- functions

    def create_function(self, params: dict) -> dict:
        name = params.get("FunctionName") or ""
        if not _NAME_RE.match(name):
            name, qualifier = parse_function_id(name)
            if qualifier:
                raise invalid("Function name cannot contain a qualifier.")
        package_type = params.get("PackageType", "Zip")
        if package_type not in ("Zip", "Image"):
            raise invalid(f"Unsupported package type {package_type}; use Zip or Image.")
        image_uri = (params.get("Code") or {}).get("ImageUri") or ""
        if package_type == "Image":
            if not image_uri:
                raise invalid("Please provide a source for function code.")
            runtime, handler = "", ""
        else:
            runtime = self._runtime(params.get("Runtime"))
            handler = params.get("Handler")
        if package_type == "Zip" and not handler:
            raise invalid(
                "Runtime and Handler are mandatory parameters for functions created "
                "with deployment packages."
            )
        role = params.get("Role") or ""
        if not re.fullmatch(r"arn:aws[a-zA-Z-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+", role):
            raise LambdaError(
                "ValidationException",
                f"1 validation error detected: Value '{role}' at 'role' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: "
                r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+",
            )
        memory = self._validated_int(params, "MemorySize", MIN_MEMORY_MB, MAX_MEMORY_MB, 128)
        timeout = self._validated_int(params, "Timeout", MIN_TIMEOUT_S, MAX_TIMEOUT_S, 3)
        environment = self._environment(params, {})
        log_format = self._log_format(params, "Text")
        architectures = self._architectures(params, ["x86_64"])
        if package_type == "Image":
            snap_start = "None"
            code_hex, code_size = "", 0
            code_sha = base64.b64encode(hashlib.sha256(image_uri.encode()).digest()).decode()
        else:
            snap_start = self._snap_start(params, runtime, "None")
            code_hex, code_sha, code_size = self._zip(params.get("Code") or {})
        with self._lock:
            if name in self.functions:
                raise LambdaError("ResourceConflictException", f"Function already exist: {name}")
            latest = VersionConfig(
                version=LATEST,
                runtime=runtime,
                role=role,
                handler=handler,
                description=params.get("Description", ""),
                timeout=timeout,
                memory_size=memory,
                environment=environment,
                log_format=log_format,
                architectures=architectures,
                code_hex=code_hex,
                code_sha256=code_sha,
                code_size=code_size,
                last_modified=_now_iso(),
                revision_id=_new_revision(),
                snap_start=snap_start,
                package_type=package_type,
                image_uri=image_uri,
            )
            fn = Function(
                name=name,
                uid=uuid.uuid4().hex[:12],
                latest=latest,
                tags=dict(params.get("Tags") or {}),
                region=current_region(),
            )
            self.functions[name] = fn
            if params.get("Publish"):
                cfg = self._publish(fn, None)
                self._save()
                return self._render(fn, cfg, cfg.version)
            self._save()
            return self._render(fn, latest, None)

    def get_function(self, identifier: str, qualifier: str | None, code_url) -> dict:
        name, qualifier = parse_function_id(identifier, qualifier)
        with self._lock:
            fn = self._function(name, qualifier)
            cfg, alias = self._resolve(fn, qualifier)
            out: dict[str, Any] = {
                "Configuration": self._render(fn, cfg, qualifier),
                "Code": {"RepositoryType": "S3", "Location": code_url(fn.name, cfg.code_hex)},
            }
            if cfg.package_type == "Image":
                out["Code"] = {
                    "RepositoryType": "ECR",
                    "ImageUri": cfg.image_uri,
                    "ResolvedImageUri": cfg.image_uri,
                }
            if fn.tags:
                out["Tags"] = dict(fn.tags)
            if fn.reserved_concurrency is not None:
                out["Concurrency"] = {"ReservedConcurrentExecutions": fn.reserved_concurrency}
            return out

    def get_function_configuration(self, identifier: str, qualifier: str | None) -> dict:
        name, qualifier = parse_function_id(identifier, qualifier)
        with self._lock:
            fn = self._function(name, qualifier)
            cfg, _alias = self._resolve(fn, qualifier)
            return self._render(fn, cfg, qualifier)

    def list_functions(
        self, marker: str | None, max_items: int | None, function_version: str | None
    ) -> dict:
        if function_version not in (None, "ALL"):
            raise invalid("Invalid value for FunctionVersion: only ALL is supported.")
        with self._lock:
            items = []
            for name in sorted(self.functions):
                fn = self.functions[name]
                items.append(self._render(fn, fn.latest, None))
                if function_version == "ALL":
                    items.extend(
                        self._render(fn, v, v.version) for _, v in sorted(fn.versions.items())
                    )
        return _page(items, marker, max_items, "Functions")

    def delete_function(self, identifier: str, qualifier: str | None) -> None:
        name, qualifier = parse_function_id(identifier, qualifier)
        with self._lock:
            fn = self._function(name, qualifier)
            if qualifier is None:
                del self.functions[name]
                self._save()
                return
            if qualifier == LATEST:
                raise invalid("$LATEST version cannot be deleted without deleting the function.")
            if not qualifier.isdigit():
                raise invalid(
                    "Deletion of aliases is not supported through DeleteFunction; use DeleteAlias."
                )
            if int(qualifier) not in fn.versions:
                raise not_found(name, qualifier)
            users = sorted(
                a.name
                for a in fn.aliases.values()
                if a.function_version == qualifier or qualifier in a.additional_weights
            )
            if users:
                raise LambdaError(
                    "ResourceConflictException",
                    "Unable to delete version because the following aliases reference it: "
                    f"[{', '.join(users)}]",
                )
            del fn.versions[int(qualifier)]
            fn.pending_until.pop(qualifier, None)
            self._save()

    def update_function_code(self, identifier: str, params: dict) -> dict:
        name, qualifier = parse_function_id(identifier)
        if qualifier:
            raise invalid("Update function code is not supported for a qualified function.")
        if params.get("Architectures") is not None:
            self._architectures(params, ["x86_64"])
        code_hex, code_sha, code_size = self._zip(params)
        with self._lock:
            fn = self._function(name)
            if fn.updating():
                raise update_in_progress(name)
            self._check_revision(params.get("RevisionId"), fn.latest.revision_id)
            if params.get("DryRun"):
                return self._render(fn, fn.latest, None)
            latest = fn.latest
            before = copy.deepcopy(latest)
            latest.code_hex, latest.code_sha256, latest.code_size = code_hex, code_sha, code_size
            if params.get("Architectures"):
                latest.architectures = list(params["Architectures"])
            latest.last_modified = _now_iso()
            latest.revision_id = _new_revision()
            if params.get("Publish"):
                cfg = self._publish(fn, None)
                self._mark_updating(fn, before)
                self._save()
                return self._render(fn, cfg, cfg.version)
            self._mark_updating(fn, before)
            self._save()
            return self._render(fn, latest, None)

    def update_function_configuration(self, identifier: str, params: dict) -> dict:
        name, qualifier = parse_function_id(identifier)
        if qualifier:
            raise invalid(
                "Update function configuration is not supported for a qualified function."
            )
        with self._lock:
            fn = self._function(name)
            current = fn.latest
            memory = self._validated_int(
                params, "MemorySize", MIN_MEMORY_MB, MAX_MEMORY_MB, current.memory_size
            )
            timeout = self._validated_int(
                params, "Timeout", MIN_TIMEOUT_S, MAX_TIMEOUT_S, current.timeout
            )
            environment = self._environment(params, current.environment)
            log_format = self._log_format(params, current.log_format)
            runtime = self._runtime(params["Runtime"]) if "Runtime" in params else current.runtime
            snap_start = self._snap_start(params, runtime, current.snap_start)
            if fn.updating():
                raise update_in_progress(name)
            self._check_revision(params.get("RevisionId"), current.revision_id)
            before = copy.deepcopy(current)
            current.memory_size, current.timeout = memory, timeout
            current.environment, current.log_format, current.runtime = (
                environment,
                log_format,
                runtime,
            )
            current.snap_start = snap_start
            for key, attr in (
                ("Description", "description"),
                ("Handler", "handler"),
                ("Role", "role"),
            ):
                if key in params:
                    setattr(current, attr, params[key])
            current.last_modified = _now_iso()
            current.revision_id = _new_revision()
            self._mark_updating(fn, before)
            self._save()
            return self._render(fn, current, None)

    # ---------------------------------------------------------------- versions

    def _publish(self, fn: Function, description: str | None) -> VersionConfig:
        fingerprint = fn.latest.fingerprint()
        if fn.versions:
            newest = fn.versions[max(fn.versions)]
            if newest.source_fingerprint == fingerprint:
                return newest
        cfg = copy.deepcopy(fn.latest)
        cfg.version = str(fn.next_version)
        cfg.source_fingerprint = fingerprint
        cfg.revision_id = _new_revision()
        cfg.last_modified = _now_iso()
        if description is not None:
            cfg.description = description
        fn.versions[fn.next_version] = cfg
        fn.next_version += 1
        fn.latest.revision_id = _new_revision()
        if cfg.snap_start == "PublishedVersions" and self.snapstart_delay_s > 0:
            # Pending while Lambda would initialise the code and take the snapshot.
            fn.pending_until[cfg.version] = time.time() + self.snapstart_delay_s
        return cfg

    def publish_version(self, identifier: str, params: dict) -> dict:
        name, qualifier = parse_function_id(identifier)
        if qualifier:
            raise invalid("PublishVersion is not supported for a qualified function.")
        with self._lock:
            fn = self._function(name)
            if fn.updating():
                raise update_in_progress(name)
            self._check_revision(params.get("RevisionId"), fn.latest.revision_id)
            sha = params.get("CodeSha256")
            if sha and sha != fn.latest.code_sha256:
                raise invalid(
                    f"CodeSHA256 ({sha}) is different from current CodeSHA256 in "
                    f"$LATEST ({fn.latest.code_sha256}). Please try again with the "
                    "CodeSHA256 in $LATEST."
                )
            cfg = self._publish(fn, params.get("Description"))
            self._save()
            return self._render(fn, cfg, cfg.version)

    def list_versions(self, identifier: str, marker: str | None, max_items: int | None) -> dict:
        name, qualifier = parse_function_id(identifier)
        with self._lock:
            fn = self._function(name, qualifier)
            items = [self._render(fn, fn.latest, LATEST)]
            items.extend(self._render(fn, v, v.version) for _, v in sorted(fn.versions.items()))
        return _page(items, marker, max_items, "Versions")

    # ---------------------------------------------------------------- aliases

    @staticmethod
    def _alias_name(value: str | None) -> str:
        if not value or len(value) > 128 or not _ALIAS_RE.match(value):
            raise LambdaError(
                "ValidationException",
                f"1 validation error detected: Value '{value}' at 'name' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: "
                "(?!^[0-9]+$)([a-zA-Z0-9-_]+)",
            )
        return value

    def _alias_target(self, fn: Function, version: str | None) -> str:
        if version is None:
            raise invalid("FunctionVersion is required.")
        if version != LATEST and (not version.isdigit() or int(version) not in fn.versions):
            raise not_found(fn.name, version)
        return version

    def _weights(self, fn: Function, routing: dict | None, primary: str) -> dict[str, float]:
        weights = dict((routing or {}).get("AdditionalVersionWeights") or {})
        for version, weight in weights.items():
            if primary == LATEST:
                raise invalid(
                    "$LATEST is not supported for an alias pointing to more than 1 version"
                )
            self._alias_target(fn, version)
            if version == primary:
                raise invalid(f"Version {version} cannot be both primary and additional.")
            if not 0.0 <= float(weight) <= 1.0:
                raise invalid("Invalid AdditionalVersionWeights: weights must be in [0.0, 1.0].")
        return {k: float(v) for k, v in weights.items()}

    def _render_alias(self, fn: Function, alias: Alias) -> dict:
        out = {
            "AliasArn": fn.arn(alias.name),
            "Name": alias.name,
            "FunctionVersion": alias.function_version,
            "Description": alias.description,
            "RevisionId": alias.revision_id,
        }
        if alias.additional_weights:
            out["RoutingConfig"] = {"AdditionalVersionWeights": dict(alias.additional_weights)}
        return out

    def create_alias(self, identifier: str, params: dict) -> dict:
        name, qualifier = parse_function_id(identifier)
        alias_name = self._alias_name(params.get("Name"))
        with self._lock:
            fn = self._function(name, qualifier)
            version = self._alias_target(fn, params.get("FunctionVersion"))
            if alias_name in fn.aliases:
                raise LambdaError(
                    "ResourceConflictException", f"Alias already exists: {fn.arn(alias_name)}"
                )
            alias = Alias(
                name=alias_name,
                function_version=version,
                description=params.get("Description", ""),
                additional_weights=self._weights(fn, params.get("RoutingConfig"), version),
            )
            fn.aliases[alias_name] = alias
            self._save()
            return self._render_alias(fn, alias)

    def _alias(self, fn: Function, alias_name: str) -> Alias:
        alias = fn.aliases.get(alias_name)
        if alias is None:
            raise LambdaError("ResourceNotFoundException", f"Alias not found: {fn.arn(alias_name)}")
        return alias

    def get_alias(self, identifier: str, alias_name: str) -> dict:
        name, _ = parse_function_id(identifier)
        with self._lock:
            fn = self._function(name)
            return self._render_alias(fn, self._alias(fn, alias_name))

    def update_alias(self, identifier: str, alias_name: str, params: dict) -> dict:
        name, _ = parse_function_id(identifier)
        with self._lock:
            fn = self._function(name)
            alias = self._alias(fn, alias_name)
            self._check_revision(params.get("RevisionId"), alias.revision_id, "GetAlias")
            version = alias.function_version
            if params.get("FunctionVersion") is not None:
                version = self._alias_target(fn, params["FunctionVersion"])
            weights = alias.additional_weights
            if "RoutingConfig" in params:
                weights = self._weights(fn, params["RoutingConfig"], version)
            elif version in weights:
                weights = {}
            alias.function_version = version
            alias.additional_weights = weights
            if "Description" in params:
                alias.description = params["Description"]
            alias.revision_id = _new_revision()
            self._save()
            return self._render_alias(fn, alias)

    def delete_alias(self, identifier: str, alias_name: str) -> None:
        name, _ = parse_function_id(identifier)
        with self._lock:
            fn = self._function(name)
            if fn.aliases.pop(alias_name, None) is not None:  # AWS: deleting twice is fine
                self._save()

    def list_aliases(
        self,
        identifier: str,
        function_version: str | None,
        marker: str | None,
        max_items: int | None,
    ) -> dict:
        name, _ = parse_function_id(identifier)
        with self._lock:
            fn = self._function(name)
            items = [
                self._render_alias(fn, a)
                for _, a in sorted(fn.aliases.items())
                if function_version is None or a.function_version == function_version
            ]
        return _page(items, marker, max_items, "Aliases")

    # ---------------------------------------------------------------- tags

    def _function_for_resource(self, resource: str) -> Function:
        name, qualifier = parse_function_id(resource)
        if qualifier:
            raise invalid("Tags are only supported on the unqualified function ARN.")
        return self._function(name)

    def list_tags(self, resource: str) -> dict:
        with self._lock:
            return {"Tags": dict(self._function_for_resource(resource).tags)}

    def tag_resource(self, resource: str, tags: dict) -> None:
        with self._lock:
            self._function_for_resource(resource).tags.update(tags or {})
            self._save()

    def untag_resource(self, resource: str, keys: list[str]) -> None:
        with self._lock:
            fn = self._function_for_resource(resource)
            for key in keys:
                fn.tags.pop(key, None)
            self._save()

    # ---------------------------------------------------------------- concurrency

    def _total_reserved(self, exclude: str | None = None, region: str | None = None) -> int:
        functions = self.functions_in(region or current_region())
        return sum(fn.reserved_concurrency or 0 for fn in functions.values() if fn.name != exclude)

    def put_function_concurrency(self, identifier: str, params: dict) -> dict:
        name, qualifier = parse_function_id(identifier)
        if qualifier:
            raise invalid("Concurrency is set on the unqualified function.")
        value = params.get("ReservedConcurrentExecutions")
        if not isinstance(value, int) or value < 0:
            raise LambdaError(
                "ValidationException", "ReservedConcurrentExecutions must be a non-negative integer"
            )
        with self._lock:
            fn = self._function(name)
            floor = min_unreserved(self.gate.limit)
            if self.gate.limit - self._total_reserved(exclude=name) - value < floor:
                raise invalid(
                    f"Specified ReservedConcurrentExecutions for function decreases account's "
                    f"UnreservedConcurrentExecution below its minimum value of [{floor}]."
                )
            fn.reserved_concurrency = value
            fn.latest.revision_id = _new_revision()
            self._save()
            return {"ReservedConcurrentExecutions": value}

    def get_function_concurrency(self, identifier: str) -> dict:
        name, _ = parse_function_id(identifier)
        with self._lock:
            fn = self._function(name)
            if fn.reserved_concurrency is None:
                return {}
            return {"ReservedConcurrentExecutions": fn.reserved_concurrency}

    def delete_function_concurrency(self, identifier: str) -> None:
        name, _ = parse_function_id(identifier)
        with self._lock:
            fn = self._function(name)
            fn.reserved_concurrency = None
            fn.latest.revision_id = _new_revision()
            self._save()

    def account_settings(self) -> dict:
        with self._lock:
            total_code = 0
            for fn in self.functions.values():
                sizes = {v.code_hex: v.code_size for v in [fn.latest, *fn.versions.values()]}
                total_code += sum(sizes.values())
            return {
                "AccountLimit": {
                    "TotalCodeSize": 80530636800,
                    "CodeSizeUnzipped": 262144000,
                    "CodeSizeZipped": 52428800,
                    "ConcurrentExecutions": self.gate.limit,
                    "UnreservedConcurrentExecutions": self.gate.limit - self._total_reserved(),
                },
                "AccountUsage": {"TotalCodeSize": total_code, "FunctionCount": len(self.functions)},
            }

    # ---------------------------------------------------------------- invoke support

    def resolve_invocation(
        self, identifier: str, qualifier: str | None
    ) -> tuple[Function, VersionConfig]:
        """Configuration to run for an Invoke (alias routing weights applied)."""
        name, qualifier = parse_function_id(identifier, qualifier)
        with self._lock:
            fn = self._function(name, qualifier)
            cfg, alias = self._resolve(fn, qualifier)
            if cfg is fn.latest and fn.serving is not None and fn.updating():
                cfg = fn.serving
            if alias and alias.additional_weights:
                roll = random.random()
                for version, weight in alias.additional_weights.items():
                    if roll < weight:
                        cfg = fn.versions[int(version)]
                        break
                    roll -= weight
            if cfg.version != LATEST and fn.pending(cfg.version):
                raise still_pending()
            if cfg.package_type == "Image":
                raise invalid("This sandbox describes container images but cannot run them.")
            return fn, copy.deepcopy(cfg)

    def invocation_slot(self, fn: Function):
        with self._lock:
            reserved = fn.reserved_concurrency
            total = self._total_reserved(region=fn.region)  # also from an Event's own thread
        return self.gate.slot(fn.arn(), reserved, total)

    def function_spec(self, fn: Function, cfg: VersionConfig):
        """The runtime's FunctionSpec; its key changes with any code or configuration change."""
        from sandbox.runtime import FunctionSpec

        key = f"{fn.name}:{cfg.version}:{fn.uid}:{cfg.fingerprint()}"
        return FunctionSpec(
            key=key,
            function_name=fn.name,
            function_arn=fn.arn(cfg.version if cfg.version != LATEST else None),
            version=cfg.version,
            code_dir=str(self.code.code_dir(cfg.code_hex)),
            handler=cfg.handler,
            memory_mb=cfg.memory_size,
            timeout_s=cfg.timeout,
            environment=dict(cfg.environment),
            log_format=cfg.log_format,
            architecture=cfg.architectures[0],
            region=fn.region,
            snap_start=cfg.version != LATEST and cfg.snap_start == "PublishedVersions",
        )


def _page(items: list, marker: str | None, max_items: int | None, key: str) -> dict:
    start = 0
    if marker:
        try:
            start = int(base64.urlsafe_b64decode(marker.encode()).decode())
        except ValueError as exc:
            raise invalid("Invalid Marker") from exc
    size = min(max_items or MAX_LIST_ITEMS, MAX_LIST_ITEMS)
    out: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        out["NextMarker"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
    return out
