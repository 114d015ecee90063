"""Kill the worker at random moments during sweeps: is anything left behind?

Starts its own sandbox (``python -m sandbox``, seeded functions), migrates a PostgreSQL
database of its own (``tuneboard_bench_kill``) and uses Redis db 12 as broker (emptied at
start). Each trial picks, from a seeded random generator, a function (``tuneboard-io`` or
``tuneboard-cpu``), 2–4 sizes, 3–8 invocations, serial or parallel, sometimes cold-starts
mode, sometimes an x86_64 vs arm64 comparison (a companion run sweeps a temporary copy of the
function: the trial then waits for both runs, and the copy must be gone); records the
function's state (memory, environment, code, versions, aliases); starts a worker (4 processes,
every queue) and the run (``tuning.runs.start_run``); SIGKILLs the worker's process group after
a random 0–6 s; starts a fresh worker; and runs the reaper task
(``tuning.tasks.reap_stale_runs_task``, called in this process: the code the beat schedule
runs, with ``TUNEBOARD_STALE_RUN_SECONDS`` = ``--stale-seconds``) until the run is final with
no cleanup pending (a pending cleanup is made due at once), or counts it STUCK after 180 s
(a stuck run is then cancelled, so the next trials may sweep the function).

A trial passes when the function is as it was, nothing of the run is left (no alias named
``run.alias_prefix``-..., no version described ``run.version_marker``..., no copy named
``tuneboard-<8 hex of the companion run>-...``), the run is final and a FAILED run says why.
Prints one row per trial and totals; exits 1 if any trial fails. Times are only printed, never
asserted.

The seed is printed first; replay the same choices (not the same timings) with
``.venv/bin/python bench/kill_trials.py --seed S [--trials N]``.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from benchdb import setup_django
from sweep_overhead import start_sandbox, stop

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH_DB = "tuneboard_bench_kill"
BROKER_URL = "redis://127.0.0.1:6379/12"
QUEUES = "sweeps,invocations,metrics,maintenance"
SIZES = [128, 256, 512, 1024]
MAX_DELAY_S = 6.0
DEADLINE_S = 180.0
FINAL = ("SUCCEEDED", "FAILED", "CANCELLED")


def function_state(client, name: str) -> dict:
    config = client.get_function_configuration(FunctionName=name)
    return {
        "memory": config["MemorySize"],
        "environment": (config.get("Environment") or {}).get("Variables", {}),
        "code": config["CodeSha256"],
        "versions": sorted(
            v["Version"] for v in client.list_versions_by_function(FunctionName=name)["Versions"]
        ),
        "aliases": sorted(a["Name"] for a in client.list_aliases(FunctionName=name)["Aliases"]),
    }


def leftovers(client, run) -> list[str]:
    """The run's aliases and versions still in the function."""
    name = run.function_name
    aliases = [
        a["Name"]
        for a in client.list_aliases(FunctionName=name)["Aliases"]
        if a["Name"].startswith(run.alias_prefix)
    ]
    versions = [
        f"v{v['Version']}"
        for v in client.list_versions_by_function(FunctionName=name)["Versions"]
        if (v.get("Description") or "").startswith(run.version_marker)
    ]
    return aliases + versions


def copies_left(client, runs) -> list[str]:
    """Temporary copies (architecture comparison) of ``runs`` still in the sandbox."""
    prefixes = tuple(f"tuneboard-{run.id.hex[:8]}-" for run in runs)
    names = []
    for page in client.get_paginator("list_functions").paginate():
        names += [f["FunctionName"] for f in page["Functions"]]
    return [name for name in names if name.startswith(prefixes)]


def start_worker(log_dir: Path, label: str):
    from dashboard.celery import worker_command

    name = f"kill-{uuid.uuid4().hex[:8]}@tuneboard"
    log_path = log_dir / f"{label}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            worker_command(QUEUES, 4, name, loglevel="INFO"),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return proc, name, log_path


def wait_ready(proc, name: str, timeout: float = 60) -> None:
    from dashboard.celery import app

    deadline = time.monotonic() + timeout
    while not app.control.ping(destination=[name], timeout=0.5):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"worker {name} did not come up")


def kill_group(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


def choose(rng: random.Random) -> dict:
    function = rng.choice(["tuneboard-io", "tuneboard-cpu"])
    cold = rng.random() < 0.2
    sizes = sorted(rng.sample(SIZES, 2 if cold else rng.randint(2, 4)))
    values = {
        "function": function,
        "memory_sizes": sizes,
        "invocations_per_size": rng.randint(3, 4) if cold else rng.randint(3, 8),
        "parallel": rng.random() < 0.5,
        "cold_starts_only": cold,
        "compare_architectures": rng.random() < 0.25,
    }
    if function == "tuneboard-cpu":
        values["payload"] = {"iterations": 100_000}
    return {"values": values, "delay": rng.uniform(0, MAX_DELAY_S)}


def trial(number: int, rng: random.Random, client, log_dir: Path) -> dict:
    from django.utils import timezone

    from tuning.models import TuningRun
    from tuning.params import SweepParams
    from tuning.runs import request_cancel, start_run
    from tuning.tasks import reap_stale_runs_task

    plan = choose(rng)
    values = plan["values"]
    before = function_state(client, values["function"])
    worker, name, first_log = start_worker(log_dir, f"trial{number}-first")
    try:
        wait_ready(worker, name)
        started = time.monotonic()
        run = start_run(SweepParams.parse(values))
        while time.monotonic() - started < plan["delay"]:
            run.refresh_from_db()
            if run.status in FINAL:
                break
            time.sleep(0.05)
        run.refresh_from_db()
        phase = run.phase  # read just before the kill
        killed_after = time.monotonic() - started
    finally:
        kill_group(worker)
    fresh, _name, fresh_log = start_worker(log_dir, f"trial{number}-fresh")
    deadline = time.monotonic() + DEADLINE_S
    stuck = False
    both = [run, *TuningRun.objects.filter(copy_of=run)]  # and the comparison's companion
    try:
        while True:
            for each in both:
                each.refresh_from_db()
            if all(each.status in FINAL and not each.cleanup_pending for each in both):
                break
            if time.monotonic() > deadline:
                stuck = True
                break
            for each in both:
                if each.cleanup_pending:  # make the retry due now instead of after its backoff
                    TuningRun.objects.filter(pk=each.pk).update(cleanup_retry_at=timezone.now())
            reap_stale_runs_task()  # in this process, not queued
            time.sleep(0.5)
    finally:
        kill_group(fresh)
    after = function_state(client, values["function"])
    left = leftovers(client, run) + copies_left(client, both[1:])

    problems = []
    if after != before:
        changed = [key for key in before if before[key] != after[key]]
        problems.append(f"function changed: {', '.join(changed)} {before} -> {after}")
    if left:
        problems.append(f"left: {left}")
    if stuck or run.status not in FINAL or run.cleanup_pending:
        problems.append(f"not final: {run.status}, cleanup pending {run.cleanup_pending!r}")
    for companion in both[1:]:  # the comparison's run on the copy: final and clean too
        if companion.status not in FINAL or companion.cleanup_pending:
            problems.append(
                f"companion run {companion.id} not final: {companion.status}, cleanup pending "
                f"{companion.cleanup_pending!r}"
            )
    if run.status == "FAILED" and not run.error_message:
        problems.append("FAILED without an error message")
    detail = (
        f"run {run.id} (alias prefix {run.alias_prefix}); error: {run.error_message!r}; "
        f"worker logs: {first_log}, {fresh_log}"
    )
    if stuck:
        request_cancel(run)  # a pending run is cancelled at once: the function is free again
    return {
        "trial": number,
        "function": values["function"].removeprefix("tuneboard-"),
        "sizes": "/".join(map(str, values["memory_sizes"])),
        "num": values["invocations_per_size"],
        "mode": ("cold " if values["cold_starts_only"] else "")
        + ("arch " if values["compare_architectures"] else "")
        + ("parallel" if values["parallel"] else "serial"),
        "kill_s": killed_after,
        "phase": phase,
        "status": "STUCK" if stuck else run.status,
        "attempts": run.cleanup_attempts,
        "as_found": after == before,
        "left": left,
        "problems": problems,
        "secs": time.monotonic() - started,
        "detail": detail,
    }


HEADER = ("#", "fn", "sizes", "num", "mode", "kill s", "phase", "status", "cleanups")
HEADER += ("as found", "left", "secs")
ROW = "{:>3} {:<4} {:<16} {:>3} {:<18} {:>6} {:<11} {:<9} {:>8} {:<8} {:>4} {:>6}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=random.SystemRandom().randrange(2**32))
    parser.add_argument("--stale-seconds", type=int, default=2)
    args = parser.parse_args()
    print(f"seed {args.seed}  (replay: --seed {args.seed} --trials {args.trials})")
    sys.stdout.flush()
    wall = time.monotonic()
    rng = random.Random(args.seed)
    log_dir = Path(tempfile.mkdtemp(prefix="tb-kill-"))
    results = []
    sandbox, exports = start_sandbox()
    try:
        os.environ.update(exports)
        os.environ.update(
            CELERY_BROKER_URL=BROKER_URL,
            TUNEBOARD_STALE_RUN_SECONDS=str(args.stale_seconds),
            LOG_LEVEL="WARNING",
        )
        os.environ.pop("TEST_DATABASE_NAME", None)
        setup_django(BENCH_DB)  # sets DATABASE_URL to the bench database: workers inherit it
        import boto3
        import redis

        logging.getLogger("tuning").setLevel(logging.ERROR)  # the reaper's warnings are expected

        from tuning.models import TuningRun

        redis.Redis.from_url(BROKER_URL).flushdb()  # its own db: queues and unacked messages
        TuningRun.objects.all().delete()  # a run left active by an interrupted bench
        client = boto3.client("lambda")
        print(ROW.format(*HEADER))
        for number in range(1, args.trials + 1):
            r = trial(number, rng, client, log_dir)
            results.append(r)
            print(
                ROW.format(
                    r["trial"], r["function"], r["sizes"], r["num"], r["mode"],
                    f"{r['kill_s']:.2f}", r["phase"], r["status"], r["attempts"],
                    "yes" if r["as_found"] else "NO", len(r["left"]) or "-", f"{r['secs']:.1f}",
                )
            )  # fmt: skip
            for problem in r["problems"]:
                print(f"    FAIL {problem}\n    {r['detail']}")
            sys.stdout.flush()
    finally:
        stop(sandbox)
    failed = [r for r in results if r["problems"]]
    print(
        f"trials {len(results)}, failed {len(failed)}, functions modified "
        f"{sum(not r['as_found'] for r in results)}, versions/aliases left "
        f"{sum(len(r['left']) for r in results)}, runs not final "
        f"{sum(r['status'] not in FINAL for r in results)}, stuck "
        f"{sum(r['status'] == 'STUCK' for r in results)}; wall {time.monotonic() - wall:.0f} s"
    )
    if failed:
        print(f"worker logs kept in {log_dir}; replay with --seed {args.seed}")
        sys.exit(1)
    shutil.rmtree(log_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
