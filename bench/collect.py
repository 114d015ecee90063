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
queries takes hours. The bench therefore swaps in an *indexed* implementation with the same
answers (exact dimensions, same statistics code, same result shape) and checks it against
moto's own on a sample first. Timings measure our collector, the HTTP round trips and the
database, not moto's scan. ``--moto-scan`` keeps moto's implementation (very slow).

    .venv/bin/python bench/collect.py [--clusters 20] [--days 7] [--moto-scan]
"""

from __future__ import annotations

import argparse
import bisect
import os
import random
import resource
import sys
import time
from collections import defaultdict
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
            "TRUNCATE cachemetrics_metricpoint, cachemetrics_metricrollup, "
            "cachemetrics_metricseries, cachemetrics_cachedtable_clusters, "
            "cachemetrics_cachedtable, cachemetrics_daxcluster, cachemetrics_collection"
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


def install_indexed_get_metric_data():
    """Replace moto's scanning get_metric_data with an indexed one (same answers)."""
    from moto.cloudwatch.models import CloudWatchBackend, Statistics

    original = CloudWatchBackend.get_metric_data

    def index(backend):
        data = backend.get_all_metrics()
        cached = getattr(backend, "_bench_index", None)
        if cached and cached[0] == len(data):
            return cached[1]
        series = defaultdict(list)
        for md in data:
            dims = tuple(sorted((d.name, d.value) for d in md.dimensions))
            series[(md.namespace, md.name, dims)].append(md)
        built = {}
        for key, mds in series.items():
            mds.sort(key=lambda m: m.timestamp)
            built[key] = ([m.timestamp for m in mds], mds)
        backend._bench_index = (len(data), built)
        return built

    def get_metric_data(self, queries, start_time, end_time, scan_by="TimestampAscending"):
        if any("MetricStat" not in q for q in queries):
            return original(self, queries, start_time, end_time, scan_by)
        start_time = start_time.replace(microsecond=0)
        end_time = end_time.replace(microsecond=0)
        built = index(self)
        results = []
        for query in queries:
            stat_q = query["MetricStat"]
            metric = stat_q["Metric"]
            dims = tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", [])))
            period = timedelta(seconds=int(stat_q["Period"]))
            stat = stat_q["Stat"]
            unit = stat_q.get("Unit")
            timestamps, mds = built.get((metric["Namespace"], metric["MetricName"], dims), ([], []))
            lo = bisect.bisect_left(timestamps, start_time)
            hi = bisect.bisect_left(timestamps, end_time)
            buckets = defaultdict(list)
            for md in mds[lo:hi]:
                if unit and md.unit != unit:
                    continue
                buckets[(md.timestamp - start_time) // period].append(md)
            values, stamps = [], []
            for k in sorted(buckets):
                stats = Statistics([stat], start_time + k * period)
                stats.metric_data = buckets[k]
                values.append(stats.get_statistics_for_type(stat))
                stamps.append(stats.timestamp)
            if scan_by == "TimestampDescending":
                values.reverse()
                stamps.reverse()
            label = query.get("Label") or f"{metric['MetricName']} {stat}"
            if query.get("ReturnData", True):
                results.append(
                    {
                        "id": query["Id"],
                        "label": label,
                        "values": values,
                        "timestamps": stamps,
                        "status_code": "Complete",
                    }
                )
        return results

    CloudWatchBackend.get_metric_data = get_metric_data
    CloudWatchBackend.bench_index = index
    return original


def check_same_answers(original, sample_queries, start, end) -> int:
    """Compare the indexed implementation with moto's own on a sample; returns queries checked."""
    from moto.cloudwatch.models import cloudwatch_backends

    backend = cloudwatch_backends["123456789012"]["us-east-1"]
    sample = backend.get_all_metrics()[0].timestamp
    if sample.tzinfo is None:  # moto keeps what its request parser gives: match it
        start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    mine = backend.get_metric_data(sample_queries, start, end)
    theirs = original(backend, sample_queries, start, end)

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
    from sandbox.seed_dax import seed_dax, synthetic_clusters

    server, moto_url = start_moto()
    awsclients.clear()
    original = None if args.moto_scan else install_indexed_get_metric_data()
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

        if original is not None:
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
            checked = check_same_answers(original, sample, now - timedelta(minutes=30), now)
            print(f"indexed get_metric_data gives moto's answers on {checked} sample queries")

        t0 = time.perf_counter()
        [first] = collector.collect_all(now=now, since=timedelta(hours=hours))
        describe(f"first full collection ({args.days} days)", time.perf_counter() - t0, first)

        # five minutes later, with one more hour published meanwhile
        seed_dax(moto_url, hours=1, now=now + timedelta(hours=1), clusters=specs)
        later = now + timedelta(minutes=5)
        if original is not None:  # re-index moto's 8 M datapoints outside the timing
            from moto.cloudwatch.models import cloudwatch_backends

            backend = cloudwatch_backends["123456789012"]["us-east-1"]
            backend.bench_index()
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
