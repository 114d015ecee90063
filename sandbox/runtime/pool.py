"""EnvironmentPool: warm reuse, cold starts, idle reaping, and AWS-shaped results."""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import os
import shutil
import tempfile
import threading
import time
import weakref

from sandbox.runtime import logs
from sandbox.runtime.billing import billed_duration_ms, billed_restore_ms
from sandbox.runtime.environment import Environment, Outcome
from sandbox.runtime.isolation import Isolation, MiB, cpu_share, mb_rounded_up
from sandbox.runtime.spec import FunctionSpec, InvokeResult

_LIVE_POOLS: weakref.WeakSet = weakref.WeakSet()
_SHUTDOWN_WAIT_S = 10.0


@atexit.register
def _shutdown_live_pools() -> None:
    for pool in list(_LIVE_POOLS):
        with contextlib.suppress(Exception):
            pool.shutdown()


def default_cpu_capacity() -> float:
    """Cores the invocations may use together: all but a quarter core, kept for the sandbox
    itself (its HTTP server, log parsing, moto)."""
    return max(1.0, (os.cpu_count() or 1) - 0.25)


class EnvironmentPool:
    """Execution environments (child processes) for any number of functions.

    ``invoke`` is thread-safe. An idle environment with the same ``spec.key`` is reused
    (warm); otherwise a new one is started (cold). Idle environments are reaped after
    ``idle_timeout_s``. ``isolation="fallback"`` skips cgroups (duty cycle + RLIMIT_AS),
    which is what a non-root user gets; it exists to exercise those paths.
    """

    def __init__(
        self,
        idle_timeout_s: float = 300.0,
        *,
        isolation: str = "auto",
        cpu_capacity: float | None = None,
    ):
        self.idle_timeout_s = float(idle_timeout_s)
        # On Lambda every environment has its own CPU share; here they share this machine's
        # cores. An invocation starts only when its share fits next to the running ones (one
        # alone always starts), so parallel invocations measure the function, not contention.
        self.cpu_capacity = cpu_capacity if cpu_capacity is not None else default_cpu_capacity()
        self._cpu_in_use = 0.0
        self._running = 0
        self.peak_cpu_in_use = 0.0
        self._isolation = Isolation(isolation)
        self.cpu_method: str = self._isolation.cpu_method
        self.memory_method: str = self._isolation.memory_method
        self._log_dir = tempfile.mkdtemp(prefix="tuneboard-sandbox-logs-")
        self._lock = threading.Condition()
        self._envs: list[Environment] = []
        self._ids = itertools.count(1)
        self._closed = False
        self._stop = threading.Event()
        self._reaper = threading.Thread(target=self._reap_loop, name="sandbox-reaper", daemon=True)
        self._reaper.start()
        _LIVE_POOLS.add(self)

    # ------------------------------------------------------------------ public API
    def invoke(self, spec: FunctionSpec, payload: bytes, request_id: str) -> InvokeResult:
        """Run one invocation; the wait for CPU before it is not part of its Duration."""
        with self._cpu(cpu_share(spec.memory_mb)):
            env, cold = self._acquire(spec)
            try:
                return self._run(env, cold, spec, payload, request_id)
            finally:
                self._release(env)

    @contextlib.contextmanager
    def _cpu(self, share: float):
        with self._lock:
            while self._running and self._cpu_in_use + share > self.cpu_capacity + 1e-9:
                self._lock.wait()
            self._cpu_in_use += share
            self._running += 1
            self.peak_cpu_in_use = max(self.peak_cpu_in_use, self._cpu_in_use)
        try:
            yield
        finally:
            with self._lock:
                self._cpu_in_use -= share
                self._running -= 1
                self._lock.notify_all()

    def environments(self) -> list[dict]:
        with self._lock:
            return [
                {
                    "id": env.id,
                    "key": env.spec.key,
                    "function_name": env.spec.function_name,
                    "memory_mb": env.spec.memory_mb,
                    "pid": env.pid,
                    "busy": env.busy,
                    "idle_since": env.idle_since,
                    "created": env.created,
                    "invocations": env.invocations,
                    "cgroups": list(env.limits.groups),
                }
                for env in self._envs
            ]

    def retire(self, function_name: str, version: str | None = None) -> None:
        """Close the environments of a deleted function (every version) or of one deleted
        version, as Lambda does; a busy one closes when its invocation ends. Without this a
        sweep's versions would keep their processes until the idle timeout."""
        with self._lock:
            for env in self._envs:
                if env.spec.function_name == function_name and version in (None, env.spec.version):
                    env.retired = True
        self._reap()

    def cgroup_dirs(self) -> list[str]:
        """This pool's own cgroup directories (one per hierarchy), for diagnostics."""
        return self._isolation.group_dirs()

    def shutdown(self) -> None:
        with self._lock:
            already = self._closed
            self._closed = True
            envs = list(self._envs)
        self._stop.set()
        if already and not envs:
            return
        for env in envs:
            env.kill()
        deadline = time.monotonic() + _SHUTDOWN_WAIT_S
        with self._lock:
            # Busy environments are closed by their invoking thread once it sees the kill.
            while any(e.busy for e in self._envs) and time.monotonic() < deadline:
                self._lock.wait(0.05)
            envs, self._envs = list(self._envs), []
        for env in envs:
            env.close()
        self._isolation.close()
        shutil.rmtree(self._log_dir, ignore_errors=True)
        if self._reaper is not threading.current_thread():
            self._reaper.join(timeout=5)
        _LIVE_POOLS.discard(self)

    # ------------------------------------------------------------------ bookkeeping
    def _acquire(self, spec: FunctionSpec) -> tuple[Environment, bool]:
        with self._lock:
            if self._closed:
                raise RuntimeError("EnvironmentPool has been shut down")
            idle = [
                e
                for e in self._envs
                if e.spec.key == spec.key and not e.busy and e.alive and not e.retired
            ]
            if idle:
                env = max(idle, key=lambda e: e.idle_since or 0.0)
                env.busy, env.idle_since = True, None
                return env, False
            env_id = f"env-{next(self._ids)}"
            limits = self._isolation.limits_for(env_id, spec.memory_mb)
            env = Environment(spec, env_id, limits, self._log_dir)
            self._envs.append(env)
            return env, True

    def _release(self, env: Environment) -> None:
        with self._lock:
            keep = env.alive and not self._closed and not env.retired
            if keep:
                env.busy, env.idle_since = False, time.time()
                return
        env.close()  # still listed (as busy) until it is really gone
        with self._lock:
            with contextlib.suppress(ValueError):
                self._envs.remove(env)
            env.busy = False
            self._lock.notify_all()

    def _reap_loop(self) -> None:
        interval = min(1.0, max(0.05, self.idle_timeout_s / 4))
        while not self._stop.wait(interval):
            self._reap()

    def _reap(self) -> None:
        now = time.time()
        with self._lock:
            expired = [
                e
                for e in self._envs
                if not e.busy
                and (
                    e.retired
                    or (e.idle_since is not None and now - e.idle_since >= self.idle_timeout_s)
                )
            ]
            for env in expired:
                env.busy = True  # nobody may pick it up while it is being closed
        for env in expired:
            env.close()
        with self._lock:
            for env in expired:
                with contextlib.suppress(ValueError):
                    self._envs.remove(env)
                env.busy = False
            if expired:
                self._lock.notify_all()

    # ------------------------------------------------------------------ one invocation
    def _run(
        self, env: Environment, cold: bool, spec: FunctionSpec, payload: bytes, request_id: str
    ) -> InvokeResult:
        fmt = spec.log_format if spec.log_format in ("Text", "JSON") else "Text"
        prefix = ""
        init_ms = None
        restore = None
        if cold:
            begin = logs.restore_start if spec.snap_start else logs.init_start
            prefix = begin(fmt, spec.function_name, spec.version, spec.region)
            init = env.start()
            init_ms = env.init_ms
            prefix += env.take_log()
            if init.status != "success":
                return self._init_failure(env, spec, fmt, request_id, init, prefix, init_ms)
            if spec.snap_start:
                # No process snapshot here: the restore starts the runtime and loads the
                # handler's module again. Restore Duration is all of it; Billed Restore
                # Duration only the runtime's start (on AWS the module is in the snapshot).
                restore = (round(init_ms or 0.0, 2), billed_restore_ms(env.runtime_ms))
                prefix += logs.restore_report(fmt, restore[0])
                init_ms = None
        else:
            env.limits.reset_peak()
        out = env.invoke(payload, request_id, spec.function_arn, reset_peak=not cold)
        handler_log = env.take_log()
        return self._result(
            env, spec, fmt, request_id, out, prefix, handler_log, cold, init_ms, restore=restore
        )

    def _max_memory_mb(self, env: Environment, out: Outcome) -> int:
        if out.status == "oom":
            return env.spec.memory_mb
        # As on Lambda, the whole environment counts, runtime included: the process's peak
        # resident set (VmHWM) — a cgroup's peak misses what was charged before the process
        # moved into it (the interpreter and its imports) — or the cgroup's, if higher.
        peaks = [env.limits.peak_bytes(), (out.peak_rss_kb or 0) * 1024]
        return min(env.spec.memory_mb, mb_rounded_up(max(p or 0 for p in peaks) or MiB))

    def _result(
        self,
        env: Environment,
        spec: FunctionSpec,
        fmt: str,
        request_id: str,
        out: Outcome,
        prefix: str,
        handler_log: str,
        cold: bool,
        init_ms: float | None,
        runtime_error: str | None = None,
        restore: tuple[float, int] | None = None,
    ) -> InvokeResult:
        """Turn an Outcome into the payload, log and metrics AWS would produce.

        ``runtime_error`` marks an error the runtime (not the handler) reported, such as a
        failed init: it shows up as Status/Error Type on the REPORT line.
        """
        max_used = self._max_memory_mb(env, out)
        function_error, payload, tail = None, out.payload, ""
        status, report_error = "success", runtime_error
        timeout_s = out.duration_ms / 1000.0
        if out.status == "error":
            function_error, status = "Unhandled", "error"
        elif out.status == "timeout":
            function_error, status, report_error = "Unhandled", "timeout", "Sandbox.Timedout"
            tail = logs.timeout_line(request_id, timeout_s)
            message = f"RequestId: {request_id} Error: Task timed out after {timeout_s:.2f} seconds"
            payload = logs.error_payload("Sandbox.Timedout", message)
        elif out.status in ("oom", "exit"):
            error_type = "Runtime.OutOfMemory" if out.status == "oom" else "Runtime.ExitError"
            reason = "signal: killed" if out.status == "oom" else out.exit_reason
            function_error, status, report_error = "Unhandled", "error", error_type
            tail = logs.runtime_exit_line(request_id, reason, error_type)
            message = f"RequestId: {request_id} Error: Runtime exited with error: {reason}"
            payload = logs.error_payload(error_type, message)
        if handler_log and not handler_log.endswith("\n"):
            handler_log += "\n"
        # Bill from the two-decimal figures the REPORT line shows, so logs add up exactly.
        duration = round(out.duration_ms, 2)
        init_reported = round(init_ms, 2) if cold and init_ms is not None else None
        billed = billed_duration_ms(duration, init_reported)
        done_error = report_error or (out.error_type if status != "success" else None)
        text = "".join(
            (
                prefix,
                logs.start(fmt, request_id, spec.version, out.started_at),
                handler_log,
                tail,
                logs.runtime_done(fmt, request_id, status, duration, len(payload), done_error),
                logs.end(fmt, request_id),
                logs.report(
                    fmt,
                    request_id,
                    duration,
                    billed,
                    spec.memory_mb,
                    max_used,
                    init_reported,
                    status,
                    report_error,
                    restore,
                ),
            )
        )
        return InvokeResult(
            payload=payload,
            function_error=function_error,
            log=text,
            duration_ms=duration,
            billed_duration_ms=billed,
            init_duration_ms=init_reported,
            max_memory_used_mb=max_used,
            cold_start=cold,
            restore_duration_ms=restore[0] if restore else None,
            billed_restore_duration_ms=restore[1] if restore else None,
        )

    def _init_failure(
        self,
        env: Environment,
        spec: FunctionSpec,
        fmt: str,
        request_id: str,
        init: Outcome,
        prefix: str,
        init_ms: float | None,
    ) -> InvokeResult:
        """Init failed (import error, OOM, crash or init timeout): the invocation fails."""
        if prefix and not prefix.endswith("\n"):
            prefix += "\n"
        runtime_error = None
        if init.status == "error" and init.error:
            doc = dict(init.error)
            doc["requestId"] = request_id
            runtime_error = doc.get("errorType")
            init = Outcome(
                "error",
                payload=json.dumps(doc).encode("utf-8"),
                error_type=runtime_error,
                peak_rss_kb=init.peak_rss_kb,
            )
        elif init.status == "timeout":
            init_ms = init.duration_ms
        return self._result(
            env, spec, fmt, request_id, init, prefix, "", True, init_ms or 0.0, runtime_error
        )
