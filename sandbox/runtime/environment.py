"""One execution environment: a long-lived child process running ``bootstrap.py``."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass

from sandbox.runtime import bootstrap
from sandbox.runtime.isolation import RLIMIT_HEADROOM_BYTES, EnvLimits, read_text
from sandbox.runtime.spec import FunctionSpec

BOOTSTRAP_PATH = os.path.abspath(bootstrap.__file__)
RUNTIME_DIR = os.path.dirname(BOOTSTRAP_PATH)
INIT_TIMEOUT_S = 10.0
PASSTHROUGH = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
_SIGNAL_NAMES = {
    signal.SIGKILL: "killed",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGTERM: "terminated",
    signal.SIGBUS: "bus error",
}

TIMEOUT = "timeout"


@dataclass
class Outcome:
    """What happened in the child during init or one invocation.

    status: success | error (handler raised / init failed) | timeout | oom | exit
    """

    status: str
    payload: bytes = b""
    error_type: str | None = None
    duration_ms: float = 0.0
    peak_rss_kb: int | None = None
    exit_reason: str = ""
    error: dict | None = None
    started_at: float | None = None


def join_cgroups_then_exec(procs_files: list[str], argv: list[str]) -> list[str]:
    """Command that writes its pid into each cgroup, then execs ``argv`` (no preexec_fn,
    which is unsafe in a threaded parent). Exit status 125 means a cgroup refused it."""
    if not procs_files:
        return argv
    n = len(procs_files)
    script = "".join(f'echo $$ > "${i}" || exit 125; ' for i in range(1, n + 1))
    script += f'shift {n}; exec "$@"'
    return ["/bin/sh", "-c", script, "sh", *procs_files, *argv]


def build_env(spec: FunctionSpec, log_stream: str) -> dict[str, str]:
    """Process environment of the child: like Lambda's, plus the way back to the sandbox."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
    }
    for name, value in os.environ.items():
        if name.startswith("AWS_ENDPOINT_URL") or name in PASSTHROUGH:
            env[name] = value
    env.update({str(k): str(v) for k, v in (spec.environment or {}).items()})
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_LAMBDA_LOG_FORMAT": spec.log_format,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "_HANDLER": spec.handler,
            "LAMBDA_TASK_ROOT": os.path.abspath(spec.code_dir),
            "LAMBDA_RUNTIME_DIR": RUNTIME_DIR,
        }
    )
    return env


class Environment:
    """A child process bound to one FunctionSpec key. Not thread-safe for invocations:
    the pool hands an environment to one invoking thread at a time."""

    def __init__(self, spec: FunctionSpec, env_id: str, limits: EnvLimits, log_dir: str):
        self.spec = spec
        self.id = env_id
        self.limits = limits
        self.log_path = os.path.join(log_dir, f"{env_id}.log")
        self.log_stream = "{}/[{}]{}".format(
            time.strftime("%Y/%m/%d", time.gmtime()), spec.version, uuid.uuid4().hex
        )
        self.proc: subprocess.Popen | None = None
        self.busy = True
        self.idle_since: float | None = None
        self.created = time.time()
        self.invocations = 0
        self.init_ms: float | None = None
        self.runtime_ms = 0.0  # part of init_ms before the handler's module was loaded
        self.retired = False  # its function or version was deleted: close, never reuse
        self._to_child = None
        self._from_child = None
        self._log_offset = 0
        self._close_lock = threading.Lock()
        self._closed = False
        self._doomed = False

    # ------------------------------------------------------------------ lifecycle
    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def alive(self) -> bool:
        return not self._closed and self.proc is not None and self.proc.poll() is None

    def start(self) -> Outcome:
        """Spawn the child, put it in its limits, run init (import the handler)."""
        spec = self.spec
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        try:
            with self._close_lock, open(self.log_path, "ab") as log:
                if self._doomed:
                    raise OSError("the pool is shutting down")
                self.proc = subprocess.Popen(
                    join_cgroups_then_exec(
                        self.limits.procs_files(),
                        [sys.executable, "-u", "-P", BOOTSTRAP_PATH, str(in_r), str(out_w)],
                    ),
                    cwd=spec.code_dir,
                    env=build_env(spec, self.log_stream),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    pass_fds=(in_r, out_w),
                    start_new_session=True,
                )
        except OSError as exc:
            for fd in (in_r, in_w, out_r, out_w):
                os.close(fd)
            self._closed = True
            return Outcome("exit", exit_reason=str(exc))
        os.close(in_r)
        os.close(out_w)
        self._to_child = os.fdopen(in_w, "wb", buffering=0)
        self._from_child = os.fdopen(out_r, "rb", buffering=0)
        self.limits.attach(self.proc)
        init = {
            "type": "init",
            "handler": spec.handler,
            "log_format": spec.log_format,
            "function_name": spec.function_name,
            "version": spec.version,
            "memory_mb": spec.memory_mb,
            "log_group_name": f"/aws/lambda/{spec.function_name}",
            "log_stream_name": self.log_stream,
            "rlimit_memory_bytes": self.limits.rlimit_memory_bytes,
            "rlimit_headroom_bytes": RLIMIT_HEADROOM_BYTES,
        }
        self.limits.throttle(True)
        started = time.monotonic()
        try:
            if not self._send(init):
                return self._died(started)
            frame = self._receive(INIT_TIMEOUT_S)
        finally:
            self.limits.throttle(False)
        if frame == TIMEOUT:
            sys.stderr.write(self._init_timeout_report())
            self.kill()
            return Outcome(TIMEOUT, duration_ms=INIT_TIMEOUT_S * 1000.0)
        if frame is None:
            return self._died(started)
        header, _ = frame
        self.init_ms = float(header["init_ms"])
        self.runtime_ms = float(header.get("runtime_ms") or 0.0)
        if header.get("error"):
            error = header["error"]
            self.kill()
            if error.get("errorType") == "Runtime.OutOfMemory":
                return Outcome("oom", error_type="Runtime.OutOfMemory")
            return Outcome(
                "error",
                error_type=error.get("errorType"),
                peak_rss_kb=header.get("peak_rss_kb"),
                error=error,
            )
        return Outcome("success", peak_rss_kb=header.get("peak_rss_kb"))

    def _init_timeout_report(self) -> str:
        """Where a start that never answered was stuck: the child's command line (a shell that
        has not exec'd Python yet, or Python), its state and CPU ticks, its CPU group's
        throttling, the machine's load. For the sandbox's log; no function data in it."""
        pid = self.proc.pid if self.proc else None
        cmdline = (read_text(f"/proc/{pid}/cmdline") or "").replace("\0", " ").strip()
        stat = (read_text(f"/proc/{pid}/stat") or "").rpartition(")")[2].split()
        state, ticks = (stat[0], int(stat[11]) + int(stat[12])) if len(stat) > 12 else ("?", -1)
        load = (read_text("/proc/loadavg") or "").strip()
        return (
            f"sandbox: init timeout after {INIT_TIMEOUT_S:g} s: {self.spec.function_name}:"
            f"{self.spec.version} at {self.spec.memory_mb} MB, child {pid} state {state}, "
            f"{ticks} CPU ticks, running {cmdline[:200]!r}; cpu.stat: "
            f"{self.limits.cpu_stat() or '-'}; load average {load}\n"
        )

    def invoke(
        self, payload: bytes, request_id: str, invoked_arn: str, reset_peak: bool
    ) -> Outcome:
        """Run one invocation; kills the environment on timeout, OOM or crash."""
        header = {
            "type": "invoke",
            "request_id": request_id,
            "invoked_arn": invoked_arn,
            "timeout_s": self.spec.timeout_s,
            "reset_peak": reset_peak,
        }
        self.invocations += 1
        started_at = time.time()
        outcome = self._exchange(header, payload)
        outcome.started_at = started_at
        if outcome.status in ("oom", TIMEOUT):
            self.kill()
        return outcome

    def _exchange(self, header: dict, payload: bytes) -> Outcome:
        self.limits.throttle(True)
        started = time.monotonic()
        try:
            if not self._send(header, payload):
                return self._died(started)
            frame = self._receive(self.spec.timeout_s)
        finally:
            self.limits.throttle(False)
        if frame == TIMEOUT:
            return Outcome(TIMEOUT, duration_ms=self.spec.timeout_s * 1000.0)
        if frame is None:
            return self._died(started)
        reply, body = frame
        return Outcome(
            reply["status"],
            payload=body,
            error_type=reply.get("error_type"),
            duration_ms=float(reply["duration_ms"]),
            peak_rss_kb=reply.get("peak_rss_kb"),
        )

    def _send(self, header: dict, body: bytes = b"") -> bool:
        try:
            bootstrap.write_frame(self._to_child, header, body)
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    def _receive(self, timeout_s: float):
        """Next frame from the child, None on EOF, TIMEOUT when it took too long."""
        poller = select.poll()
        poller.register(self._from_child.fileno(), select.POLLIN | select.POLLHUP | select.POLLERR)
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return TIMEOUT
            if poller.poll(max(1, int(remaining * 1000) + 1)):
                break
        try:
            return bootstrap.read_frame(self._from_child)
        except (OSError, ValueError):
            return None

    def _died(self, started: float) -> Outcome:
        """The child went away on its own: find out whether the OOM killer did it."""
        duration = (time.monotonic() - started) * 1000.0
        code = None
        if self.proc is not None:
            try:
                code = self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                code = None
        self.kill()
        if code is not None and code < 0:
            name = _SIGNAL_NAMES.get(-code, f"signal {-code}")
            reason = f"signal: {name}"
        else:
            reason = f"exit status {code}"
        if self.limits.oom_killed():
            return Outcome(
                "oom", error_type="Runtime.OutOfMemory", duration_ms=duration, exit_reason=reason
            )
        return Outcome(
            "exit", error_type="Runtime.ExitError", duration_ms=duration, exit_reason=reason
        )

    # ------------------------------------------------------------------ logs
    def take_log(self) -> str:
        """Everything the child wrote to stdout/stderr since the last call."""
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(self._log_offset)
                data = fh.read()
        except OSError:
            return ""
        self._log_offset += len(data)
        if self._log_offset > 8 * 1024 * 1024 and not self.busy:
            with contextlib.suppress(OSError):
                os.truncate(self.log_path, 0)
                self._log_offset = 0
        return data.decode("utf-8", "replace")

    # ------------------------------------------------------------------ teardown
    def kill(self) -> None:
        """SIGKILL the child (if still running) and reap it; the cgroups stay until close()."""
        self._doomed = True
        proc = self.proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)

    def close(self) -> None:
        """Kill, reap, remove the cgroups, close pipes, delete the log file. Idempotent.

        Only the thread that owns the environment (or anyone, once it is idle) may call
        this; to stop a busy environment from elsewhere use kill().
        """
        with self._close_lock:
            self._doomed = True
            if self._closed and not self.limits.groups and self._to_child is None:
                return
            self._closed = True
            self.kill()
            self.limits.remove()
            for stream in (self._to_child, self._from_child):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
            self._to_child = self._from_child = None
            with contextlib.suppress(OSError):
                os.unlink(self.log_path)
