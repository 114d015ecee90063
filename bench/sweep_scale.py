"""Does a big sweep keep up with a direct boto3 script, on 1, 2 and 4 worker processes?

Starts its own sandbox (``python -m sandbox``, seeded functions), migrates a PostgreSQL
database of its own (``tb_bench_batch``) and uses Redis db 9 as broker (emptied at start).
Times the same sweep — 10 sizes × 500 invocations of ``tuneboard-io``, parallel, at most 100
invocations at a time — as:

* ``manage.py sweep ... --wait`` with one Celery worker of 1, 2 and 4 processes (``-c``,
  consuming the ``sweeps`` and ``invocations`` queues; started before each sweep), and with
  ``--workers t8`` one worker process running 8 tasks at once in threads (``-P threads``);
* the direct pipelined boto3 script of bench/sweep_overhead.py at the same shape.

Each round times the direct script, then Tuneboard at each worker count (A/B interleaved);
prints every round, the medians and the ratios side by side. Also prints, per Tuneboard
sweep, the invocation rows it stored, the rows PostgreSQL counted as inserted into the
invocation table (``pg_stat_user_tables.n_tup_ins`` delta) and the INSERT transactions
that stored them (distinct ``xmin`` of the run's rows): batched writes show far fewer
transactions than rows. Times are only printed, never asserted.

Usage: ``.venv/bin/python bench/sweep_scale.py [--repeat 2] [--workers 1,2,4,t8]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from benchdb import setup_django
from sweep_overhead import start_sandbox, start_worker, stop, timed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH_DB = "tb_bench_batch"
BROKER_URL = "redis://127.0.0.1:6379/9"
FUNCTION = "tuneboard-io"
SIZES = [128, 256, 384, 512, 640, 768, 896, 1024, 1536, 2048]
NUM = 500
CONCURRENCY = 100


def inserted_rows() -> int:
    """Rows PostgreSQL counted as inserted into the invocation table (statistics lag by up
    to a second: read after a pause, and only as a cross-check of the stored rows)."""
    from django.db import connection

    time.sleep(1.5)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = %s",
            ["tuning_invocation"],
        )
        return cursor.fetchone()[0]


def last_run_writes() -> dict:
    """The latest run's status, stored rows, and INSERT transactions (distinct xmin)."""
    from django.db import connection

    from tuning.models import TuningRun

    run = TuningRun.objects.order_by("-created_at").first()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(DISTINCT xmin::text) FROM tuning_invocation WHERE run_id = %s",
            [run.pk],
        )
        rows, transactions = cursor.fetchone()
    return {"status": run.status, "rows": rows, "transactions": transactions}


def worker_label(spec: str) -> str:
    """ "4" is a worker of 4 processes, "t8" one process running 8 tasks in threads."""
    if spec.startswith("t"):
        return f"1 proc, {spec[1:]} threads"
    return f"{spec} proc"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workers", default="1,2,4,t8", help="N: N processes; tN: N threads")
    args = parser.parse_args()
    workers = {worker_label(spec): spec for spec in args.workers.split(",")}

    os.environ["CELERY_BROKER_URL"] = BROKER_URL
    os.environ.pop("TEST_DATABASE_NAME", None)
    setup_django(BENCH_DB)  # sets DATABASE_URL to the bench database for the children too
    import redis

    redis.Redis.from_url(BROKER_URL).flushdb()
    sandbox, exports = start_sandbox()
    env = {**os.environ, **exports, "LOG_LEVEL": "WARNING"}
    sizes = ",".join(map(str, SIZES))
    direct_cmd = [
        sys.executable,
        str(ROOT / "bench" / "sweep_overhead.py"),
        "--direct",
        "pipelined",
        "--sizes",
        sizes,
        "--num",
        str(NUM),
        "--concurrency",
        str(CONCURRENCY),
    ]
    sweep_cmd = [
        sys.executable,
        "manage.py",
        "sweep",
        FUNCTION,
        "--power",
        sizes,
        "--num",
        str(NUM),
        "--parallel",
        "--concurrency",
        str(CONCURRENCY),
        "--wait",
    ]
    times: dict[str, list[float]] = {"direct": [], **{label: [] for label in workers}}
    writes: dict[str, list[dict]] = {label: [] for label in workers}
    try:
        timed(direct_cmd, env)  # warm the sandbox's environments once
        for round_ in range(1, args.repeat + 1):
            times["direct"].append(timed(direct_cmd, env))
            print(f"round {round_}: direct {times['direct'][-1]:.1f} s", flush=True)
            for label, spec in workers.items():
                pool = "threads" if spec.startswith("t") else "prefork"
                count = int(spec.lstrip("t"))
                worker = start_worker(count, env, f"scale-{os.getpid()}@tuneboard", pool)
                try:
                    before = inserted_rows()
                    times[label].append(timed(sweep_cmd, env))
                    written = last_run_writes()
                    written["n_tup_ins"] = inserted_rows() - before
                finally:
                    stop(worker)
                writes[label].append(written)
                print(f"round {round_}: {label} {times[label][-1]:.1f} s, {written}", flush=True)
    finally:
        stop(sandbox)

    medians = {name: statistics.median(values) for name, values in times.items()}
    print(
        f"\nsweep: {FUNCTION}, {len(SIZES)} sizes x {NUM} invocations, parallel, cap "
        f"{CONCURRENCY}; PostgreSQL + Redis; median of {args.repeat}"
    )
    print(f"  {'':<22} {'median':>8}  {'ratio':>6}  rounds")
    for name, values in times.items():
        rounds = ", ".join(f"{v:.1f}" for v in values)
        ratio = medians[name] / medians["direct"]
        print(f"  {name:<22} {medians[name]:7.1f}s  {ratio:6.3f}  ({rounds})")
    print("\n  invocation writes per Tuneboard sweep (rows / n_tup_ins / INSERT transactions):")
    for name, rounds in writes.items():
        shown = ", ".join(
            f"{w['rows']} / {w['n_tup_ins']} / {w['transactions']} ({w['status']})" for w in rounds
        )
        print(f"  {name:<22} {shown}")


if __name__ == "__main__":
    main()
