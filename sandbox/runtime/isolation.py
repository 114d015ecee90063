"""CPU and memory limits for execution environments, detected at run time.

Lambda gives CPU in proportion to memory: one full vCPU at 1769 MB. We enforce both
limits for real, with the best mechanism this machine offers:

CPU:    cgroup v1 ``cpu.cfs_quota_us`` > cgroup v2 ``cpu.max`` > SIGSTOP/SIGCONT duty cycle.
Memory: cgroup v1 ``memory.limit_in_bytes`` > cgroup v2 ``memory.max`` > RLIMIT_AS in the
        child (approximate: virtual, not resident, memory).

Every pool owns one directory per controller, ``tuneboard-sandbox-<pid>-<random>``, with one
sub-directory per environment; all of them are removed when the environment / pool goes.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import signal
import threading
import time
import uuid

MiB = 1024 * 1024
MB_PER_VCPU = 1769
CFS_PERIOD_US = 100_000
DUTY_PERIOD_S = 0.05
GROUP_PREFIX = "tuneboard-sandbox-"
# RLIMIT_AS fallback: room for virtual mappings that are never touched (thread stacks...).
RLIMIT_HEADROOM_BYTES = 64 * MiB


def cpu_share(memory_mb: int, cpu_count: int | None = None) -> float:
    """Cores a function with ``memory_mb`` gets: memory / 1769, at most the machine's cores."""
    cores = cpu_count or os.cpu_count() or 1
    return min(memory_mb / MB_PER_VCPU, float(cores))


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(mount point, fs type, options) of every cgroup / cgroup2 mount."""
    found = []
    try:
        with open("/proc/self/mounts") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) >= 4 and parts[2] in ("cgroup", "cgroup2"):
                    mount = parts[1].replace("\\040", " ")
                    found.append((mount, parts[2], set(parts[3].split(","))))
    except OSError:
        pass
    return found


def _write(path: str, value: str) -> None:
    with open(path, "w") as fh:
        fh.write(value)


def read_text(path: str) -> str | None:
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return None


def _read_int(path: str) -> int | None:
    text = read_text(path)
    try:
        return int(text.split()[0]) if text else None
    except (ValueError, IndexError):
        return None


def _keyed(path: str, key: str) -> int | None:
    """Value of ``key`` in a flat-keyed cgroup file like memory.oom_control / memory.events."""
    for line in (read_text(path) or "").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == key:
            with contextlib.suppress(ValueError):
                return int(parts[1])
    return None


def remove_group(path: str, attempts: int = 100) -> bool:
    """rmdir a cgroup directory, retrying while the kernel still lists exiting tasks."""
    for _ in range(attempts):
        try:
            os.rmdir(path)
            return True
        except FileNotFoundError:
            return True
        except OSError as exc:
            if exc.errno not in (errno.EBUSY, errno.ENOTEMPTY):
                return False
            time.sleep(0.01)
    return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_groups(base: str) -> None:
    """Remove groups left behind by pools whose process died without shutting down."""
    try:
        names = os.listdir(base)
    except OSError:
        return
    for name in names:
        if not name.startswith(GROUP_PREFIX):
            continue
        try:
            pid = int(name[len(GROUP_PREFIX) :].split("-")[0])
        except ValueError:
            continue
        if pid == os.getpid() or _pid_alive(pid):
            continue
        pool_dir = os.path.join(base, name)
        with contextlib.suppress(OSError):
            for child in os.listdir(pool_dir):
                child_dir = os.path.join(pool_dir, child)
                procs = read_text(os.path.join(child_dir, "cgroup.procs")) or ""
                if os.path.isdir(child_dir) and not procs.strip():
                    remove_group(child_dir, attempts=1)
        remove_group(pool_dir, attempts=1)


class _Hierarchy:
    """One pool directory inside one cgroup hierarchy (v1 controller or v2 unified)."""

    def __init__(self, base: str, version: int, controllers: list[str], name: str):
        self.base = base
        self.version = version
        self.controllers = controllers
        self.pool_dir = os.path.join(base, name)

    @classmethod
    def create(cls, base: str, version: int, controllers: list[str], name: str) -> _Hierarchy:
        _remove_stale_groups(base)
        hierarchy = cls(base, version, controllers, name)
        os.mkdir(hierarchy.pool_dir)
        try:
            if version == 2:
                enable = " ".join("+" + c for c in controllers)
                _write(os.path.join(base, "cgroup.subtree_control"), enable)
                _write(os.path.join(hierarchy.pool_dir, "cgroup.subtree_control"), enable)
            hierarchy._probe()
        except OSError:
            remove_group(hierarchy.pool_dir)
            raise
        return hierarchy

    def _probe(self) -> None:
        """Create and remove a throw-away group to prove limits can really be written."""
        probe = os.path.join(self.pool_dir, "probe")
        os.mkdir(probe)
        try:
            if "cpu" in self.controllers:
                if self.version == 1:
                    _write(os.path.join(probe, "cpu.cfs_period_us"), str(CFS_PERIOD_US))
                    _write(os.path.join(probe, "cpu.cfs_quota_us"), str(CFS_PERIOD_US))
                else:
                    _write(os.path.join(probe, "cpu.max"), f"{CFS_PERIOD_US} {CFS_PERIOD_US}")
            if "memory" in self.controllers:
                name = "memory.limit_in_bytes" if self.version == 1 else "memory.max"
                _write(os.path.join(probe, name), str(1024 * MiB))
        finally:
            remove_group(probe)

    def group(self, env_id: str) -> str:
        path = os.path.join(self.pool_dir, env_id)
        os.mkdir(path)
        return path

    def close(self) -> None:
        with contextlib.suppress(OSError):
            for child in os.listdir(self.pool_dir):
                child_dir = os.path.join(self.pool_dir, child)
                if os.path.isdir(child_dir):
                    remove_group(child_dir)
        remove_group(self.pool_dir)


class Isolation:
    """Per-pool detection of the limit mechanisms, and factory of per-environment limits."""

    def __init__(self, mode: str = "auto"):
        if mode not in ("auto", "fallback"):
            raise ValueError("mode must be 'auto' or 'fallback'")
        self.name = f"{GROUP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.cpu_v1: _Hierarchy | None = None
        self.memory_v1: _Hierarchy | None = None
        self.unified: _Hierarchy | None = None
        self.cpu_method = "SIGSTOP/SIGCONT duty cycle"
        self.memory_method = "RLIMIT_AS in the child (approximate)"
        self._lock = threading.Lock()
        self._closed = False
        if mode == "auto":
            self._detect()
        if not self.cpu_v1 and not (self.unified and "cpu" in self.unified.controllers):
            reason = "not root" if os.geteuid() != 0 else "no writable cgroup cpu controller"
            self.cpu_method = f"SIGSTOP/SIGCONT duty cycle ({reason})"
            if mode == "fallback":
                self.cpu_method = "SIGSTOP/SIGCONT duty cycle (cgroups disabled)"

    def _detect(self) -> None:
        mounts = _mounts()
        v1 = {
            c: mount
            for mount, fs, opts in mounts
            if fs == "cgroup"
            for c in ("cpu", "memory")
            if c in opts
        }
        for controller in ("cpu", "memory"):
            if controller not in v1:
                continue
            try:
                hierarchy = _Hierarchy.create(v1[controller], 1, [controller], self.name)
            except OSError:
                continue
            if controller == "cpu":
                self.cpu_v1, self.cpu_method = hierarchy, "cgroup v1 cpu quota"
            else:
                self.memory_v1 = hierarchy
                self.memory_method = "cgroup v1 memory.limit_in_bytes"
        wanted = [c for c, done in (("cpu", self.cpu_v1), ("memory", self.memory_v1)) if not done]
        unified = next((m for m, fs, _ in mounts if fs == "cgroup2"), None)
        if not wanted or unified is None:
            return
        available = set((read_text(os.path.join(unified, "cgroup.controllers")) or "").split())
        controllers = [c for c in wanted if c in available]
        if not controllers:
            return
        try:
            self.unified = _Hierarchy.create(unified, 2, controllers, self.name)
        except OSError:
            return
        if "cpu" in controllers:
            self.cpu_method = "cgroup v2 cpu.max"
        if "memory" in controllers:
            self.memory_method = "cgroup v2 memory.max"

    @property
    def memory_cgroup(self) -> bool:
        return bool(self.memory_v1 or (self.unified and "memory" in self.unified.controllers))

    def limits_for(self, env_id: str, memory_mb: int) -> EnvLimits:
        with self._lock:
            if self._closed:
                raise RuntimeError("isolation already closed")
            return EnvLimits(self, env_id, memory_mb)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for hierarchy in (self.cpu_v1, self.memory_v1, self.unified):
                if hierarchy is not None:
                    hierarchy.close()

    def group_dirs(self) -> list[str]:
        return [h.pool_dir for h in (self.cpu_v1, self.memory_v1, self.unified) if h]


class EnvLimits:
    """The limits of one environment: its cgroup directories or its fallbacks."""

    def __init__(self, isolation: Isolation, env_id: str, memory_mb: int):
        self.memory_mb = memory_mb
        self.memory_bytes = memory_mb * MiB
        self.share = cpu_share(memory_mb)
        self.groups: list[str] = []
        self._cpu_dir = self._mem_dir = None
        self._mem_version = 0
        self._duty: _DutyCycle | None = None
        try:
            self._create(isolation, env_id)
        except OSError:
            self.remove()
            raise

    def _create(self, isolation: Isolation, env_id: str) -> None:
        quota = max(1000, int(CFS_PERIOD_US * self.share))
        if isolation.cpu_v1:
            self._cpu_dir = isolation.cpu_v1.group(env_id)
            self.groups.append(self._cpu_dir)
            _write(os.path.join(self._cpu_dir, "cpu.cfs_period_us"), str(CFS_PERIOD_US))
            _write(os.path.join(self._cpu_dir, "cpu.cfs_quota_us"), str(quota))
        if isolation.memory_v1:
            self._mem_dir, self._mem_version = isolation.memory_v1.group(env_id), 1
            self.groups.append(self._mem_dir)
            _write(os.path.join(self._mem_dir, "memory.limit_in_bytes"), str(self.memory_bytes))
            memsw = os.path.join(self._mem_dir, "memory.memsw.limit_in_bytes")
            if os.path.exists(memsw):
                with contextlib.suppress(OSError):
                    _write(memsw, str(self.memory_bytes))
        if isolation.unified:
            path = isolation.unified.group(env_id)
            self.groups.append(path)
            if "cpu" in isolation.unified.controllers:
                self._cpu_dir = path
                _write(os.path.join(path, "cpu.max"), f"{quota} {CFS_PERIOD_US}")
            if "memory" in isolation.unified.controllers:
                self._mem_dir, self._mem_version = path, 2
                _write(os.path.join(path, "memory.max"), str(self.memory_bytes))
                with contextlib.suppress(OSError):
                    _write(os.path.join(path, "memory.swap.max"), "0")
        if self._cpu_dir is None and self.share < 1.0:
            self._duty = _DutyCycle(self.share)

    # -- what the child must do itself
    @property
    def rlimit_memory_bytes(self) -> int | None:
        """Memory the child must enforce with RLIMIT_AS (None when a cgroup does it)."""
        return None if self._mem_dir else self.memory_bytes

    # -- process placement and throttling
    def procs_files(self) -> list[str]:
        """``cgroup.procs`` files the child must write its own pid to before it starts.

        Writing the pid before exec (not after spawn) matters for cgroup v1 memory: pages a
        task touched before it joined a group stay charged to its old group.
        """
        return [os.path.join(path, "cgroup.procs") for path in self.groups]

    def attach(self, proc) -> None:
        """Start the duty-cycle fallback for ``proc`` (cgroups were joined before exec)."""
        if self._duty:
            self._duty.attach(proc)

    def throttle(self, active: bool) -> None:
        """Duty-cycle fallback only throttles while the environment is working."""
        if self._duty:
            self._duty.set_active(active)

    def cpu_stat(self) -> str:
        """The CPU group's throttling counters, one line ("" without a CPU cgroup)."""
        if self._cpu_dir is None:
            return ""
        return " ".join((read_text(os.path.join(self._cpu_dir, "cpu.stat")) or "").split())

    # -- memory accounting
    def reset_peak(self) -> bool:
        """Reset the cgroup peak (v1 only); False when the peak must come from the child."""
        if self._mem_version == 1:
            try:
                _write(os.path.join(self._mem_dir, "memory.max_usage_in_bytes"), "0")
                return True
            except OSError:
                return False
        return False

    def peak_bytes(self) -> int | None:
        if self._mem_version == 1:
            return _read_int(os.path.join(self._mem_dir, "memory.max_usage_in_bytes"))
        if self._mem_version == 2:
            return _read_int(os.path.join(self._mem_dir, "memory.peak"))
        return None

    def oom_killed(self) -> bool:
        if self._mem_version == 1:
            kills = _keyed(os.path.join(self._mem_dir, "memory.oom_control"), "oom_kill")
            if kills is None:
                kills = _read_int(os.path.join(self._mem_dir, "memory.failcnt"))
            return bool(kills)
        if self._mem_version == 2:
            return bool(_keyed(os.path.join(self._mem_dir, "memory.events"), "oom_kill"))
        return False

    def remove(self) -> None:
        """Remove the environment's groups; call after its process has been reaped."""
        if self._duty:
            self._duty.stop()
        for path in self.groups:
            remove_group(path)
        self.groups = []


class _DutyCycle:
    """Hold a process to ``share`` of one core by stopping and continuing it.

    Each state change starts a fresh period, so an invocation never inherits the tail
    of a previous period (which would let it run unthrottled for up to a period).
    """

    def __init__(self, share: float):
        self.on_s = DUTY_PERIOD_S * share
        self.off_s = DUTY_PERIOD_S - self.on_s
        self.proc = None
        self._active = False
        self._stopped = False
        self._generation = 0
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def attach(self, proc) -> None:
        """Start throttling ``proc`` (a subprocess.Popen) whenever set_active(True)."""
        self.proc = proc
        self._thread = threading.Thread(target=self._run, name=f"duty-{proc.pid}", daemon=True)
        self._thread.start()

    def _signal(self, sig: int) -> None:
        # Popen.send_signal does nothing once the child has been reaped (no pid reuse).
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(sig)

    def set_active(self, active: bool) -> None:
        with self._cond:
            self._active = active
            self._generation += 1
            if not active:
                self._signal(signal.SIGCONT)
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._active = False
            self._generation += 1
            self._signal(signal.SIGCONT)
            self._cond.notify_all()

    def _run(self) -> None:
        with self._cond:
            while True:
                self._cond.wait_for(lambda: self._active or self._stopped)
                if self._stopped:
                    return
                generation = self._generation

                def changed(generation=generation):
                    return self._generation != generation or self._stopped

                if self._cond.wait_for(changed, timeout=self.on_s):
                    continue
                self._signal(signal.SIGSTOP)
                self._cond.wait_for(changed, timeout=self.off_s)
                self._signal(signal.SIGCONT)


def mb_rounded_up(num_bytes: int) -> int:
    return max(1, math.ceil(num_bytes / MiB))
