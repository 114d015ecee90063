"""Child side of one execution environment: the sandbox's "Python runtime".

Started by :mod:`sandbox.runtime.environment` as ``python -u -P bootstrap.py IN_FD OUT_FD``
with cwd = the function's code directory. It only imports the standard library, so the
handler's import path holds nothing of ours. It talks to the parent over two pipes with
length-prefixed frames (see :func:`write_frame`); everything the handler prints goes to
fds 1/2, which the parent points at a log file it reads after each invocation.

Protocol (parent -> child): ``init`` once, then any number of ``invoke``; EOF or
``shutdown`` ends the process. Child -> parent: ``ready`` after init, ``result`` per invoke.
"""

import time

_BOOT_T0 = time.perf_counter()

import importlib  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import struct  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402
import uuid  # noqa: E402

_FRAME = struct.Struct(">II")
_MAX_HEADER = 16 * 1024 * 1024


# --------------------------------------------------------------------------- framing
def write_frame(stream, header: dict, body: bytes = b"") -> None:
    """Write one frame: 8-byte (header length, body length), JSON header, raw body."""
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    stream.write(_FRAME.pack(len(head), len(body)) + head + body)
    stream.flush()


def _read_exact(stream, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame(stream) -> tuple[dict, bytes] | None:
    """Read one frame; None when the other side closed the pipe (or sent garbage)."""
    prefix = _read_exact(stream, _FRAME.size)
    if prefix is None:
        return None
    head_len, body_len = _FRAME.unpack(prefix)
    if head_len > _MAX_HEADER:
        return None
    head = _read_exact(stream, head_len) if head_len else b""
    body = _read_exact(stream, body_len) if body_len else b""
    if head is None or body is None:
        return None
    return json.loads(head), body


# --------------------------------------------------------------------------- memory
def _proc_status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def peak_rss_kb() -> int:
    """Peak resident set size of this process (VmHWM, or ru_maxrss as a fallback)."""
    hwm = _proc_status_kb("VmHWM")
    if hwm is None:
        hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(hwm)


def reset_peak_rss() -> None:
    """Reset VmHWM to the current RSS (Linux >= 4.0); silently ignored elsewhere."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def limit_address_space(memory_bytes: int, headroom_bytes: int) -> None:
    """Fallback memory limit: let RSS grow by about ``memory_bytes`` minus what is used.

    RLIMIT_AS counts virtual mappings, so the limit is the current virtual size plus
    the memory still allowed plus headroom for mappings that are never touched.
    """
    vm_kb = _proc_status_kb("VmSize") or 0
    rss_kb = _proc_status_kb("VmRSS") or 0
    allowed = max(0, memory_bytes - rss_kb * 1024)
    limit = vm_kb * 1024 + allowed + headroom_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


# --------------------------------------------------------------------------- logging
def _iso_now(ts: float | None = None) -> str:
    ts = time.time() if ts is None else ts
    millis = int(ts * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{millis:03d}Z"


class _RequestIdFilter(logging.Filter):
    """Adds ``aws_request_id`` to every record, like the AWS runtime does."""

    request_id = ""

    def filter(self, record):
        record.aws_request_id = _RequestIdFilter.request_id
        return True


def _stack_trace(tb) -> list[str]:
    """Formatted frames of ``tb`` without the runtime's own frames (as AWS does)."""
    frames = [f for f in traceback.extract_tb(tb) if f.filename != __file__]
    return traceback.format_list(frames)


class _JsonFormatter(logging.Formatter):
    def format(self, record):
        message = record.msg if isinstance(record.msg, dict) and not record.args else None
        doc = {
            "timestamp": _iso_now(record.created),
            "level": record.levelname,
            "message": message if message is not None else record.getMessage(),
            "logger": record.name,
            "requestId": getattr(record, "aws_request_id", _RequestIdFilter.request_id),
        }
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, exc, tb = record.exc_info
            doc["errorType"] = exc_type.__name__
            doc["errorMessage"] = str(exc)
            doc["stackTrace"] = _stack_trace(tb)
        return json.dumps(doc, default=str)


class _LogSink(logging.Handler):
    """Root logging handler writing AWS-formatted records to the invocation log (fd 1)."""

    def __init__(self, stream, json_format: bool):
        super().__init__()
        self.stream = stream
        self.addFilter(_RequestIdFilter())
        if json_format:
            self.setFormatter(_JsonFormatter())
        else:
            fmt = logging.Formatter(
                "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
                "%Y-%m-%dT%H:%M:%S",
            )
            fmt.converter = time.gmtime
            self.setFormatter(fmt)

    def emit(self, record):
        try:
            self.stream.write(self.format(record) + "\n")
            self.stream.flush()
        except Exception:
            self.handleError(record)


def log_error(stream, error: dict, json_format: bool) -> None:
    """Log an error result the way the AWS Python runtime does."""
    if json_format:
        doc = {
            "timestamp": _iso_now(),
            "level": "ERROR",
            "message": error.get("errorMessage", ""),
            "logger": "root",
            "requestId": error.get("requestId", _RequestIdFilter.request_id),
            "errorType": error.get("errorType", ""),
            "errorMessage": error.get("errorMessage", ""),
            "stackTrace": error.get("stackTrace", []),
        }
        stream.write(json.dumps(doc, default=str) + "\n")
    else:
        lines = ["[ERROR] {}: {}".format(error.get("errorType"), error.get("errorMessage"))]
        lines.append("Traceback (most recent call last):")
        for element in error.get("stackTrace") or []:
            lines.extend(element.splitlines())
        stream.write("\n".join(lines) + "\n")
    stream.flush()


# --------------------------------------------------------------------------- handler
class FaultError(Exception):
    def __init__(self, error_type: str, message: str, trace: list[str] | None = None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


def load_handler(handler: str):
    """Import and return the handler function named like AWS's ``module.function``."""
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as exc:
        message = f"Bad handler '{handler}': {exc}"
        raise FaultError("Runtime.MalformedHandlerName", message) from None
    if modname.split(".")[0] in sys.builtin_module_names:
        raise FaultError(
            "Runtime.BuiltInModuleConflict",
            f"Cannot use built-in module {modname} as a handler module",
        )
    try:
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as exc:
        raise FaultError(
            "Runtime.ImportModuleError", f"Unable to import module '{modname}': {exc}"
        ) from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise FaultError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{modname}': {exc}", trace
        ) from None
    func = getattr(module, fname, None)
    if func is None:
        message = f"Handler '{fname}' missing on module '{modname}'"
        raise FaultError("Runtime.HandlerNotFound", message)
    return func


class LambdaContext:
    """The ``context`` object handed to handlers (same attributes as AWS's)."""

    def __init__(self, cfg: dict, request_id: str, invoked_arn: str, timeout_s: float):
        self.function_name = cfg["function_name"]
        self.function_version = cfg["version"]
        self.invoked_function_arn = invoked_arn
        self.memory_limit_in_mb = str(cfg["memory_mb"])
        self.aws_request_id = request_id
        self.log_group_name = cfg["log_group_name"]
        self.log_stream_name = cfg["log_stream_name"]
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def log(self, msg) -> None:
        sys.stdout.write(str(msg))
        sys.stdout.flush()


def _error_doc(error_type: str, message: str, request_id: str, trace: list[str]) -> dict:
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": trace,
    }


def _trace_id() -> str:
    root, parent = uuid.uuid4().hex[:24], uuid.uuid4().hex[:16]
    return f"Root=1-{int(time.time()):08x}-{root};Parent={parent};Sampled=0"


def _invoke(func, cfg: dict, header: dict, body: bytes, out, json_logs: bool):
    request_id = header["request_id"]
    _RequestIdFilter.request_id = request_id
    os.environ["_X_AMZN_TRACE_ID"] = _trace_id()
    context = LambdaContext(cfg, request_id, header["invoked_arn"], header["timeout_s"])
    if header.get("reset_peak", True):
        reset_peak_rss()
    status, error_type, payload = "success", None, b""
    start = time.perf_counter()
    try:
        try:
            event = json.loads(body) if body.strip() else {}
        except ValueError as exc:
            message = f"Unable to unmarshal input: {exc}"
            raise FaultError("Runtime.UnmarshalError", message) from None
        result = func(event, context)
        try:
            payload = json.dumps(result).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise FaultError("Runtime.MarshalError", f"Unable to marshal response: {exc}") from None
    except MemoryError:
        status, error_type = "oom", "Runtime.OutOfMemory"
    except FaultError as exc:
        status, error_type = "error", exc.error_type
        doc = _error_doc(exc.error_type, exc.message, request_id, exc.trace)
        log_error(sys.stdout, doc, json_logs)
        payload = json.dumps(doc).encode("utf-8")
    except Exception as exc:
        status, error_type = "error", type(exc).__name__
        doc = _error_doc(type(exc).__name__, str(exc), request_id, _stack_trace(exc.__traceback__))
        log_error(sys.stdout, doc, json_logs)
        payload = json.dumps(doc, default=str).encode("utf-8")
    duration_ms = (time.perf_counter() - start) * 1000.0
    sys.stdout.flush()
    sys.stderr.flush()
    header = {
        "type": "result",
        "status": status,
        "error_type": error_type,
        "duration_ms": duration_ms,
        "peak_rss_kb": peak_rss_kb(),
    }
    write_frame(out, header, payload)


def main(argv: list[str]) -> int:
    inp = os.fdopen(int(argv[1]), "rb", buffering=0)
    out = os.fdopen(int(argv[2]), "wb", buffering=0)
    boot_ms = (time.perf_counter() - _BOOT_T0) * 1000.0
    frame = read_frame(inp)
    if frame is None or frame[0].get("type") != "init":
        return 0
    cfg = frame[0]
    init_start = time.perf_counter()
    json_logs = cfg.get("log_format") == "JSON"

    root = logging.getLogger()
    root.handlers[:] = [_LogSink(sys.stdout, json_logs)]
    if json_logs:
        root.setLevel(os.environ.get("AWS_LAMBDA_LOG_LEVEL", "INFO").upper())

    if cfg.get("rlimit_memory_bytes"):
        limit_address_space(cfg["rlimit_memory_bytes"], cfg.get("rlimit_headroom_bytes", 0))

    code_dir = os.getcwd()
    if code_dir not in sys.path:
        sys.path.insert(0, code_dir)

    error, func = None, None
    try:
        func = load_handler(cfg["handler"])
    except FaultError as exc:
        error = _error_doc(exc.error_type, exc.message, "", exc.trace)
    except MemoryError:
        error = {"errorType": "Runtime.OutOfMemory", "errorMessage": "", "stackTrace": []}
    except Exception as exc:
        error = _error_doc(type(exc).__name__, str(exc), "", _stack_trace(exc.__traceback__))
    if error is not None and error["errorType"] != "Runtime.OutOfMemory":
        log_error(sys.stdout, error, json_logs)
    sys.stdout.flush()
    sys.stderr.flush()
    init_ms = boot_ms + (time.perf_counter() - init_start) * 1000.0
    ready = {
        "type": "ready",
        "init_ms": init_ms,
        "runtime_ms": boot_ms,  # the runtime's own start, before the handler's module loads
        "error": error,
        "peak_rss_kb": peak_rss_kb(),
    }
    write_frame(out, ready)
    if error is not None:
        return 1

    while True:
        frame = read_frame(inp)
        if frame is None or frame[0].get("type") != "invoke":
            return 0
        _invoke(func, cfg, frame[0], frame[1], out, json_logs)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
