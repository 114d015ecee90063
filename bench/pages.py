"""Server time of the tuning pages on a large history (no assertion: prints figures).

Seeds 100,000 runs × 6 sizes × 10 invocations into a dedicated PostgreSQL database
(``tb_bench_pages`` on the server of DATABASE_URL, default postgres://postgres@127.0.0.1:5432;
seeding takes a few minutes and about 4 GB), then requests the history (first page, the page
5,000 runs deep through its cursor, a filtered search; the first page also with every row
rendered anew instead of from the rendered-rows cache), one /runs/<uuid>/ and its progress
fragment 50 times each through Django's test client and prints median and p95 wall time, the
median CPU time of this process (not waiting for a core on a busy machine; PostgreSQL's own time
is not in it) and the SQL query count per page (counted on other requests: recording the
queries is not the page's work). With SESSION_CACHE_URL set, sessions are read from Redis as
in production.

    .venv/bin/python bench/pages.py [--runs 100000] [--requests 50] [--reseed]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

from benchdb import serve_as_in_production, setup_django

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH_DB = "tb_bench_pages"
SIZES = (128, 256, 512, 1024, 1769, 3008)
DURATIONS = {128: 1600.0, 256: 800.0, 512: 400.0, 1024: 150.0, 1769: 88.0, 3008: 86.0}
FUNCTIONS = ("tuneboard-cpu", "tuneboard-io", "tuneboard-memory", "orders-api", "thumbnailer")


def seed(runs: int) -> None:
    """Runs through the ORM in batches; their results and invocations (96 % of the rows) in
    two INSERT … SELECT statements, which PostgreSQL fills without a round trip per row."""
    from datetime import timedelta
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from tuning import pricing
    from tuning.models import TuningRun

    users = [
        get_user_model().objects.get_or_create(username=name)[0]
        for name in ("alice", "bob", "carol")
    ]
    now = timezone.now()
    batch = 2000
    started = time.perf_counter()
    with transaction.atomic():
        for first in range(0, runs, batch):
            objs = []
            for index in range(first, min(first + batch, runs)):
                function = FUNCTIONS[index % len(FUNCTIONS)]
                created = now - timedelta(minutes=index * 7)
                objs.append(
                    TuningRun(
                        function_arn=function,
                        function_name=function,
                        region="us-east-1",
                        function_key=f"us-east-1:{function}",
                        memory_sizes=list(SIZES),
                        invocations_per_size=10,
                        status="SUCCEEDED" if index % 17 else "FAILED",
                        phase="done",
                        strategy=("cost", "speed", "balanced")[index % 3],
                        invocations_total=60,
                        invocations_done=60,
                        created_by=users[index % len(users)],
                        started_at=created,
                        finished_at=created + timedelta(seconds=40 + index % 30),
                        original_config={"MemorySize": 128, "Architectures": ["x86_64"]},
                        payload={"n": index},
                    )
                )
            TuningRun.objects.bulk_create(objs)
        print(f"  seeded {runs:,} runs ({time.perf_counter() - started:.0f} s)", flush=True)
        costs = [pricing.invocation_cost(size, Decimal(int(DURATIONS[size]) + 1)) for size in SIZES]
        with connection.cursor() as cursor:
            # created_at is auto_now_add: spread it over time afterwards
            cursor.execute(
                "UPDATE tuning_tuningrun SET created_at = started_at WHERE created_at <> started_at"
            )
            cursor.execute(
                """
                INSERT INTO tuning_powerresult (
                    run_id, memory_mb, status, version, alias, version_created, batches_total,
                    batches_done, invocations_done, errors, allowed_errors, cold_starts,
                    error_message, avg_duration_ms, mean_duration_ms, min_duration_ms,
                    max_duration_ms, p50_duration_ms, p95_duration_ms, p99_duration_ms,
                    stdev_duration_ms, ci95_low_ms, ci95_high_ms, noisy,
                    avg_billed_duration_ms, avg_cost_usd, max_memory_used_mb, finished_at)
                SELECT run.id, size.mb, 'SUCCEEDED', '', '', false, 0, '[]', 10, 0, 0, 1, '',
                    size.d, size.d, size.d * 0.96, size.d * 1.04, size.d, size.d * 1.03,
                    size.d * 1.04, size.d * 0.02, size.d * 0.985, size.d * 1.015, false,
                    floor(size.d) + 1, size.cost, least(size.mb, 90), run.finished_at
                FROM tuning_tuningrun run
                CROSS JOIN unnest(%s::int[], %s::float[], %s::numeric[]) AS size (mb, d, cost)
                WHERE NOT EXISTS (SELECT 1 FROM tuning_powerresult r WHERE r.run_id = run.id)
                """,
                [list(SIZES), [DURATIONS[size] for size in SIZES], costs],
            )
            print(f"  seeded results ({time.perf_counter() - started:.0f} s)", flush=True)
            cursor.execute(
                """
                INSERT INTO tuning_invocation (
                    result_id, run_id, memory_mb, sequence, payload_index, request_id,
                    duration_ms, billed_duration_ms, init_duration_ms, max_memory_used_mb,
                    cold_start, cost_usd, error_type, error_message, created_at)
                SELECT result.id, result.run_id, result.memory_mb, seq, 0, '',
                    result.avg_duration_ms * (1 + 0.02 * ((seq % 5) - 2)),
                    result.avg_billed_duration_ms, CASE WHEN seq = 0 THEN 180.0 END,
                    result.max_memory_used_mb, seq = 0, result.avg_cost_usd, '', '', now()
                FROM tuning_powerresult result CROSS JOIN generate_series(0, 9) AS seq
                WHERE NOT EXISTS (SELECT 1 FROM tuning_invocation i WHERE i.result_id = result.id)
                """
            )
    with connection.cursor() as cursor:
        # Statistics for the planner now, not whenever autovacuum comes by: without them the
        # search plan over the fresh rows takes a sequential scan.
        cursor.execute("ANALYZE tuning_tuningrun, tuning_powerresult, tuning_invocation")
    print(f"  seeded invocations ({time.perf_counter() - started:.0f} s)", flush=True)


def fill_analysis() -> None:
    """Store the analysis a finished run has (every seeded run of a strategy has the same
    results, so one is computed per strategy and copied)."""
    from tuning.models import TuningRun

    for strategy in ("cost", "speed", "balanced"):
        missing = TuningRun.objects.filter(strategy=strategy, analysis={})
        model = missing.first()
        if model is not None:
            missing.update(analysis=model._compute_analysis())


def measure(
    client, url: str, requests: int, fresh_rows: bool = False
) -> tuple[list[float], list[float], set[int]]:
    """Wall-clock and this process's CPU time (ms) of each request, and the query counts seen.
    On a busy machine the wall time includes waiting for a core; the CPU time does not (nor
    PostgreSQL's own time, which runs in its server process). ``fresh_rows``: every history
    row rendered anew (as on a page nobody opened since the process started)."""
    from django.core.cache import caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm-up: imports, template loading, connection
        assert client.get(url).status_code == 200
    timings, cpu = [], []
    for _ in range(requests):
        if fresh_rows:
            caches["history-rows"].clear()
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, response.status_code
    # counted apart: recording each query's SQL and time is not the page's own work
    queries = set()
    for _ in range(3):
        if fresh_rows:
            caches["history-rows"].clear()
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        queries.add(len(captured))
    return timings, cpu, queries


def measure_first_views(client, runs) -> list[float]:
    """The first view of each run, its figures built as the worker builds them when a run
    finishes (not timed here: that is the worker's time, not the viewer's)."""
    from django.core.cache import cache

    from tuning import charts

    for run in runs:
        charts.store_figures(run)
    timings = []
    for run in runs:
        cache.clear()
        started = time.perf_counter()
        assert client.get(f"/runs/{run.id}/").status_code == 200
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--reseed", action="store_true", help="empty the bench database first")
    args = parser.parse_args()

    setup_django(BENCH_DB)
    from django.conf import settings
    from django.test import Client

    from tuning import history
    from tuning.models import TuningRun

    serve_as_in_production()
    if args.reseed:
        TuningRun.objects.all().delete()
    have = TuningRun.objects.count()
    if have < args.runs:
        print(f"Seeding {args.runs - have:,} runs × {len(SIZES)} sizes × 10 invocations …")
        seed(args.runs - have)
    fill_analysis()
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench-viewer")
    client = Client()
    client.force_login(user)
    succeeded = TuningRun.objects.filter(status="SUCCEEDED").order_by("-created_at")
    run = succeeded[min(500, succeeded.count() - 1)]
    deep = TuningRun.objects.order_by(*history.ORDER)[5000 - 1]  # the last run of page 200
    total = TuningRun.objects.count()
    name = settings.DATABASES["default"]["NAME"]
    sessions = (
        "Redis (SESSION_CACHE_URL)"
        if settings.SESSION_CACHE_ALIAS == "sessions"
        else "the database"
    )
    print(
        f"\nDatabase {name}: {total:,} runs; {args.requests} requests per page; "
        f"sessions from {sessions}"
    )
    print(f"{'page':<44} {'median':>9} {'p95':>9} {'CPU med.':>9} {'queries':>8}")
    for label, page_url, fresh_rows in (
        ("/runs/", "/runs/", False),
        ("/runs/ (rows rendered anew)", "/runs/", True),
        ("/runs/?before=… (5,000 runs deep)", f"/runs/?before={history.cursor_of(deep)}", False),
        ("/runs/?q=orders&status=SUCCEEDED", "/runs/?q=orders&status=SUCCEEDED", False),
        ("/runs/<uuid>/ (6 sizes, 60 invocations)", f"/runs/{run.id}/", False),
        ("/runs/<uuid>/progress/", f"/runs/{run.id}/progress/", False),
    ):
        timings, cpu, queries = measure(client, page_url, args.requests, fresh_rows)
        counts = ",".join(str(q) for q in sorted(queries))
        print(
            f"{label:<44} {statistics.median(timings):>6.1f} ms {p95(timings):>6.1f} ms "
            f"{statistics.median(cpu):>6.1f} ms {counts:>8}"
        )
    first_views = list(succeeded[1000 : 1000 + args.requests])
    timings = measure_first_views(client, first_views)
    label = "/runs/<uuid>/ first view (built at finish)"
    print(f"{label:<44} {statistics.median(timings):>7.1f} ms {p95(timings):>6.1f} ms")


if __name__ == "__main__":
    main()
