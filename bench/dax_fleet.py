"""A DAX fleet: 100 clusters x 3 nodes x 24 h of per-minute metrics (prints figures, exit 1
when the GetMetricData call count is not ceil(series x windows / 500)).

The collector talks to real boto3 clients; only the AWS boundary is generated in memory: a
``before-call`` hook on each client answers DescribeClusters, ListTags, DescribeTable and
GetMetricData the way botocore's Stubber does (no HTTP), so every call is made, validated and
counted as against AWS. Seeding 100 clusters through moto would take hours (its
get_metric_data scans every datapoint). Count metrics leave one minute in ten unpublished
(DAX publishes only non-zero values) so the zero-fill runs as it does on real data.

Timed apart:

* CloudWatch time: from each GetMetricData's parameter building to its parsed answer (the
  generated answer included);
* our processing: the rest of the collection (inventory, series, shaping the answers, zero
  fill, upserts, 15-minute rollups) plus the hourly rollup -> datapoints per second;
* the clusters' summaries (the overview's figures, written at the end of the collection):
  timed apart, they do not grow with the datapoints;

then the median server time and SQL query count of the cache overview and of one cluster page
over that data (Django test client, ``--requests`` each, after a warm-up), viewed again and
as first viewed after a collection (what the pages keep in the process emptied before each
request). Uses its own
PostgreSQL database (``tb_bench_fleet`` on the server of DATABASE_URL), emptied first.

    .venv/bin/python bench/dax_fleet.py [--clusters 100] [--nodes 3] [--hours 24]
                                        [--requests 30] [--profile FILE] [--pages-only]

``--pages-only`` times the pages over the data a previous run collected (no collection).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchdb import serve_as_in_production, setup_django
from collect import empty_cache_tables

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH_DB = "tb_bench_fleet"
REGION = "us-east-1"
ACCOUNT = "123456789012"
NODE_TYPE = "dax.r5.large"


# --------------------------------------------------------------------------- the AWS boundary


class FakeFleet:
    """In-memory answers of a region with ``clusters`` DAX clusters of ``nodes`` nodes, each
    fronting one table; counts the calls and the time spent in GetMetricData."""

    def __init__(self, clusters: int, nodes: int):
        self.names = [f"fleet-{i:03d}" for i in range(1, clusters + 1)]
        self.nodes = nodes
        self.calls: dict[str, int] = {}
        self.cloudwatch_s = 0.0
        self.cloudwatch_cpu_s = 0.0
        self._pending: dict[str, dict] = {}
        self._started = self._started_cpu = 0.0

    # botocore event handlers --------------------------------------------------------
    def remember_params(self, params, model, **_):
        self._started, self._started_cpu = time.perf_counter(), time.process_time()
        self._pending[model.name] = dict(params)

    def answer(self, model, **_):
        from botocore.awsrequest import AWSResponse

        self.calls[model.name] = self.calls.get(model.name, 0) + 1
        params = self._pending.pop(model.name)
        parsed = getattr(self, f"_{model.name}")(params)
        parsed["ResponseMetadata"] = {"HTTPStatusCode": 200, "RequestId": "bench"}
        return AWSResponse("https://bench.invalid/", 200, {}, None), parsed

    def stop_clock(self, model, **_):
        if model.name == "GetMetricData":
            self.cloudwatch_s += time.perf_counter() - self._started
            self.cloudwatch_cpu_s += time.process_time() - self._started_cpu

    # answers ------------------------------------------------------------------------
    def _DescribeClusters(self, _params):
        return {
            "Clusters": [
                {
                    "ClusterName": name,
                    "ClusterArn": f"arn:aws:dax:{REGION}:{ACCOUNT}:cache/{name}",
                    "NodeType": NODE_TYPE,
                    "TotalNodes": self.nodes,
                    "ActiveNodes": self.nodes,
                    "Status": "available",
                    "Nodes": [
                        {
                            "NodeId": f"{name}-{chr(ord('a') + n)}",
                            "NodeStatus": "available",
                            "AvailabilityZone": f"{REGION}{chr(ord('a') + n)}",
                        }
                        for n in range(self.nodes)
                    ],
                    "ParameterGroup": {"ParameterGroupName": "default.dax1.0"},
                }
                for name in self.names
            ]
        }

    def _ListTags(self, params):
        name = params["ResourceName"].rsplit("/", 1)[-1]
        return {"Tags": [{"Key": "tuneboard:tables", "Value": f"{name}-table"}]}

    def _DescribeTable(self, params):
        return {
            "Table": {
                "TableName": params["TableName"],
                "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
                "ItemCount": 100_000,
                "TableSizeBytes": 200_000_000,
            }
        }

    def _GetMetricData(self, params):
        start, end = params["StartTime"], params["EndTime"]
        minutes = int((end - start).total_seconds() // 60)
        stamps = [start + timedelta(minutes=m) for m in range(minutes)]
        first = int(start.timestamp() // 60)
        results = []
        for q in params["MetricDataQueries"]:
            stat = q["MetricStat"]
            seed = sum(map(ord, stat["Metric"]["MetricName"] + q["Id"]))
            if stat["Stat"] == "Sum":  # counts: one minute in ten not published (zero)
                kept = [m for m in range(minutes) if (first + m + seed) % 10]
            else:
                kept = range(minutes)
            results.append(
                {
                    "Id": q["Id"],
                    "Label": stat["Metric"]["MetricName"],
                    "Timestamps": [stamps[m] for m in kept],
                    "Values": [float((first + m + seed) % 97 + 1) for m in kept],
                    "StatusCode": "Complete",
                }
            )
        return {"MetricDataResults": results}

    def install(self) -> None:
        from aws import clients

        for service in ("dax", "dynamodb", "cloudwatch"):
            events = clients.client(service, REGION).meta.events
            events.register("before-parameter-build", self.remember_params)
            events.register("before-call", self.answer)
            events.register("after-call", self.stop_clock)


class Stopwatch:
    """Wall and CPU time spent in a function, wrapped in place of it."""

    def __init__(self, function):
        self.function = function
        self.wall_s = self.cpu_s = 0.0

    def __call__(self, *args, **kwargs):
        started, started_cpu = time.perf_counter(), time.process_time()
        try:
            return self.function(*args, **kwargs)
        finally:
            self.wall_s += time.perf_counter() - started
            self.cpu_s += time.process_time() - started_cpu


# --------------------------------------------------------------------------- pages


def measure(client, url: str, requests: int, fresh: bool = False) -> tuple[float, float, set[int]]:
    """Median wall and CPU milliseconds of ``requests`` GETs of ``url``, and the query counts.
    ``fresh``: every request is the first view after a collection (nothing the pages keep in
    the process is reused)."""
    from django.core.cache import cache
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm-up: imports, templates, connection
        assert client.get(url).status_code == 200
    timings, cpu = [], []
    for _ in range(requests):
        reset_queries()  # DEBUG's query log, which grows with every query
        if fresh:
            cache.clear()
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, response.status_code
    # counted apart: recording each query's SQL and time is not the page's own work
    queries = set()
    for _ in range(3):
        if fresh:
            cache.clear()
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        queries.add(len(captured))
    return statistics.median(timings), statistics.median(cpu), queries


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clusters", type=int, default=100)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--requests", type=int, default=30, help="per page; 0: no pages")
    parser.add_argument("--profile", help="write a cProfile of the collection to this file")
    parser.add_argument(
        "--pages-only", action="store_true", help="time the pages over the data already collected"
    )
    args = parser.parse_args()

    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION=REGION
    )
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
        os.environ.pop(name, None)
    setup_django(BENCH_DB)
    from django.conf import settings

    serve_as_in_production()
    if args.pages_only:
        measure_pages(args.requests or 30)
        return
    empty_cache_tables()

    from aws import clients
    from cachemetrics import collector, rollup, summaries

    settings.TUNEBOARD_DAX_REGIONS = [REGION]
    clients.clear()
    fleet = FakeFleet(args.clusters, args.nodes)
    fleet.install()
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    since = timedelta(hours=args.hours)
    print(
        f"{args.clusters} clusters x {args.nodes} nodes ({NODE_TYPE}), one table each, "
        f"{args.hours} h of per-minute metrics ending {now:%Y-%m-%d %H:%M} UTC"
    )

    summaries.write = summarizing = Stopwatch(summaries.write)
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started, started_cpu = time.perf_counter(), time.process_time()
    [collection] = collector.collect_all(now=now, since=since)
    collect_s = time.perf_counter() - started
    started = time.perf_counter()
    rollups = rollup.rollup(now=now)
    rollup_s = time.perf_counter() - started
    # CPU of this process only: the collector's Python work, not PostgreSQL's
    ours_cpu_s = time.process_time() - started_cpu - fleet.cloudwatch_cpu_s - summarizing.cpu_s
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)

    series = collection.series_count
    windows = math.ceil(since / collector.WINDOW)
    expected = math.ceil(series * windows / 500)
    ours_s = collect_s - fleet.cloudwatch_s - summarizing.wall_s + rollup_s
    print(f"\ncollection [{collection.status}] {collection.errors or ''}")
    print(f"  series                      {series:,}  ({windows} windows of 180 min)")
    print(f"  GetMetricData calls         {collection.metric_data_calls:,}")
    print(f"  ceil(series x windows/500)  {expected:,}")
    print(f"  all API calls               {collection.api_calls}")
    print(f"  datapoints received         {collection.datapoints_received:,}")
    print(f"  points written              {collection.points_written:,} (zero-filled included)")
    print(f"  rollup rows written         {rollups:,}")
    print(f"  collection wall time        {collect_s:.1f} s")
    print(f"  CloudWatch time (apart)     {fleet.cloudwatch_s:.1f} s")
    print(
        f"  summaries time (apart)      {summarizing.wall_s:.1f} s, {summarizing.cpu_s:.1f} s CPU"
    )
    print(f"  hourly rollup time          {rollup_s:.1f} s")
    print(f"  our processing              {ours_s:.1f} s (PostgreSQL's work included)")
    print(f"    of which collector CPU    {ours_cpu_s:.1f} s (this process, CloudWatch apart)")
    print(
        f"  throughput                  {collection.points_written / ours_s:,.0f} points "
        f"written/s, {collection.datapoints_received / ours_s:,.0f} datapoints received/s"
    )
    print(
        f"  per collector CPU second    {collection.points_written / ours_cpu_s:,.0f} points "
        f"written/s"
    )

    if args.requests:
        measure_pages(args.requests)
    if collection.metric_data_calls != expected:
        sys.exit("GetMetricData calls differ from ceil(series x windows / 500)")


def measure_pages(requests: int) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from cachemetrics.models import DaxCluster

    user, _ = get_user_model().objects.get_or_create(username="bench-viewer")
    client = Client()
    client.force_login(user)
    cluster = DaxCluster.objects.order_by("name").first()
    print(f"\npages over that data, {requests} requests each (median server time):")
    cluster_url = f"/cache/clusters/{cluster.pk}/"
    for label, url, fresh in (
        ("cache overview /cache/", "/cache/", False),
        ("  first view after a collection", "/cache/", True),
        (f"cluster page ({cluster.name}, 24 h)", cluster_url, False),
        ("  first view after a collection", cluster_url, True),
    ):
        median, cpu, queries = measure(client, url, requests, fresh)
        counts = ",".join(str(q) for q in sorted(queries))
        print(f"  {label:<36} {median:7.1f} ms ({cpu:.1f} ms CPU)  {counts} queries")


if __name__ == "__main__":
    main()
