"""The Lambda REST API (rest-json, API version 2015-03-31) over plain HTTP.

Routes, status codes, headers and error shapes follow botocore's service model
(``botocore/data/lambda/2015-03-31/service-2.json``) so that an unmodified
``boto3.client("lambda", endpoint_url=...)`` sees the same responses and raises
the same ``ClientError`` codes as against AWS. Errors carry
``x-amzn-ErrorType: <Code>`` and a JSON body ``{"Type": "User", "message": ...}``;
every response has an ``x-amzn-RequestId``.

Each request is served in the region of its SigV4 credential scope (``Authorization:
AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/lambda/aws4_request, ...``), as AWS's
regional endpoints are: functions are per region. A request without that header (curl, the
``/_sandbox/`` routes) is served in us-east-1. Signatures are not checked.

Besides the AWS routes, ``/_sandbox/`` holds test-control endpoints (not AWS):

* ``GET /_sandbox/config`` / ``POST /_sandbox/config`` with
  ``{"concurrency_limit": N, "update_delay_s": x, "snapstart_delay_s": y}`` (any of them;
  ``snapstart_delay_s`` applies to versions published from then on); POST answers
  ``{"previous": {...}, "current": {...}}``.
* ``GET /_sandbox/stats``: ``{"invocations", "throttled", "in_flight", "environments",
  "calls_by_operation": {"GetFunction": 3, ...}}``.
* ``GET /_sandbox/code/<function>/<sha256>.zip``: what ``GetFunction``'s ``Code.Location``
  points at.
* Fault injection (``sandbox.faults``), to test what a caller does when a Lambda call fails:

  - ``POST /_sandbox/faults`` with ``{"operation": "UpdateFunctionConfiguration", "nth": 2,
    "times": 1, "error": "TooManyRequestsException", "delay_s": 0, "function": "my-fn"}``
    adds a rule and answers it as stored: the fields with defaults filled in, the error
    alias resolved, ``function`` as a name, plus ``id``, ``seen`` and ``fired``.
    The ``nth`` matching call from now on (1 = the next) and the ``times - 1`` after it
    fail (``times`` default 1; 0 or null = every call from the nth on).
    ``operation`` is AWS's name (``OPERATIONS`` below; ``DeleteFunction`` also covers
    deleting a version). ``function`` (optional; a name or ARN) matches calls naming that
    function by name, ARN or qualified ARN.
    ``error`` (default ``ServiceException``) is answered like Lambda's own errors:
    ``TooManyRequestsException`` (429; alias ``ThrottlingException``),
    ``ServiceException`` (500), ``AccessDeniedException`` (403),
    ``ResourceConflictException`` (409), ``ResourceNotFoundException`` (404),
    ``InvalidParameterValueException`` (400); or ``"timeout"``: hold the request
    ``delay_s`` (default 30) then close the connection unanswered; or null: only delay.
    ``delay_s`` (default 0) waits before the error or before serving the call normally.
    The fault is decided before the handler runs, so a failed call changes nothing.
    Every matching call counts for every rule, even one another rule fails. A bad rule
    gets 400 with a message listing the valid values.
  - ``GET /_sandbox/faults``: ``{"rules": [{..., "seen": N, "fired": N}]}`` (matching calls
    counted, calls failed or delayed).
  - ``DELETE /_sandbox/faults``: ``{"cleared": N}``; removes every rule.
  - The Price List operations (``GetProducts``, ``DescribeServices``, ``GetAttributeValues``)
    take rules too; their errors are answered as Pricing's (``sandbox.pricelist``).
* ``POST /_sandbox/pricelist`` / ``DELETE /_sandbox/pricelist``: override Price List prices
  (``sandbox.pricelist``).

``POST /`` with ``X-Amz-Target: AWSPriceListService.*`` is the Price List Query API
(``sandbox.pricelist``), served on this port as ``AWS_ENDPOINT_URL_PRICING``.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from sandbox.faults import TIMEOUT, FaultRules, function_name, injected_error
from sandbox.lambda_state import (
    LATEST,
    REGION,
    LambdaError,
    LambdaState,
    in_region,
    parse_function_id,
)
from sandbox.pricelist import FAULT_ERRORS, PriceListApi, PriceListError
from sandbox.pricelist import OPERATIONS as PRICELIST_OPERATIONS

_CREDENTIAL_SCOPE_RE = re.compile(r"Credential=[^/,\s]*/\d{8}/(?P<region>[^/,\s]*)/")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")

MAX_SYNC_PAYLOAD = 6 * 1024 * 1024
MAX_ASYNC_PAYLOAD = 1024 * 1024
LOG_TAIL_BYTES = 4096
ASYNC_RETRY_FOR_S = 60.0


@dataclasses.dataclass
class Response:
    status: int = 200
    body: bytes | dict | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    request_id: str
    query_lists: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    def json(self) -> dict:
        if not self.body.strip():
            return {}
        try:
            data = json.loads(self.body)
        except ValueError as exc:
            raise LambdaError(
                "InvalidRequestContentException", f"Could not parse request body into json: {exc}"
            ) from exc
        if not isinstance(data, dict):
            raise LambdaError(
                "InvalidRequestContentException",
                "Could not parse request body into json: expected an object",
            )
        return data

    def int_query(self, key: str) -> int | None:
        value = self.query.get(key)
        if value is None:
            return None
        if not value.isdigit() or int(value) < 1:
            raise LambdaError(
                "ValidationException",
                f"1 validation error detected: Value '{value}' at '{key[0].lower()}{key[1:]}' "
                "failed to satisfy constraint: Member must have value greater than or equal to 1",
            )
        return int(value)


_FN = r"(?P<fn>[^/]+)"
_ROUTES: list[tuple[str, re.Pattern, str]] = [
    (method, re.compile(f"^{pattern}/?$"), name)
    for method, pattern, name in [
        ("POST", "/2015-03-31/functions", "create_function"),
        ("GET", "/2015-03-31/functions", "list_functions"),
        ("GET", f"/2015-03-31/functions/{_FN}", "get_function"),
        ("DELETE", f"/2015-03-31/functions/{_FN}", "delete_function"),
        ("GET", f"/2015-03-31/functions/{_FN}/configuration", "get_function_configuration"),
        ("PUT", f"/2015-03-31/functions/{_FN}/configuration", "update_function_configuration"),
        ("PUT", f"/2015-03-31/functions/{_FN}/code", "update_function_code"),
        ("POST", f"/2015-03-31/functions/{_FN}/versions", "publish_version"),
        ("GET", f"/2015-03-31/functions/{_FN}/versions", "list_versions"),
        ("POST", f"/2015-03-31/functions/{_FN}/aliases", "create_alias"),
        ("GET", f"/2015-03-31/functions/{_FN}/aliases", "list_aliases"),
        ("GET", f"/2015-03-31/functions/{_FN}/aliases/(?P<alias>[^/]+)", "get_alias"),
        ("PUT", f"/2015-03-31/functions/{_FN}/aliases/(?P<alias>[^/]+)", "update_alias"),
        ("DELETE", f"/2015-03-31/functions/{_FN}/aliases/(?P<alias>[^/]+)", "delete_alias"),
        ("POST", f"/2015-03-31/functions/{_FN}/invocations", "invoke"),
        ("PUT", f"/2017-10-31/functions/{_FN}/concurrency", "put_function_concurrency"),
        ("DELETE", f"/2017-10-31/functions/{_FN}/concurrency", "delete_function_concurrency"),
        ("GET", f"/2019-09-30/functions/{_FN}/concurrency", "get_function_concurrency"),
        ("GET", "/2016-08-19/account-settings", "get_account_settings"),
        ("GET", "/2017-03-31/tags/(?P<arn>[^/]+)", "list_tags"),
        ("POST", "/2017-03-31/tags/(?P<arn>[^/]+)", "tag_resource"),
        ("DELETE", "/2017-03-31/tags/(?P<arn>[^/]+)", "untag_resource"),
        ("GET", "/_sandbox/config", "sandbox_get_config"),
        ("POST", "/_sandbox/config", "sandbox_set_config"),
        ("GET", "/_sandbox/stats", "sandbox_stats"),
        ("GET", "/_sandbox/faults", "sandbox_list_faults"),
        ("POST", "/_sandbox/faults", "sandbox_add_fault"),
        ("DELETE", "/_sandbox/faults", "sandbox_clear_faults"),
        ("POST", "/_sandbox/pricelist", "sandbox_set_price"),
        ("DELETE", "/_sandbox/pricelist", "sandbox_clear_prices"),
        ("GET", "/_sandbox/code/(?P<fn>[^/]+)/(?P<sha>[0-9a-f]{64})\\.zip", "sandbox_code"),
    ]
]

# AWS's names for the routes' operations (what fault rules name); /_sandbox/ routes have none.
OPERATIONS = {
    "create_function": "CreateFunction",
    "list_functions": "ListFunctions",
    "get_function": "GetFunction",
    "delete_function": "DeleteFunction",
    "get_function_configuration": "GetFunctionConfiguration",
    "update_function_configuration": "UpdateFunctionConfiguration",
    "update_function_code": "UpdateFunctionCode",
    "publish_version": "PublishVersion",
    "list_versions": "ListVersionsByFunction",
    "create_alias": "CreateAlias",
    "list_aliases": "ListAliases",
    "get_alias": "GetAlias",
    "update_alias": "UpdateAlias",
    "delete_alias": "DeleteAlias",
    "invoke": "Invoke",
    "put_function_concurrency": "PutFunctionConcurrency",
    "delete_function_concurrency": "DeleteFunctionConcurrency",
    "get_function_concurrency": "GetFunctionConcurrency",
    "get_account_settings": "GetAccountSettings",
    "list_tags": "ListTags",
    "tag_resource": "TagResource",
    "untag_resource": "UntagResource",
}


class DropConnection(Exception):
    """Close the connection without answering (an injected ``"timeout"``)."""


def _jsonable(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if hasattr(value, "__dict__"):
        return {k: v for k, v in vars(value).items() if not k.startswith("_")}
    return str(value)


class LambdaApi:
    """Maps parsed requests onto :class:`LambdaState` and the runtime's EnvironmentPool."""

    def __init__(self, state: LambdaState, pool, base_url: Callable[[], str]):
        self.state = state
        self.pool = pool
        self.base_url = base_url
        self.faults = FaultRules([*OPERATIONS.values(), *PRICELIST_OPERATIONS])
        self.pricelist = PriceListApi()

    # ------------------------------------------------------------ dispatch

    def handle(self, request: Request) -> Response:
        target = request.headers.get("x-amz-target", "")
        if request.method == "POST" and target.startswith("AWSPriceListService."):
            return self._pricelist(target, request)
        allowed = False
        for method, pattern, name in _ROUTES:
            match = pattern.match(request.path)
            if not match:
                continue
            allowed = True
            if method != request.method:
                continue
            request.params = {k: unquote(v) for k, v in match.groupdict().items()}
            if name in OPERATIONS:
                self._inject_fault(OPERATIONS[name], request)
            return getattr(self, name)(request)
        if allowed:
            raise LambdaError(
                "UnknownOperationException",
                f"Method {request.method} not allowed on {request.path}",
            )
        raise LambdaError("UnknownOperationException", f"Unknown operation {request.path}")

    def _inject_fault(self, operation: str, r: Request) -> None:
        """Apply the first due fault rule; runs before the handler, so a failed call changes
        nothing."""
        function = function_name(r.params.get("fn") or r.params.get("arn"))
        rule = self.faults.check(operation, function)
        if rule is None:
            return
        time.sleep(rule.delay_s)
        if rule.error == TIMEOUT:
            raise DropConnection
        if rule.error:
            raise injected_error(rule, function)

    def _pricelist(self, target: str, r: Request) -> Response:
        """The Price List Query API (sandbox.pricelist), JSON protocol on ``POST /``."""
        headers = {"Content-Type": "application/x-amz-json-1.1"}
        operation = target.partition(".")[2]
        rule = self.faults.check(operation, None) if operation in PRICELIST_OPERATIONS else None
        if rule is not None:
            time.sleep(rule.delay_s)
            if rule.error == TIMEOUT:
                raise DropConnection
            if rule.error:
                code = FAULT_ERRORS.get(rule.error, "InternalErrorException")
                error = PriceListError(code, f"{code} (sandbox fault {rule.id})")
                return Response(error.status, error.body(), headers)
        status, body = self.pricelist.handle(target, r.body)
        return Response(status, body, headers)

    # ------------------------------------------------------------ functions

    def _code_url(self, name: str, code_hex: str) -> str:
        return f"{self.base_url()}/_sandbox/code/{name}/{code_hex}.zip"

    def create_function(self, r: Request) -> Response:
        return Response(201, self.state.create_function(r.json()))

    def list_functions(self, r: Request) -> Response:
        return Response(
            200,
            self.state.list_functions(
                r.query.get("Marker"), r.int_query("MaxItems"), r.query.get("FunctionVersion")
            ),
        )

    def get_function(self, r: Request) -> Response:
        return Response(
            200, self.state.get_function(r.params["fn"], r.query.get("Qualifier"), self._code_url)
        )

    def delete_function(self, r: Request) -> Response:
        name, qualifier = parse_function_id(r.params["fn"], r.query.get("Qualifier"))
        self.state.delete_function(name, qualifier)
        self.pool.retire(name, qualifier)
        return Response(204)

    def get_function_configuration(self, r: Request) -> Response:
        return Response(
            200, self.state.get_function_configuration(r.params["fn"], r.query.get("Qualifier"))
        )

    def update_function_configuration(self, r: Request) -> Response:
        return Response(200, self.state.update_function_configuration(r.params["fn"], r.json()))

    def update_function_code(self, r: Request) -> Response:
        return Response(200, self.state.update_function_code(r.params["fn"], r.json()))

    def publish_version(self, r: Request) -> Response:
        return Response(201, self.state.publish_version(r.params["fn"], r.json()))

    def list_versions(self, r: Request) -> Response:
        return Response(
            200,
            self.state.list_versions(
                r.params["fn"], r.query.get("Marker"), r.int_query("MaxItems")
            ),
        )

    # ------------------------------------------------------------ aliases

    def create_alias(self, r: Request) -> Response:
        return Response(201, self.state.create_alias(r.params["fn"], r.json()))

    def list_aliases(self, r: Request) -> Response:
        return Response(
            200,
            self.state.list_aliases(
                r.params["fn"],
                r.query.get("FunctionVersion"),
                r.query.get("Marker"),
                r.int_query("MaxItems"),
            ),
        )

    def get_alias(self, r: Request) -> Response:
        return Response(200, self.state.get_alias(r.params["fn"], r.params["alias"]))

    def update_alias(self, r: Request) -> Response:
        return Response(200, self.state.update_alias(r.params["fn"], r.params["alias"], r.json()))

    def delete_alias(self, r: Request) -> Response:
        self.state.delete_alias(r.params["fn"], r.params["alias"])
        return Response(204)

    # ------------------------------------------------------------ concurrency, account, tags

    def put_function_concurrency(self, r: Request) -> Response:
        return Response(200, self.state.put_function_concurrency(r.params["fn"], r.json()))

    def get_function_concurrency(self, r: Request) -> Response:
        return Response(200, self.state.get_function_concurrency(r.params["fn"]))

    def delete_function_concurrency(self, r: Request) -> Response:
        self.state.delete_function_concurrency(r.params["fn"])
        return Response(204)

    def get_account_settings(self, r: Request) -> Response:
        return Response(200, self.state.account_settings())

    def list_tags(self, r: Request) -> Response:
        return Response(200, self.state.list_tags(r.params["arn"]))

    def tag_resource(self, r: Request) -> Response:
        self.state.tag_resource(r.params["arn"], r.json().get("Tags") or {})
        return Response(204)

    def untag_resource(self, r: Request) -> Response:
        self.state.untag_resource(r.params["arn"], r.query_lists.get("tagKeys", []))
        return Response(204)

    # ------------------------------------------------------------ invoke

    def invoke(self, r: Request) -> Response:
        invocation_type = r.headers.get("x-amz-invocation-type", "RequestResponse")
        if invocation_type not in ("RequestResponse", "Event", "DryRun"):
            raise LambdaError(
                "ValidationException",
                f"1 validation error detected: Value '{invocation_type}' at 'invocationType' "
                "failed to satisfy constraint: Member must satisfy enum value set: "
                "[Event, RequestResponse, DryRun]",
            )
        log_type = r.headers.get("x-amz-log-type", "None")
        fn, cfg = self.state.resolve_invocation(r.params["fn"], r.query.get("Qualifier"))
        payload = r.body if r.body.strip() else b"{}"
        limit = MAX_ASYNC_PAYLOAD if invocation_type == "Event" else MAX_SYNC_PAYLOAD
        if len(payload) > limit:
            raise LambdaError(
                "RequestTooLargeException",
                f"Request must be smaller than {limit} bytes for the InvokeFunction operation",
            )
        try:
            json.loads(payload)
        except ValueError as exc:
            raise LambdaError(
                "InvalidRequestContentException", f"Could not parse request body into json: {exc}"
            ) from exc
        headers = {"X-Amz-Executed-Version": cfg.version}
        if invocation_type == "DryRun":
            return Response(204, None, headers)
        if invocation_type == "Event":
            threading.Thread(
                target=self._invoke_async,
                args=(fn, cfg, payload, r.request_id),
                daemon=True,
                name=f"event-{r.request_id[:8]}",
            ).start()
            return Response(202, None, headers)
        with self.state.invocation_slot(fn):
            result = self.pool.invoke(self.state.function_spec(fn, cfg), payload, r.request_id)
        if result.function_error:
            headers["X-Amz-Function-Error"] = result.function_error
        if log_type == "Tail":
            tail = (result.log or "").encode()[-LOG_TAIL_BYTES:]
            headers["X-Amz-Log-Result"] = base64.b64encode(tail).decode()
        return Response(200, result.payload or b"null", headers)

    def _invoke_async(self, fn, cfg, payload: bytes, request_id: str) -> None:
        """Event invocations are queued by AWS: retry throttles for a while, then drop."""
        deadline = time.monotonic() + ASYNC_RETRY_FOR_S
        while True:
            try:
                with self.state.invocation_slot(fn):
                    self.pool.invoke(self.state.function_spec(fn, cfg), payload, request_id)
                return
            except LambdaError as exc:
                if exc.code != "TooManyRequestsException" or time.monotonic() > deadline:
                    print(
                        f"sandbox: async invoke {request_id} dropped: {exc.message}",
                        file=sys.stderr,
                    )
                    return
                time.sleep(0.1)
            except Exception:  # noqa: BLE001 - report and drop, as an async invoke does
                traceback.print_exc()
                return

    # ------------------------------------------------------------ sandbox control

    def _config(self) -> dict:
        return {
            "concurrency_limit": self.state.gate.limit,
            "update_delay_s": self.state.update_delay_s,
            "snapstart_delay_s": self.state.snapstart_delay_s,
        }

    def sandbox_get_config(self, r: Request) -> Response:
        return Response(200, self._config())

    def sandbox_set_config(self, r: Request) -> Response:
        data = r.json()
        delays = ("update_delay_s", "snapstart_delay_s")
        unknown = set(data) - {"concurrency_limit", *delays}
        if unknown:
            raise LambdaError(
                "InvalidParameterValueException", f"Unknown sandbox settings: {sorted(unknown)}"
            )
        limit = data.get("concurrency_limit")
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise LambdaError(
                "InvalidParameterValueException", "concurrency_limit must be a non-negative integer"
            )
        for key in delays:
            delay = data.get(key)
            if delay is not None and (not isinstance(delay, int | float) or delay < 0):
                raise LambdaError(
                    "InvalidParameterValueException", f"{key} must be a non-negative number"
                )
        previous = self._config()
        if limit is not None:
            self.state.gate.limit = limit
        for key in delays:
            if data.get(key) is not None:
                setattr(self.state, key, float(data[key]))
        return Response(200, {"previous": previous, "current": self._config()})

    def sandbox_stats(self, r: Request) -> Response:
        gate = self.state.gate
        try:
            environments = self.pool.environments()
        except Exception as exc:  # noqa: BLE001 - stats must not fail
            environments = [f"unavailable: {exc}"]
        body = {
            "invocations": gate.invocations,
            "throttled": gate.throttled,
            "in_flight": gate.in_flight,
            "environments": environments,
            "calls_by_operation": self.faults.calls_by_operation(),
            "cpu": {  # cores: what invocations may use together, and the most they did
                "capacity": self.pool.cpu_capacity,
                "peak_in_use": round(self.pool.peak_cpu_in_use, 3),
            },
        }
        return Response(
            200, json.dumps(body, default=_jsonable).encode(), {"Content-Type": "application/json"}
        )

    def sandbox_list_faults(self, r: Request) -> Response:
        return Response(200, {"rules": self.faults.rules()})

    def sandbox_add_fault(self, r: Request) -> Response:
        try:
            return Response(200, self.faults.add(r.json()))
        except ValueError as exc:
            raise LambdaError("InvalidParameterValueException", str(exc)) from exc

    def sandbox_clear_faults(self, r: Request) -> Response:
        return Response(200, {"cleared": self.faults.clear()})

    def sandbox_set_price(self, r: Request) -> Response:
        try:
            return Response(200, self.pricelist.set_override(r.json()))
        except ValueError as exc:
            raise LambdaError("InvalidParameterValueException", str(exc)) from exc

    def sandbox_clear_prices(self, r: Request) -> Response:
        return Response(200, {"cleared": self.pricelist.clear_overrides()})

    def sandbox_code(self, r: Request) -> Response:
        path = self.state.code.zip_path(r.params["sha"])
        if not path.exists():
            raise LambdaError("ResourceNotFoundException", "No such code package")
        return Response(200, path.read_bytes(), {"Content-Type": "application/zip"})


def request_region(headers: dict[str, str]) -> str:
    """The region of a request's SigV4 credential scope (us-east-1 when it has none)."""
    match = _CREDENTIAL_SCOPE_RE.search(headers.get("authorization", ""))
    if match is None:
        return REGION
    region = match["region"]
    if not _REGION_RE.match(region):
        raise LambdaError(
            "InvalidSignatureException",
            f"Credential should be scoped to a valid region, not '{region}'. ",
        )
    return region


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LambdaHTTPServer

    def do_GET(self):  # noqa: N802 - http.server naming
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET  # noqa: N815

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        request_id = str(uuid.uuid4())
        try:
            body = self._read_body()
            split = urlsplit(self.path)
            query_lists = parse_qs(split.query, keep_blank_values=True)
            request = Request(
                method=self.command,
                path=split.path,
                params={},
                query={k: v[-1] for k, v in query_lists.items()},
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                request_id=request_id,
                query_lists=query_lists,
            )
            with in_region(request_region(request.headers)):
                response = self.server.api.handle(request)
        except DropConnection:
            self.close_connection = True
            return
        except LambdaError as exc:
            response = Response(
                exc.status, exc.body(), {"x-amzn-ErrorType": exc.code, **exc.headers}
            )
        except Exception as exc:  # noqa: BLE001 - AWS answers ServiceException
            traceback.print_exc()
            error = LambdaError("ServiceException", f"{type(exc).__name__}: {exc}")
            response = Response(500, error.body(), {"x-amzn-ErrorType": error.code})
        self._send(response, request_id)

    def _send(self, response: Response, request_id: str) -> None:
        body = response.body
        headers = {"Content-Type": "application/json", **response.headers}
        if isinstance(body, dict):
            body = json.dumps(body).encode()
        body = body or b""
        self.send_response(response.status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("x-amzn-RequestId", request_id)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - http.server signature
        if self.server.verbose:
            sys.stderr.write(f"lambda-api {self.address_string()} {format % args}\n")


class LambdaHTTPServer(ThreadingHTTPServer):
    """Threaded HTTP server for the Lambda API; one thread per connection."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        state: LambdaState,
        pool,
        host: str = "127.0.0.1",
        port: int = 0,
        verbose: bool = False,
    ):
        super().__init__((host, port), _Handler)
        self.verbose = verbose
        self.api = LambdaApi(state, pool, lambda: self.url)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LambdaHTTPServer:
        self._thread = threading.Thread(target=self.serve_forever, name="lambda-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()


__all__ = ["LATEST", "LambdaApi", "LambdaHTTPServer", "Request", "Response"]
