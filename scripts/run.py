#!/usr/bin/env python
"""`make run`: migrate, demo user, local AWS sandbox, Celery workers and beat, web server.

Each child runs in its own session and writes to ``<data dir>/log/<name>.log`` (data dir:
TUNEBOARD_DATA_DIR, default ``var/``); only our own progress, the URL, the login and
ERROR/CRITICAL lines from the children are printed. Ctrl-C, SIGTERM or SIGHUP (terminal
closed) stops every child (SIGTERM, then SIGKILL to its process group after STOP_TIMEOUT_S);
further signals during the stop are ignored. A child that exits stops the others. Running
it again keeps the data.

Environment: TUNEBOARD_ADDRESS (web server, default 127.0.0.1:8000), TUNEBOARD_SANDBOX=0 to
use real AWS (boto3's normal credentials and endpoints), TUNEBOARD_SANDBOX_LAMBDA_PORT /
TUNEBOARD_SANDBOX_AWS_PORT (default 9001 / 9002, 0 = any free port).
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ADDRESS = os.environ.get("TUNEBOARD_ADDRESS", "127.0.0.1:8000")
DATA_DIR = ROOT / (os.environ.get("TUNEBOARD_DATA_DIR") or "var")  # as dashboard.settings
LOG_DIR = DATA_DIR / "log"
STOP_TIMEOUT_S = 15
WEB_START_TIMEOUT_S = 60
HANDLED_SIGNALS = (signal.SIGHUP, signal.SIGINT, signal.SIGTERM)
ERROR_LINE = re.compile(r"\b(ERROR|CRITICAL)\b")
DAX_COLLECTION_TASK = "cachemetrics.tasks.collect_cache_metrics_task"  # CELERY_BEAT_SCHEDULE
PRICE_REFRESH_TASK = "prices.tasks.refresh_prices_task"  # CELERY_BEAT_SCHEDULE, daily


@dataclass
class Child:
    name: str
    proc: subprocess.Popen
    log: Path
    oneshot: bool = False  # a short task: its exit is reported, not fatal
    read_up_to: int = 0  # how far the log was scanned for errors
    reported: bool = False


children: list[Child] = []
stop_reason: str | None = None  # set once: later signals are ignored
starting_child = False  # a signal now would lose track of the child being started


class Stop(Exception):
    pass


def on_signal(signum, _frame) -> None:
    global stop_reason
    if stop_reason is not None:
        return
    stop_reason = signal.Signals(signum).name
    if not starting_child:
        raise Stop(stop_reason)


def say(message: str = "") -> None:
    try:
        print(message, flush=True)
    except OSError:  # the terminal is gone (SIGHUP): keep stopping quietly
        pass


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def child_env(env: dict) -> dict:
    return {**env, "PYTHONUNBUFFERED": "1"}


def start(name: str, args: list[str], env: dict, oneshot: bool = False, **kwargs) -> Child:
    global starting_child
    log = LOG_DIR / f"{name.replace(' ', '-')}.log"
    starting_child = True
    try:
        with log.open("w") as log_file:
            kwargs.setdefault("stdout", log_file)
            proc = subprocess.Popen(
                args,
                cwd=ROOT,
                env=child_env(env),
                stdin=subprocess.DEVNULL,
                stderr=log_file,
                start_new_session=True,
                **kwargs,
            )
        child = Child(name, proc, log, oneshot)
        children.append(child)
    finally:
        starting_child = False
    if stop_reason is not None:
        raise Stop(stop_reason)
    if not oneshot:
        say(f"  started {name:<18} pid {proc.pid:<7} log {shown(log)}")
    return child


def log_tail(child: Child, lines: int = 15) -> str:
    try:
        text = child.log.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join("    | " + line for line in text.splitlines()[-lines:])


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


def check_children() -> None:
    """Echo new ERROR/CRITICAL log lines; stop everything if a long-running child exited."""
    global stop_reason
    for child in children:
        try:
            with child.log.open("rb") as log_file:
                log_file.seek(child.read_up_to)
                new = log_file.read()
        except OSError:
            new = b""
        complete = new[: new.rfind(b"\n") + 1]
        child.read_up_to += len(complete)
        for line in complete.decode(errors="replace").splitlines():
            if ERROR_LINE.search(line):
                say(f"  {child.name}: {line}")
        code = child.proc.poll()
        if code is None or child.reported:
            continue
        child.reported = True
        if child.oneshot:
            if code != 0:
                say(f"  {child.name} {describe_exit(code)}; see {shown(child.log)}")
            continue
        stop_reason = f"{child.name} exited"
        say(f"\n{child.name} (pid {child.proc.pid}) {describe_exit(code)}; stopping the others.")
        say(f"  last lines of {shown(child.log)}:\n{log_tail(child)}")
        raise SystemExit(1)


def signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def stop_all() -> None:
    global stop_reason
    stop_reason = stop_reason or "exit"
    running = [c for c in children if c.proc.poll() is None]
    if running:
        say(f"\nStopping ({stop_reason}): {', '.join(c.name for c in running)} ...")
    # SIGTERM to each child's main process only: a Celery worker stops its pool itself (pool
    # processes that get SIGTERM too can leave the worker waiting until it is killed).
    for child in reversed(children):
        if child.proc.poll() is None:
            child.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for child in children:
        try:
            child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"  {child.name} still running after {STOP_TIMEOUT_S} s: killing it")
            signal_group(child.proc.pid, signal.SIGKILL)
            child.proc.wait()
    # A child may have left processes in its group: make sure nothing survives.
    for child in children:
        signal_group(child.proc.pid, signal.SIGKILL)
    say("Stopped everything.")


def start_sandbox(env: dict) -> dict:
    state_dir = DATA_DIR / "sandbox"
    state_dir.mkdir(parents=True, exist_ok=True)
    ports = [
        "--lambda-port",
        os.environ.get("TUNEBOARD_SANDBOX_LAMBDA_PORT", "9001"),
        "--aws-port",
        os.environ.get("TUNEBOARD_SANDBOX_AWS_PORT", "9002"),
    ]
    sandbox = start(
        "sandbox",
        [PY, "-m", "sandbox", "--seed", "--state-dir", str(state_dir), *ports],
        env,
        stdout=subprocess.PIPE,  # export lines, then "# sandbox ready"; progress goes to the log
        text=True,
    )
    exports = {}
    for line in sandbox.proc.stdout:
        line = line.strip()
        if line.startswith("export "):
            key, _, value = line[len("export ") :].partition("=")
            exports[key] = value
        elif line.startswith("# sandbox ready"):
            say(f"  sandbox ready{line[len('# sandbox ready') :]}")
            return exports
    sandbox.proc.wait()
    check_children()  # reports the exit and the log's last lines
    raise SystemExit(1)


def wait_for_web() -> None:
    host, _, port = ADDRESS.rpartition(":")
    host = "127.0.0.1" if host in ("", "0.0.0.0") else host.strip("[]")  # noqa: S104
    deadline = time.monotonic() + WEB_START_TIMEOUT_S
    while time.monotonic() < deadline:
        check_children()
        try:
            with socket.create_connection((host, int(port)), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    say(f"  the web server is not answering on {ADDRESS} yet; see {shown(LOG_DIR / 'web.log')}")


def manage(*args: str, env: dict) -> str:
    done = subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        say(done.stdout + done.stderr)
        say(f"manage.py {' '.join(args)} failed with status {done.returncode}.")
        raise SystemExit(1)
    return done.stdout.strip()


def run(env: dict) -> None:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    say(f"Tuneboard: data in {shown(DATA_DIR)}/, each process logs to {shown(LOG_DIR)}/")
    manage("migrate", "--noinput", env=env)
    use_sandbox = os.environ.get("TUNEBOARD_SANDBOX", "1") != "0"
    # A published password must never guard real functions: no demo user on real AWS.
    login = manage("ensure_demo_user", *([] if use_sandbox else ["--real-aws"]), env=env)
    login = login.splitlines()[-1]
    if use_sandbox:
        env.update(start_sandbox(env))
    else:
        say("  TUNEBOARD_SANDBOX=0: using real AWS through boto3's usual configuration")
    celery = [PY, "-m", "celery", "-A", "dashboard"]
    start(
        "worker",
        [*celery, "worker", "-Q", "sweeps,invocations,metrics", "--loglevel", "INFO"],
        env,
    )
    if use_sandbox:
        # The seeded DAX clusters' metrics, now rather than at beat's first 5-minute tick.
        start("dax-collection", [*celery, "call", DAX_COLLECTION_TASK], env, oneshot=True)
        say("  queued a first DAX metrics collection")
    # The reaper's own worker: long sweep tasks can never keep it waiting.
    start(
        "maintenance worker",
        [*celery, "worker", "-Q", "maintenance", "-c", "1", "-n", "maintenance@%h"]
        + ["--loglevel", "INFO"],
        env,
    )
    # Prices from the AWS Price List now, not at the daily task's first run (the maintenance
    # worker takes it; until it is done, costs use the offline table and say so).
    start(
        "price-refresh",
        [*celery, "call", PRICE_REFRESH_TASK, "--args", '["start"]'],
        env,
        oneshot=True,
    )
    say("  queued a price refresh from the AWS Price List")
    beat_schedule = DATA_DIR / "celerybeat-schedule"
    start("beat", [*celery, "beat", "--loglevel", "INFO", "-s", str(beat_schedule)], env)
    start("web", [PY, "manage.py", "runserver", ADDRESS, "--noreload"], env)
    wait_for_web()
    say(f"\nTuneboard is running at http://{ADDRESS}/  (Ctrl-C stops everything)")
    say(login)
    while True:
        check_children()
        time.sleep(0.5)


def main() -> None:
    for signum in HANDLED_SIGNALS:
        signal.signal(signum, on_signal)
    env = dict(os.environ)
    try:
        run(env)
    except Stop:
        pass
    finally:
        stop_all()


if __name__ == "__main__":
    main()
