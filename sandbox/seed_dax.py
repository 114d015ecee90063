"""Seed the sandbox AWS (moto server) with DAX clusters, their tables and realistic metrics.

``seed_dax`` creates the DynamoDB tables and DAX clusters (skipping what exists), runs the
cache model of :mod:`sandbox.daxsim` over the period, publishes what DAX and DynamoDB would
have published into CloudWatch, and returns the true totals so tests can compare.
"""

from __future__ import annotations

import json
import random
import time
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config

from sandbox.daxsim import (
    COUNT_METRICS,
    GAUGE_METRICS,
    ITEM_HITS,
    ITEM_MISSES,
    ITEM_READS_STRONG,
    METRIC_UNITS,
    QUERY_STRONG,
    READ_UNIT_COUNTERS,
    ClusterSpec,
    MinuteResult,
    TableSpec,
    scale_counts,
    simulate,
)

__all__ = [
    "DEFAULT_CLUSTERS",
    "DEMO_SCALE",
    "TABLES_TAG",
    "ClusterSpec",
    "TableSpec",
    "make_dax_immediate",
    "seed_dax",
    "synthetic_clusters",
]

TABLES_TAG = "tuneboard:tables"
DAX_NAMESPACE = "AWS/DAX"
DYNAMODB_NAMESPACE = "AWS/DynamoDB"
MAX_DATA_PER_CALL = 1000  # CloudWatch PutMetricData limit
PUBLISH_THREADS = 4

# The demo set is a scaled-down copy of real workloads: the key spaces, the cache memory
# (``memory_scale_down``) and the traffic (``traffic_scale``) are all 1/1024 of the real
# ones, so the hit ratios are those of the real clusters and the published counts are real
# rates. Three stories: a cluster that pays for itself many times over, one that costs far
# more than it saves, and one too small for its working set.
DEMO_SCALE = 1024

DEFAULT_CLUSTERS: list[ClusterSpec] = [
    ClusterSpec(
        # Pays for itself: ~25k requests/s (~40k at the peak) on three r5.large, working set
        # fits, ~85 % item hit ratio; the reads it absorbs are worth several times the nodes.
        name="orders-cache",
        node_type="dax.r5.large",
        nodes=3,
        description="Order lookups for the checkout and order-history services",
        memory_scale_down=DEMO_SCALE,
        traffic_scale=DEMO_SCALE,
        tables=(
            TableSpec(
                name="Orders",
                billing_mode="PAY_PER_REQUEST",
                key_space=4_000,
                zipf_s=1.1,
                item_kb=1.5,
                peak_rpm=2400,
                peak_hour=13,
                write_share=0.08,
                strong_share=0.01,
                query_share=0.20,
                scan_share=0.001,
                query_kinds=400,
            ),
        ),
    ),
    ClusterSpec(
        # Too small: two t3.medium for a catalog far larger than their memory, with traffic
        # climbing over the period (a sale): the cache is full, evictions rise, under half of
        # the item reads hit. Burstable nodes: a bulk import just before the period spent
        # nearly all their CPU credits; a few requests fail with internal errors.
        name="catalog-cache",
        node_type="dax.t3.medium",
        nodes=2,
        description="Product pages: catalog items and their reviews",
        initial_cpu_credits=2.0,
        fault_rate=0.00005,
        memory_scale_down=DEMO_SCALE,
        traffic_scale=DEMO_SCALE,
        tables=(
            TableSpec(
                name="Products",
                billing_mode="PROVISIONED",
                read_capacity=200,
                write_capacity=20,
                key_space=20_000,
                zipf_s=1.0,
                item_kb=3.0,
                peak_rpm=350,
                trough_ratio=0.75,
                peak_hour=19,
                growth=2.5,
                write_share=0.02,
                strong_share=0.01,
                query_share=0.25,
                query_kinds=1500,
            ),
            TableSpec(
                name="Reviews",
                billing_mode="PAY_PER_REQUEST",
                key_space=50_000,
                zipf_s=1.0,
                item_kb=2.0,
                peak_rpm=150,
                trough_ratio=0.75,
                peak_hour=20,
                growth=2.5,
                write_share=0.10,
                strong_share=0.02,
                query_share=0.45,
                query_kinds=3000,
            ),
        ),
    ),
    ClusterSpec(
        # Costs more than it saves: two r5.large for ~1,000 requests/s of sessions, 40 % of
        # the reads strongly consistent (they bypass the cache) and a 60 s TTL.
        name="sessions-cache",
        node_type="dax.r5.large",
        nodes=2,
        description="Web sessions (short TTL, mostly strongly consistent, oversized)",
        item_ttl_s=60,
        query_ttl_s=60,
        throttle_rate=0.0,
        memory_scale_down=DEMO_SCALE,
        traffic_scale=DEMO_SCALE,
        tables=(
            TableSpec(
                name="Sessions",
                billing_mode="PAY_PER_REQUEST",
                key_space=30_000,
                zipf_s=1.0,
                item_kb=6.0,
                peak_rpm=90,
                peak_hour=10,
                write_share=0.30,
                strong_share=0.40,
                query_share=0.02,
                scan_share=0.0,
                batch_share=0.0,
            ),
        ),
    ),
]

_REQUEST_NAMES = {
    "GetItem": "GetItemRequestCount",
    "BatchGetItem": "BatchGetItemRequestCount",
    "Query": "QueryRequestCount",
    "Scan": "ScanRequestCount",
    "PutItem": "PutItemRequestCount",
    "UpdateItem": "UpdateItemRequestCount",
    "DeleteItem": "DeleteItemRequestCount",
    "Total": "TotalRequestCount",
    "Error": "ErrorRequestCount",
    "Throttled": "ThrottledRequestCount",
}
_COUNT_INDEX = {name: i for i, name in enumerate(COUNT_METRICS)}


# --------------------------------------------------------------------------- synthetic set


def synthetic_clusters(n: int) -> list[ClusterSpec]:
    """``n`` clusters with varied workloads (cluster i is the same whatever ``n`` is).

    Sized for benchmarks (20 clusters x 7 days): modest request rates, mostly small clusters.
    """
    node_types = ["dax.t3.small", "dax.t3.medium", "dax.r5.large", "dax.r5.xlarge"]
    clusters = []
    for i in range(1, n + 1):
        rng = random.Random(f"synthetic-cluster:{i}")
        n_tables = rng.choice((1, 1, 2, 3))
        tables = tuple(
            TableSpec(
                name=f"BenchTable{i:02d}{chr(ord('a') + t)}",
                billing_mode=rng.choice(("PAY_PER_REQUEST", "PROVISIONED")),
                read_capacity=100,
                write_capacity=25,
                key_space=rng.choice((2_000, 5_000, 20_000, 50_000)),
                zipf_s=round(rng.uniform(0.6, 1.4), 2),
                item_kb=round(rng.uniform(0.5, 8.0), 1),
                peak_rpm=rng.randint(40, 160),
                trough_ratio=round(rng.uniform(0.1, 0.6), 2),
                peak_hour=rng.randint(0, 23),
                write_share=round(rng.uniform(0.01, 0.3), 3),
                strong_share=round(rng.uniform(0.0, 0.3), 3),
                query_share=round(rng.uniform(0.0, 0.5), 3),
                scan_share=rng.choice((0.0, 0.001, 0.005)),
                query_kinds=rng.choice((200, 1000, 5000)),
            )
            for t in range(n_tables)
        )
        ttl = rng.choice((60, 300, 300, 600))
        clusters.append(
            ClusterSpec(
                name=f"bench-cache-{i:02d}",
                node_type=rng.choice(node_types),
                nodes=rng.choice((1, 1, 2, 3)),
                tables=tables,
                item_ttl_s=ttl,
                query_ttl_s=ttl,
                description=f"Synthetic benchmark cluster {i}",
            )
        )
    return clusters


# --------------------------------------------------------------------------- AWS resources


def _patch_moto_active_nodes() -> None:
    """moto's DescribeClusters says ``ActiveNodes: 0`` whatever the state; DAX counts the
    nodes that are up. Patch the in-process moto (the sandbox's and the tests' servers run
    in this process): an available cluster reports its available nodes. Idempotent."""
    try:
        from moto.dax.models import DaxCluster
    except ImportError:  # seeding a moto server of another process: nothing to patch here
        return
    if getattr(DaxCluster.to_json, "_tuneboard_active_nodes", False):
        return
    original = DaxCluster.to_json

    def to_json(self: Any) -> dict[str, Any]:
        data = original(self)
        if self.status == "available":
            data["ActiveNodes"] = sum(1 for n in self.nodes if n.status == "available")
        return data

    to_json._tuneboard_active_nodes = True  # type: ignore[attr-defined]
    DaxCluster.to_json = to_json  # type: ignore[method-assign]


def make_dax_immediate(endpoint_url: str) -> None:
    """Tell moto to make DAX clusters `available` at once instead of after 4 describes (and
    make an in-process moto report their ``ActiveNodes``)."""
    _patch_moto_active_nodes()
    body = json.dumps(
        {"model_name": "dax::cluster", "transition": {"progression": "immediate"}}
    ).encode()
    url = endpoint_url.rstrip("/") + "/moto-api/state-manager/set-transition"
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) endpoint: {endpoint_url!r}")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        response.read()


def _client(service: str, endpoint_url: str, region: str) -> Any:
    # Always moto: fixed fake credentials so real ones from the environment are never used.
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's fake credentials
        config=Config(
            max_pool_connections=PUBLISH_THREADS * 2,
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    )


def _existing_tables(ddb: Any) -> set[str]:
    names: set[str] = set()
    for page in ddb.get_paginator("list_tables").paginate():
        names.update(page["TableNames"])
    return names


def _ensure_table(ddb: Any, table: TableSpec, existing: set[str]) -> bool:
    if table.name in existing:
        return False
    kwargs: dict[str, Any] = {
        "TableName": table.name,
        "KeySchema": [{"AttributeName": table.hash_key, "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": table.hash_key, "AttributeType": "S"}],
        "BillingMode": table.billing_mode,
        "Tags": [{"Key": "tuneboard:sandbox", "Value": "dax"}],
    }
    if table.billing_mode == "PROVISIONED":
        kwargs["ProvisionedThroughput"] = {
            "ReadCapacityUnits": table.read_capacity or 5,
            "WriteCapacityUnits": table.write_capacity or 5,
        }
    ddb.create_table(**kwargs)
    existing.add(table.name)
    return True


def _existing_clusters(dax: Any) -> set[str]:
    names: set[str] = set()
    token = None
    while True:
        page = dax.describe_clusters(**({"NextToken": token} if token else {}))
        names.update(c["ClusterName"] for c in page["Clusters"])
        token = page.get("NextToken")
        if not token:
            return names


def _ensure_cluster(dax: Any, spec: ClusterSpec, role_arn: str, existing: set[str]) -> bool:
    if spec.name in existing:
        return False
    dax.create_cluster(
        ClusterName=spec.name,
        NodeType=spec.node_type,
        ReplicationFactor=spec.nodes,
        IamRoleArn=role_arn,
        Description=spec.description or f"DAX cluster {spec.name}",
        SubnetGroupName="default",
        SSESpecification={"Enabled": True},
        Tags=[
            {"Key": TABLES_TAG, "Value": ",".join(t.name for t in spec.tables)},
            {"Key": "tuneboard:sandbox", "Value": "dax"},
        ],
    )
    existing.add(spec.name)
    return True


# --------------------------------------------------------------------------- metrics


def _datum(name: str, dimensions: list, ts: datetime, value: float, unit: str) -> dict:
    """One PutMetricData entry."""
    return {
        "MetricName": name,
        "Dimensions": dimensions,
        "Timestamp": ts,
        "Value": value,
        "Unit": unit,
    }


def _add(totals: dict[str, float], name: str, value: float) -> None:
    totals[name] = totals.get(name, 0.0) + value


def _discard(_datum: dict[str, Any]) -> None:
    pass


def published_minutes(spec, start_epoch: float, minutes: int, seed: object = 42) -> list:
    """The simulated minutes of a cluster, with counts scaled as they are published."""
    results = simulate(spec, start_epoch, minutes, seed=seed)
    scale_counts(results, spec.traffic_scale)
    return results


def _cluster_metric_data(
    spec: ClusterSpec,
    results: list[MinuteResult],
    cluster_totals: dict[str, float],
    node_totals: dict[str, dict[str, float]],
) -> list[dict[str, Any]]:
    """AWS/DAX MetricData for one cluster: per node and per cluster, non-zero values only."""
    node_ids = spec.node_ids
    node_dims = [
        [{"Name": "ClusterId", "Value": spec.name}, {"Name": "NodeId", "Value": node}]
        for node in node_ids
    ]
    cluster_dims = [{"Name": "ClusterId", "Value": spec.name}]
    data: list[dict[str, Any]] = []
    append = data.append
    node_append = append if spec.node_metrics else _discard
    for minute in results:
        ts = datetime.fromtimestamp(minute.epoch_s, UTC)
        for j, name in enumerate(COUNT_METRICS):
            unit = METRIC_UNITS[name]
            cluster_value = 0.0
            for n, node in enumerate(node_ids):
                value = minute.node_counts[n][j]
                if value:
                    node_append(_datum(name, node_dims[n], ts, value, unit))
                    _add(node_totals[node], name, value)
                    cluster_value += value
            if cluster_value:
                append(_datum(name, cluster_dims, ts, cluster_value, unit))
                _add(cluster_totals, name, cluster_value)
        for name in GAUGE_METRICS:
            unit = METRIC_UNITS[name]
            values = []
            for n, node in enumerate(node_ids):
                value = minute.node_gauges[n].get(name)  # CPUCreditBalance: burstable only
                if value:
                    node_append(_datum(name, node_dims[n], ts, value, unit))
                    _add(node_totals[node], name, value)
                    values.append(value)
            if not values:
                continue
            total = sum(values)
            if name == "EvictedSize":  # a count of bytes: the cluster value is the sum
                datum: dict[str, Any] = {"Value": total}
            else:  # a gauge: Average over nodes, Maximum = busiest node
                datum = {
                    "StatisticValues": {
                        "SampleCount": float(len(values)),
                        "Sum": total,
                        "Minimum": min(values),
                        "Maximum": max(values),
                    }
                }
            datum.update(
                {"MetricName": name, "Dimensions": cluster_dims, "Timestamp": ts, "Unit": unit}
            )
            append(datum)
            _add(cluster_totals, name, total)
    return data


def _table_metric_data(
    spec: ClusterSpec, results: list[MinuteResult], table_totals: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """AWS/DynamoDB ConsumedReadCapacityUnits per table and minute (non-zero only)."""
    data: list[dict[str, Any]] = []
    for ti, table in enumerate(spec.tables):
        dims = [{"Name": "TableName", "Value": table.name}]
        totals = table_totals[table.name]
        for minute in results:
            units = minute.table_read_units[ti]
            if units:
                data.append(
                    {
                        "MetricName": "ConsumedReadCapacityUnits",
                        "Dimensions": dims,
                        "Timestamp": datetime.fromtimestamp(minute.epoch_s, UTC),
                        "Value": units,
                        "Unit": "Count",
                    }
                )
                totals["consumed_read_units"] += units
            counts = minute.table_counts[ti]
            for key, index in (
                ("item_cache_hits", _COUNT_INDEX["ItemCacheHits"]),
                ("item_cache_misses", _COUNT_INDEX["ItemCacheMisses"]),
                ("query_cache_hits", _COUNT_INDEX["QueryCacheHits"]),
                ("query_cache_misses", _COUNT_INDEX["QueryCacheMisses"]),
                ("scan_cache_hits", _COUNT_INDEX["ScanCacheHits"]),
                ("scan_cache_misses", _COUNT_INDEX["ScanCacheMisses"]),
            ):
                totals[key] += int(counts[index])
            totals["item_reads_eventual"] += int(counts[ITEM_HITS] + counts[ITEM_MISSES])
            totals["item_reads_strong"] += int(counts[ITEM_READS_STRONG])
            totals["queries_strong"] += int(counts[QUERY_STRONG])
            for op, metric in _REQUEST_NAMES.items():
                totals["requests"][op] += int(counts[_COUNT_INDEX[metric]])
            for cause, index in READ_UNIT_COUNTERS.items():
                totals["read_units"][cause] += counts[index]
    return data


def _moto_publisher(account: str, region: str) -> Callable[..., None]:
    """PutMetricData straight into this process's moto CloudWatch backend: what moto stores for
    the same call over HTTP, without serialising, sending and parsing ~240,000 datapoints
    (about half of the seeding's time). moto's parser gives naive UTC timestamps."""
    from moto.cloudwatch.models import cloudwatch_backends

    backend = cloudwatch_backends[account][region]

    def put_metric_data(Namespace: str, MetricData: list[dict[str, Any]]) -> None:  # noqa: N803
        naive = [
            {**datum, "Timestamp": datum["Timestamp"].astimezone(UTC).replace(tzinfo=None)}
            for datum in MetricData
        ]
        backend.put_metric_data(Namespace, naive)

    return put_metric_data


def _chunks(data: list[dict[str, Any]], size: int) -> Iterable[list[dict[str, Any]]]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


# --------------------------------------------------------------------------- seeding


def _minute_floor(now: datetime | None) -> datetime:
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(UTC).replace(second=0, microsecond=0)


def seed_dax(
    endpoint_url: str,
    region: str = "us-east-1",
    hours: int = 24,
    now: datetime | None = None,
    seed: int = 42,
    clusters: list[ClusterSpec] | None = None,
    moto_in_process: bool = False,
) -> dict:
    """Create tables and clusters (idempotent), simulate ``hours`` ending at ``now``, publish.

    Minutes simulated and published: ``now - hours`` (inclusive) to ``now`` (exclusive),
    ``now`` being floored to the minute (default: the current minute, UTC).
    ``moto_in_process``: the moto server at ``endpoint_url`` runs in this process, so the
    metrics go straight into its backend (resources are still created through boto3).
    """
    clusters = list(DEFAULT_CLUSTERS if clusters is None else clusters)
    t_start = time.perf_counter()
    end = _minute_floor(now)
    start = end - timedelta(hours=hours)
    minutes = int((end - start).total_seconds() // 60)

    ddb = _client("dynamodb", endpoint_url, region)
    dax = _client("dax", endpoint_url, region)
    cw = _client("cloudwatch", endpoint_url, region)
    sts = _client("sts", endpoint_url, region)

    make_dax_immediate(endpoint_url)
    account = sts.get_caller_identity()["Account"]
    put_metric_data = _moto_publisher(account, region) if moto_in_process else cw.put_metric_data
    role_arn = f"arn:aws:iam::{account}:role/tuneboard-dax-service-role"
    tables_existing = _existing_tables(ddb)
    clusters_existing = _existing_clusters(dax)

    summary: dict[str, Any] = {
        "region": region,
        "seed": seed,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "minutes": minutes,
        "clusters": {},
        "tables": {},
        "datapoints": {DAX_NAMESPACE: 0, DYNAMODB_NAMESPACE: 0},
        "put_calls": 0,
        "timings": {},
    }
    for spec in clusters:
        for table in spec.tables:
            summary["tables"][table.name] = {
                "cluster": spec.name,
                "billing_mode": table.billing_mode,
                "created": _ensure_table(ddb, table, tables_existing),
                "consumed_read_units": 0.0,
                "item_cache_hits": 0,
                "item_cache_misses": 0,
                "query_cache_hits": 0,
                "query_cache_misses": 0,
                "scan_cache_hits": 0,
                "scan_cache_misses": 0,
                "item_reads_eventual": 0,
                "item_reads_strong": 0,
                "queries_strong": 0,
                "requests": dict.fromkeys(_REQUEST_NAMES, 0),
                "read_units": dict.fromkeys(READ_UNIT_COUNTERS, 0.0),
            }
        summary["clusters"][spec.name] = {
            "created": _ensure_cluster(dax, spec, role_arn, clusters_existing),
            "node_type": spec.node_type,
            "nodes": spec.node_ids,
            "tables": [t.name for t in spec.tables],
            "item_ttl_s": spec.item_ttl_s,
            "query_ttl_s": spec.query_ttl_s,
            "totals": {},
            # published per-node totals ({} per node when spec.node_metrics is off)
            "node_totals": {node: {} for node in spec.node_ids},
        }
    t_resources = time.perf_counter()

    simulate_s = 0.0
    futures = []
    with ThreadPoolExecutor(max_workers=PUBLISH_THREADS) as pool:
        for spec in clusters:
            t0 = time.perf_counter()
            results = published_minutes(spec, start.timestamp(), minutes, seed=seed)
            simulate_s += time.perf_counter() - t0
            info = summary["clusters"][spec.name]
            dax_data = _cluster_metric_data(spec, results, info["totals"], info["node_totals"])
            if not spec.node_metrics:
                info["node_totals"] = {node: {} for node in spec.node_ids}
            ddb_data = _table_metric_data(spec, results, summary["tables"])
            for namespace, data in ((DAX_NAMESPACE, dax_data), (DYNAMODB_NAMESPACE, ddb_data)):
                summary["datapoints"][namespace] += len(data)
                for chunk in _chunks(data, MAX_DATA_PER_CALL):
                    futures.append(
                        pool.submit(put_metric_data, Namespace=namespace, MetricData=chunk)
                    )
        for future in futures:
            future.result()
    summary["put_calls"] = len(futures)

    for spec in clusters:
        info = summary["clusters"][spec.name]
        totals = info["totals"]
        hits, misses = totals.get("ItemCacheHits", 0.0), totals.get("ItemCacheMisses", 0.0)
        qh, qm = totals.get("QueryCacheHits", 0.0), totals.get("QueryCacheMisses", 0.0)
        info["item_hit_ratio"] = hits / (hits + misses) if hits + misses else None
        info["query_hit_ratio"] = qh / (qh + qm) if qh + qm else None
        info["item_reads_eventual"] = sum(
            summary["tables"][t]["item_reads_eventual"] for t in info["tables"]
        )
        info["item_reads_strong"] = sum(
            summary["tables"][t]["item_reads_strong"] for t in info["tables"]
        )
    for table in summary["tables"].values():
        h, m = table["item_cache_hits"], table["item_cache_misses"]
        table["item_hit_ratio"] = h / (h + m) if h + m else None

    t_end = time.perf_counter()
    summary["timings"] = {
        "resources_s": round(t_resources - t_start, 3),
        "simulate_s": round(simulate_s, 3),
        "build_and_publish_s": round(t_end - t_resources - simulate_s, 3),
        "total_s": round(t_end - t_start, 3),
    }
    return summary


def main(argv: list[str] | None = None) -> None:
    """Time seeding into a fresh in-process moto server: ``python -m sandbox.seed_dax``."""
    import argparse
    import logging
    import resource

    from moto.server import ThreadedMotoServer

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--synthetic", type=int, default=0, help="N synthetic clusters")
    parser.add_argument(
        "--over-http", action="store_true", help="PutMetricData through boto3, as another process"
    )
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per call
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        clusters = synthetic_clusters(args.synthetic) if args.synthetic else None
        started = time.perf_counter()
        summary = seed_dax(
            f"http://{host}:{port}",
            hours=args.hours,
            clusters=clusters,
            moto_in_process=not args.over_http,
        )
        elapsed = time.perf_counter() - started
    finally:
        server.stop()
    print(f"seeded {len(summary['clusters'])} clusters x {args.hours} h in {elapsed:.1f} s")
    print(f"timings: {summary['timings']}")
    print(f"datapoints: {summary['datapoints']} in {summary['put_calls']} PutMetricData calls")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS (seeder + moto in one process): {rss_mb:.0f} MB")
    for name, info in summary["clusters"].items():
        print(
            f"  {name}: item hit ratio {info['item_hit_ratio']:.3f}, "
            f"query hit ratio {info['query_hit_ratio'] or 0:.3f}"
        )


if __name__ == "__main__":
    main()
