"""How much does Tuneboard add on top of the AWS calls a sweep needs?

Starts its own sandbox (``python -m sandbox``, seeded functions) and a Celery worker, then
times the same sweep — 5 sizes × 20 invocations of ``tuneboard-io``, parallel, at most 10
invocations at a time — three ways, each as a fresh process:

1. ``manage.py sweep tuneboard-io --power ... --num 20 --parallel --concurrency 10 --wait``;
2. a minimal direct boto3 script making the same AWS calls, pipelined like Tuneboard
   (invocations of a size start as soon as its alias exists; one pool of 10 threads);
3. the same direct script without pipelining (publish everything, then invoke).

Before timing, one direct run warms the sandbox's execution environments and one sweep warms
the worker's processes (a worker that has run a sweep before; that first sweep's time is
printed apart). Prints each wall time (median of ``--repeat`` rounds) and the ratios. No
assertion: timings are never asserted (see bench/README or DESIGN.md). Services:

* ``--services embedded`` (default): SQLite and kombu's filesystem broker in a temporary
  data folder — nothing to install;
* ``--services local``: the PostgreSQL/Redis of ``DATABASE_URL`` / ``CELERY_BROKER_URL``
  (migrated first).

Usage: ``.venv/bin/python bench/sweep_overhead.py [--repeat 3] [--services embedded|local]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUNCTION = "tuneboard-io"
SIZES = [128, 256, 512, 1024, 2048]
NUM = 20
CONCURRENCY = 10
WAITER_DELAY_S = 0.1  # the same poll delay as tuning.aws


# ----------------------------------------------------------------------------- direct script


def direct_sweep(
    pipelined: bool, sizes=tuple(SIZES), num: int = NUM, concurrency: int = CONCURRENCY
) -> None:
    """The AWS calls of a sweep, nothing else (run in a child process by --direct)."""
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "lambda",
        config=Config(retries={"mode": "standard"}, max_pool_connections=max(50, concurrency)),
    )
    marker = f"direct bench {os.getpid()} {time.time()}"
    original = client.get_function_configuration(FunctionName=FUNCTION)["MemorySize"]
    waiter = client.get_waiter("function_updated_v2")
    pool = ThreadPoolExecutor(max_workers=concurrency)
    futures = []
    aliases, versions = [], []

    def invoke(alias):
        answer = client.invoke(
            FunctionName=FUNCTION, Qualifier=alias, LogType="Tail", Payload=b"{}"
        )
        answer["Payload"].read()

    for mb in sizes:
        client.update_function_configuration(FunctionName=FUNCTION, MemorySize=mb)
        waiter.wait(FunctionName=FUNCTION, WaiterConfig={"Delay": WAITER_DELAY_S})
        version = client.publish_version(FunctionName=FUNCTION, Description=f"{marker} {mb}")
        alias = f"bench-{os.getpid()}-{mb}"
        client.create_alias(FunctionName=FUNCTION, Name=alias, FunctionVersion=version["Version"])
        aliases.append(alias)
        versions.append(version["Version"])
        if pipelined:
            futures += [pool.submit(invoke, alias) for _ in range(num)]
    client.update_function_configuration(FunctionName=FUNCTION, MemorySize=original)
    if not pipelined:
        futures = [pool.submit(invoke, alias) for alias in aliases for _ in range(num)]
    wait(futures)
    for future in futures:
        future.result()
    waiter.wait(FunctionName=FUNCTION, WaiterConfig={"Delay": WAITER_DELAY_S})
    for alias in aliases:
        client.delete_alias(FunctionName=FUNCTION, Name=alias)
    for version in versions:
        client.delete_function(FunctionName=FUNCTION, Qualifier=version)
    pool.shutdown()


# ----------------------------------------------------------------------------- harness


def start_sandbox() -> tuple[subprocess.Popen, dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "--lambda-port",
            "0",
            "--aws-port",
            "0",
            "--seed-parts",
            "functions",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    exports = {}
    for line in proc.stdout:
        if line.startswith("export "):
            key, _, value = line[len("export ") :].strip().partition("=")
            exports[key] = value
        if line.startswith("# sandbox ready"):
            break
    else:
        raise SystemExit("the sandbox did not start")
    threading.Thread(target=lambda: proc.stdout.read(), daemon=True).start()
    return proc, exports


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def timed(cmd: list[str], env: dict) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return elapsed


def start_worker(processes: int, env: dict, name: str, pool: str = "prefork") -> subprocess.Popen:
    """A Celery worker of ``processes`` pool processes (or threads) on the sweep queues, once
    it answers."""
    from dashboard.celery import worker_command

    worker = subprocess.Popen(
        worker_command("sweeps,invocations", processes, name, "WARNING", pool),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    subprocess.run(
        [sys.executable, "manage.py", "probe_worker", "--timeout", "60"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return worker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--services", choices=["embedded", "local"], default="embedded")
    parser.add_argument("--worker-concurrency", type=int, default=6)
    parser.add_argument("--direct", choices=["pipelined", "serial"], help=argparse.SUPPRESS)
    # The direct script's shape, so other benches (sweep_scale.py) can time it at theirs.
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help=argparse.SUPPRESS)
    parser.add_argument("--num", type=int, default=NUM, help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.direct:
        sizes = [int(mb) for mb in args.sizes.split(",")]
        direct_sweep(args.direct == "pipelined", sizes, args.num, args.concurrency)
        return
    # Imported only here: the direct script must not pay for importing Celery.
    sys.path.insert(0, str(ROOT))

    if sys.dont_write_bytecode:
        # Python here keeps no bytecode cache (PYTHONDONTWRITEBYTECODE): every command would
        # compile our ~90 modules again (~0.08 s), which no installed copy does.
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", "-x", r"/\.venv/", str(ROOT)], check=True
        )
    data_dir = Path(tempfile.mkdtemp(prefix="tb-bench-"))
    sandbox, exports = start_sandbox()
    env = {**os.environ, **exports, "LOG_LEVEL": "WARNING"}
    if args.services == "embedded":
        for key in ("DATABASE_URL", "CELERY_BROKER_URL"):
            env.pop(key, None)
        env["TUNEBOARD_DATA_DIR"] = str(data_dir)
    env.pop("TEST_DATABASE_NAME", None)
    worker = None
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        worker = start_worker(args.worker_concurrency, env, f"bench-{os.getpid()}@tuneboard")
        tuneboard_cmd = [
            sys.executable,
            "manage.py",
            "sweep",
            FUNCTION,
            "--power",
            ",".join(map(str, SIZES)),
            "--num",
            str(NUM),
            "--parallel",
            "--concurrency",
            str(CONCURRENCY),
            "--wait",
        ]
        direct_cmd = [sys.executable, str(Path(__file__).resolve()), "--direct"]
        times = {"tuneboard": [], "direct pipelined": [], "direct not pipelined": []}
        timed(direct_cmd + ["pipelined"], env)  # warm the sandbox's environments once
        # and the worker's processes (their AWS clients), as a worker that has run a sweep
        first_sweep = timed(tuneboard_cmd, env)
        for _ in range(args.repeat):
            times["tuneboard"].append(timed(tuneboard_cmd, env))
            times["direct pipelined"].append(timed(direct_cmd + ["pipelined"], env))
            times["direct not pipelined"].append(timed(direct_cmd + ["serial"], env))
    finally:
        if worker is not None:
            stop(worker)
        stop(sandbox)
        shutil.rmtree(data_dir, ignore_errors=True)

    medians = {name: statistics.median(values) for name, values in times.items()}
    print(
        f"sweep: {FUNCTION}, {len(SIZES)} sizes x {NUM} invocations, parallel, cap "
        f"{CONCURRENCY}; services: {args.services}; median of {args.repeat}"
    )
    for name, values in times.items():
        rounds = ", ".join(f"{v:.2f}" for v in values)
        print(f"  {name:<22} {medians[name]:6.2f} s   ({rounds})")
    print(f"  (the worker's first sweep, not counted: {first_sweep:.2f} s)")
    ratio = medians["tuneboard"] / medians["direct pipelined"]
    print(f"  tuneboard / direct pipelined     = {ratio:.3f}")
    print(
        "  tuneboard / direct not pipelined = "
        f"{medians['tuneboard'] / medians['direct not pipelined']:.3f}"
    )


if __name__ == "__main__":
    main()
