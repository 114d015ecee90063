"""The sandbox's CloudWatch (moto + ``sandbox.cloudwatch_index``) through boto3, as AWS answers.

The seeded DAX metrics are deterministic (``seed_dax`` with its default seed): the tests
rebuild them here and compute the expected answers by brute force.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from sandbox.seed_dax import DEFAULT_CLUSTERS, _cluster_metric_data, published_minutes

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
STATS = ("Sum", "Average", "Minimum", "Maximum", "SampleCount")


def dims(**pairs: str) -> list[dict[str, str]]:
    return [{"Name": k, "Value": v} for k, v in pairs.items()]


def key(dimensions) -> tuple:
    return tuple(sorted((d["Name"], d["Value"]) for d in dimensions))


@pytest.fixture(scope="module")
def cloudwatch(sandbox):
    return sandbox.client("cloudwatch")


@pytest.fixture(scope="module")
def seeded(cloudwatch):
    """(start, end, {cluster: [PutMetricData entries]}) of the seeded day, rebuilt."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    answer = cloudwatch.get_metric_data(  # ClientConnections: >= 2 every minute
        MetricDataQueries=[query("c", "ClientConnections", dims(ClusterId="orders-cache"), 60)],
        StartTime=now - 30 * HOUR,
        EndTime=now + MINUTE,
        ScanBy="TimestampAscending",
    )["MetricDataResults"][0]
    assert answer["Timestamps"], "the session sandbox must be seeded with its DAX clusters"
    start = answer["Timestamps"][0].astimezone(UTC)
    end = start + 24 * HOUR
    data = {
        spec.name: _cluster_metric_data(
            spec,
            published_minutes(spec, start.timestamp(), 24 * 60),
            {},
            {n: {} for n in spec.node_ids},
        )
        for spec in DEFAULT_CLUSTERS
    }
    assert len(answer["Timestamps"]) == 24 * 60, "the seeded day is not where expected"
    return start, end, data


def query(qid, metric, dimensions, period, stat="Sum", namespace="AWS/DAX") -> dict:
    return {
        "Id": qid,
        "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": dimensions},
            "Period": period,
            "Stat": stat,
        },
    }


def brute_force(data, metric, dimensions, start, end, period_s, stat) -> list[tuple]:
    """(period start, statistic) from the raw PutMetricData entries, oldest first."""
    buckets: dict[int, list[dict]] = {}
    for d in data:
        same = d["MetricName"] == metric and key(d["Dimensions"]) == key(dimensions)
        if same and start <= d["Timestamp"] < end:
            k = int((d["Timestamp"] - start).total_seconds() // period_s)
            buckets.setdefault(k, []).append(d.get("StatisticValues") or d)
    out = []
    for k, entries in sorted(buckets.items()):
        count = sum(e.get("SampleCount", 1.0) for e in entries)
        total = sum(e.get("Sum", e.get("Value")) for e in entries)
        value = {
            "Sum": total,
            "SampleCount": count,
            "Average": total / count,
            "Minimum": min(e.get("Minimum", e.get("Value")) for e in entries),
            "Maximum": max(e.get("Maximum", e.get("Value")) for e in entries),
        }[stat]
        out.append((start + timedelta(seconds=k * period_s), value))
    return out


# --------------------------------------------------------------------------- ListMetrics


def list_all(cloudwatch, **params) -> tuple[list[dict], int]:
    pages = list(cloudwatch.get_paginator("list_metrics").paginate(**params))
    return [m for page in pages for m in page["Metrics"]], len(pages)


def as_set(metrics) -> set[tuple]:
    return {(m["Namespace"], m["MetricName"], key(m.get("Dimensions", []))) for m in metrics}


def test_list_metrics_lists_each_seeded_dax_metric_once(cloudwatch, seeded):
    _start, _end, data = seeded
    expected = {
        ("AWS/DAX", d["MetricName"], key(d["Dimensions"]))
        for entries in data.values()
        for d in entries
    }

    t0 = time.perf_counter()
    metrics, _pages = list_all(cloudwatch, Namespace="AWS/DAX")
    print(f"list-metrics AWS/DAX: {len(metrics)} metrics in {time.perf_counter() - t0:.2f} s")

    assert len(metrics) == len(as_set(metrics)), "a metric is listed more than once"
    assert as_set(metrics) == expected
    nodes, _ = list_all(cloudwatch, Namespace="AWS/DAX", MetricName="ItemCacheHits",
                        Dimensions=[{"Name": "NodeId"}])  # fmt: skip
    assert as_set(nodes) == {m for m in expected if m[1] == "ItemCacheHits" and len(m[2]) == 2}
    orders, _ = list_all(cloudwatch, Dimensions=dims(ClusterId="orders-cache"))
    assert as_set(orders) == {m for m in expected if ("ClusterId", "orders-cache") in m[2]}


def test_list_metrics_pages_by_500(cloudwatch):
    namespace = f"Test/{uuid.uuid4().hex}"
    names = [f"m{i:04d}" for i in range(1203)]
    for i in range(0, len(names), 1000):
        cloudwatch.put_metric_data(
            Namespace=namespace,
            MetricData=[{"MetricName": n, "Value": 1.0} for n in names[i : i + 1000]],
        )
    cloudwatch.put_metric_data(  # again: still one metric each
        Namespace=namespace, MetricData=[{"MetricName": n, "Value": 2.0} for n in names[:10]]
    )

    first = cloudwatch.list_metrics(Namespace=namespace)
    metrics, pages = list_all(cloudwatch, Namespace=namespace)

    assert len(first["Metrics"]) == 500 and first["NextToken"]
    assert pages == 3
    assert sorted(m["MetricName"] for m in metrics) == names
    with pytest.raises(cloudwatch.exceptions.InvalidParameterValueException):
        cloudwatch.list_metrics(Namespace=namespace, NextToken="not-a-token")


# --------------------------------------------------------------------------- statistics


def test_get_metric_statistics_matches_dimensions_exactly_and_sees_new_puts(cloudwatch):
    namespace = f"Test/{uuid.uuid4().hex}"
    t = datetime.now(UTC).replace(second=0, microsecond=0) - 10 * MINUTE
    cluster, node = dims(ClusterId="c1"), dims(ClusterId="c1", NodeId="c1-a")
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": "Hits", "Dimensions": cluster, "Timestamp": t, "Value": 7.0},
            {"MetricName": "Hits", "Dimensions": node, "Timestamp": t, "Value": 100.0},
            {"MetricName": "Hits", "Timestamp": t, "Value": 1000.0},  # no dimensions
        ],
    )

    def stats(dimensions):
        return cloudwatch.get_metric_statistics(
            Namespace=namespace,
            MetricName="Hits",
            Dimensions=dimensions,
            StartTime=t - 5 * MINUTE,
            EndTime=t + 5 * MINUTE,
            Period=600,
            Statistics=["Sum", "SampleCount"],
        )["Datapoints"]

    [point] = stats(cluster)
    assert (point["Sum"], point["SampleCount"]) == (7.0, 1.0)  # moto alone: 107 over 2
    assert point["Timestamp"] == t - 5 * MINUTE
    assert [p["Sum"] for p in stats(list(reversed(node)))] == [100.0]
    assert [p["Sum"] for p in stats([])] == [1000.0]
    assert stats(dims(ClusterId="c2")) == []

    # a later put, out of time order, into the same series: seen by every operation
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": "Hits", "Dimensions": cluster, "Timestamp": t - MINUTE, "Value": 5.0},
            {"MetricName": "Misses", "Dimensions": cluster, "Timestamp": t, "Value": 1.0},
        ],
    )
    [point] = stats(cluster)
    assert (point["Sum"], point["SampleCount"]) == (12.0, 2.0)
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[query("h", "Hits", cluster, 60, namespace=namespace)],
        StartTime=t - 5 * MINUTE,
        EndTime=t + 5 * MINUTE,
        ScanBy="TimestampAscending",
    )["MetricDataResults"][0]
    assert answer["Timestamps"] == [t - MINUTE, t] and answer["Values"] == [5.0, 7.0]
    metrics, _ = list_all(cloudwatch, Namespace=namespace)
    assert sorted((m["MetricName"], len(m["Dimensions"])) for m in metrics) == [
        ("Hits", 0),
        ("Hits", 1),
        ("Hits", 2),
        ("Misses", 1),
    ]


def test_get_metric_data_over_the_seeded_day_equals_brute_force(cloudwatch, seeded):
    start, end, data = seeded
    rnd = random.Random(20260302)
    queries, expected = [], {}
    for i in range(40):
        spec = rnd.choice(DEFAULT_CLUSTERS)
        entry = rnd.choice(data[spec.name])
        period = rnd.choice((60, 300, 420, 3600))
        stat = rnd.choice(STATS)
        queries.append(query(f"q{i}", entry["MetricName"], entry["Dimensions"], period, stat))
        expected[f"q{i}"] = (entry["MetricName"], entry["Dimensions"], period, stat, spec.name)
    window_start = start + timedelta(seconds=30)  # periods not on the minute

    t0 = time.perf_counter()
    results = cloudwatch.get_metric_data(
        MetricDataQueries=queries, StartTime=window_start, EndTime=end, ScanBy="TimestampAscending"
    )["MetricDataResults"]
    print(f"get-metric-data: 40 queries over 24 h in {time.perf_counter() - t0:.2f} s")

    assert len(results) == len(queries)
    for result in results:
        metric, dimensions, period, stat, cluster = expected[result["Id"]]
        truth = brute_force(data[cluster], metric, dimensions, window_start, end, period, stat)
        got = list(zip(result["Timestamps"], result["Values"], strict=True))
        assert [ts for ts, _ in got] == [ts for ts, _ in truth], result["Id"]
        assert all(
            math.isclose(a, b, rel_tol=1e-9) for (_, a), (_, b) in zip(got, truth, strict=True)
        ), (result["Id"], metric, dimensions, period, stat)


# --------------------------------------------------------------------------- the collector


@pytest.mark.django_db
def test_the_first_collection_of_the_seeded_clusters_is_quick(sandbox, seeded):
    """The beat task's call (collect_all(), first run: the last 24 h) against the sandbox."""
    from aws import clients as awsclients
    from cachemetrics import collector
    from cachemetrics.models import MetricPoint

    awsclients.clear()  # the application's clients must pick up the sandbox's endpoints
    try:
        t0 = time.perf_counter()
        [collection] = collector.collect_all()
        seconds = time.perf_counter() - t0
    finally:
        awsclients.clear()
    print(
        f"first collection of the seeded clusters: {seconds:.1f} s, "
        f"{collection.series_count} series, {collection.metric_data_calls} GetMetricData calls, "
        f"{collection.datapoints_received:,} datapoints"
    )

    assert collection.status == "succeeded", collection.errors
    assert collection.clusters_seen == len(DEFAULT_CLUSTERS)
    assert collection.datapoints_received > 0
    start, end, data = seeded
    window = (max(start, collection.window_start), min(end, collection.window_end))
    for spec in DEFAULT_CLUSTERS:
        [truth] = brute_force(
            data[spec.name], "ItemCacheHits", dims(ClusterId=spec.name), *window, 10**9, "Sum"
        )
        stored = sum(
            MetricPoint.objects.filter(
                series__cluster__name=spec.name,
                series__namespace="AWS/DAX",
                series__node_id="",
                series__metric="ItemCacheHits",
                ts__gte=window[0],
                ts__lt=window[1],
            ).values_list("value", flat=True)
        )
        assert stored == pytest.approx(truth[1]), spec.name
