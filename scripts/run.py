#!/usr/bin/env python
"""`make run`: migrate, demo user, local AWS sandbox, a Celery worker, Celery beat, web server.

Ctrl-C or SIGTERM stops every child process group; running it again keeps the data.
Set TUNEBOARD_SANDBOX=0 to use real AWS (boto3's normal credentials and endpoints).
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ADDRESS = os.environ.get("TUNEBOARD_ADDRESS", "127.0.0.1:8000")
children: list[tuple[str, subprocess.Popen]] = []


def start(name: str, args: list[str], env: dict, **kwargs) -> subprocess.Popen:
    proc = subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True, **kwargs)
    children.append((name, proc))
    print(f"  started {name:<8} pid {proc.pid}: {' '.join(args[1:])}", flush=True)
    return proc


def stop_all(*_args) -> None:
    for _name, proc in reversed(children):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for _name, proc in children:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    # A child may have left grandchildren in its group: make sure nothing survives.
    for _name, proc in children:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    print("Stopped everything.", flush=True)


def start_sandbox(env: dict) -> dict:
    state_dir = ROOT / "var" / "sandbox"
    state_dir.mkdir(parents=True, exist_ok=True)
    proc = start(
        "sandbox",
        [PY, "-m", "sandbox", "--seed", "--state-dir", str(state_dir)],
        env,
        stdout=subprocess.PIPE,
        text=True,
    )
    exports = {}
    for line in proc.stdout:
        line = line.strip()
        if line.startswith("export "):
            key, _, value = line[len("export ") :].partition("=")
            exports[key] = value
        elif line.startswith("# sandbox ready"):
            print(f"  sandbox ready{line[len('# sandbox ready') :]}", flush=True)
            return exports
    raise SystemExit("The sandbox exited before it was ready; see its messages above.")


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    env = dict(os.environ)
    manage = [PY, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "ensure_demo_user"], cwd=ROOT, env=env, check=True)
    try:
        if os.environ.get("TUNEBOARD_SANDBOX", "1") != "0":
            env.update(start_sandbox(env))
        else:
            print("  TUNEBOARD_SANDBOX=0: using real AWS through boto3's usual configuration")
        celery = [PY, "-m", "celery", "-A", "dashboard"]
        start(
            "worker",
            [*celery, "worker", "-Q", "sweeps,invocations,metrics", "--loglevel", "INFO"],
            env,
        )
        # The reaper's own worker: long sweep tasks can never keep it waiting.
        start(
            "maintenance worker",
            [*celery, "worker", "-Q", "maintenance", "-c", "1", "-n", "maintenance@%h"]
            + ["--loglevel", "INFO"],
            env,
        )
        beat_schedule = ROOT / "var" / "celerybeat-schedule"
        start("beat", [*celery, "beat", "--loglevel", "INFO", "-s", str(beat_schedule)], env)
        start("web", [*manage, "runserver", ADDRESS, "--noreload"], env)
        print(
            f"\nTuneboard is running at http://{ADDRESS}/  (Ctrl-C stops everything)\n", flush=True
        )
        while True:
            for name, proc in children:
                if proc.poll() is not None:
                    raise SystemExit(f"{name} exited with status {proc.returncode}; stopping.")
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        stop_all()


if __name__ == "__main__":
    main()
