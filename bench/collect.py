"""Cost of collecting DAX metrics: 20 clusters x 7 days of per-minute metrics (prints only).

Starts its own moto server in this process, seeds ``synthetic_clusters(20)`` with 7 days of
metrics (``sandbox.seed_dax``), then times

1. a first full collection of the 7 days (``collect_all(since=7d)``),
2. an incremental collection 5 minutes later (after one more hour has been published),
3. the same incremental collection again (idempotence: nothing new),
4. the hourly rollup,

and prints the API calls (per operation), datapoints received, points written, rows and the
table sizes in a dedicated PostgreSQL database (``tb_bench_cache`` on the server of
DATABASE_URL).

About moto: its ``get_metric_data`` scans every stored datapoint for every query and every
period (O(queries x periods x datapoints)): with 8 M datapoints one 3-hour window of 500
queries takes hours. The bench therefore installs the sandbox's index
(``sandbox.cloudwatch_index``, as ``python -m sandbox`` does: same answers, exact dimensions,
moto's statistics code) and checks it against moto's own on a sample first. Timings measure
our collector, the HTTP round trips and the database, not moto's scan; the index is built as
the seeder puts the datapoints. ``--moto-scan`` keeps moto's implementation (very slow).

    .venv/bin/python bench/collect.py [--clusters 20] [--days 7] [--moto-scan]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchdb import setup_django

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH_DB = "tb_bench_cache"
SERVICES = ("CLOUDWATCH", "DAX", "DYNAMODB", "STS")


# --------------------------------------------------------------------------- database


def empty_cache_tables() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE cachemetrics_metricpoint, cachemetrics_metricquarter, "
            "cachemetrics_metricrollup, cachemetrics_metricseries, "
            "cachemetrics_cachedtable_clusters, cachemetrics_cachedtable, "
            "cachemetrics_clustersummary, cachemetrics_daxcluster, cachemetrics_collection "
            "CASCADE"
        )


def table_sizes() -> dict[str, tuple[int, int]]:
    """{table: (rows, total bytes incl. indexes)} after VACUUM ANALYZE."""
    from django.db import connection

    out = {}
    with connection.cursor() as cursor:
        for table in ("cachemetrics_metricpoint", "cachemetrics_metricrollup"):
            cursor.execute(f"VACUUM ANALYZE {table}")
            sql = f"SELECT count(*), pg_total_relation_size('{table}') FROM {table}"  # noqa: S608
            cursor.execute(sql)
            out[table] = cursor.fetchone()
    return out


# --------------------------------------------------------------------------- moto


def check_same_answers(sample_queries, start, end) -> int:
    """Compare the sandbox's indexed get_metric_data with moto's own on a sample; returns
    the number of queries checked."""
    from moto.cloudwatch.models import cloudwatch_backends

    from sandbox.cloudwatch_index import MOTO

    backend = cloudwatch_backends["123456789012"]["us-east-1"]
    sample = backend.get_all_metrics()[0].timestamp
    if sample.tzinfo is None:  # moto keeps what its request parser gives: match it
        start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    mine = backend.get_metric_data(sample_queries, start, end)
    theirs = MOTO["get_metric_data"](backend, sample_queries, start, end)

    def norm(results):
        return {
            r["id"]: [(str(t), float(v)) for t, v in zip(r["timestamps"], r["values"], strict=True)]
            for r in results
        }

    if norm(mine) != norm(theirs):
        sys.exit("indexed get_metric_data differs from moto's: bench aborted")
    return len(sample_queries)


def start_moto():
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    for service in SERVICES:
        os.environ[f"AWS_ENDPOINT_URL_{service}"] = url
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
    )
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    return server, url


# --------------------------------------------------------------------------- report


def describe(label: str, seconds: float, collection) -> None:
    print(f"\n{label}: {seconds:.1f} s  [{collection.status}]")
    print(
        f"  window                 {collection.window_start:%Y-%m-%d %H:%M} -> "
        f"{collection.window_end:%Y-%m-%d %H:%M} UTC"
    )
    print(f"  series                 {collection.series_count:,}")
    print(f"  GetMetricData calls    {collection.metric_data_calls:,}")
    print(f"  all API calls          {collection.total_calls:,}  {collection.api_calls}")
    print(f"  datapoints received    {collection.datapoints_received:,}")
    print(f"  points written         {collection.points_written:,} (zero-filled counts included)")
    if collection.errors:
        print(f"  errors                 {collection.errors}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--moto-scan", action="store_true", help="keep moto's scanning query")
    args = parser.parse_args()

    setup_django(BENCH_DB)
    empty_cache_tables()

    from aws import clients as awsclients
    from cachemetrics import catalog, collector, rollup
    from sandbox import cloudwatch_index
    from sandbox.seed_dax import seed_dax, synthetic_clusters

    if not args.moto_scan:
        cloudwatch_index.install()
    server, moto_url = start_moto()
    awsclients.clear()
    specs = synthetic_clusters(args.clusters)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    hours = args.days * 24
    nodes = sum(s.nodes for s in specs)
    tables = sum(len(s.tables) for s in specs)
    print(
        f"{args.clusters} synthetic clusters ({nodes} nodes, {tables} tables), "
        f"{args.days} days of per-minute metrics ending {now:%Y-%m-%d %H:%M} UTC"
    )

    try:
        t0 = time.perf_counter()
        summary = seed_dax(moto_url, hours=hours, now=now, clusters=specs)
        seeded_s = time.perf_counter() - t0
        published = summary["datapoints"]
        print(
            f"seeded in {seeded_s:.0f} s: {sum(published.values()):,} datapoints published "
            f"({published}) in {summary['put_calls']:,} PutMetricData calls"
        )

        if not args.moto_scan:
            sample = [
                {
                    "Id": f"q{i}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "AWS/DAX",
                            "MetricName": metric,
                            "Dimensions": [{"Name": "ClusterId", "Value": spec.name}],
                        },
                        "Period": 60,
                        "Stat": stat,
                    },
                }
                for i, (spec, (metric, stat)) in enumerate(
                    (random.Random(i).choice(specs), catalog.CLUSTER_METRICS[i % 21])
                    for i in range(12)
                )
            ]
            checked = check_same_answers(sample, now - timedelta(minutes=30), now)
            print(f"indexed get_metric_data gives moto's answers on {checked} sample queries")

        t0 = time.perf_counter()
        [first] = collector.collect_all(now=now, since=timedelta(hours=hours))
        describe(f"first full collection ({args.days} days)", time.perf_counter() - t0, first)

        # five minutes later, with one more hour published meanwhile
        seed_dax(moto_url, hours=1, now=now + timedelta(hours=1), clusters=specs)
        later = now + timedelta(minutes=5)
        t0 = time.perf_counter()
        [incremental] = collector.collect_all(now=later)
        describe("incremental collection (5 minutes later)", time.perf_counter() - t0, incremental)

        from cachemetrics.models import MetricPoint

        rows = MetricPoint.objects.count()
        t0 = time.perf_counter()
        [again] = collector.collect_all(now=later)
        describe("same incremental again (idempotent)", time.perf_counter() - t0, again)
        print(f"  rows before / after    {rows:,} / {MetricPoint.objects.count():,}")

        t0 = time.perf_counter()
        written = rollup.rollup(now=later)
        print(
            f"\nhourly rollup of {args.days} days: {written:,} rollup rows in "
            f"{time.perf_counter() - t0:.1f} s"
        )

        sizes = table_sizes()
        print("\nstorage (PostgreSQL, rows / size incl. indexes):")
        for table, (count, size) in sizes.items():
            print(
                f"  {table:28s} {count:>12,} rows  {size / 2**20:8.1f} MiB  "
                f"({size / max(count, 1):.0f} B/row)"
            )
        points_bytes = sizes["cachemetrics_metricpoint"][1]
        per_day = points_bytes / (hours / 24 + 5 / 1440) / args.clusters
        print(
            f"  1-minute points: {per_day * 15 / 2**20:.0f} MiB per cluster for 15 days "
            f"(average cluster here: {nodes / args.clusters:.2f} nodes)"
        )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\npeak RSS (moto + seeder + collector in one process): {peak:,.0f} MB")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
