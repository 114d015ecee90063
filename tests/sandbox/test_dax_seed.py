"""sandbox.seed_dax against a real moto server: resources, and metrics that come back exactly;
the demo's three stories as the application's own reports tell them."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto.server import ThreadedMotoServer

from sandbox.daxsim import COUNT_METRICS, GAUGE_METRICS
from sandbox.seed_dax import (
    DEFAULT_CLUSTERS,
    TABLES_TAG,
    seed_dax,
    synthetic_clusters,
)

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
HOURS = 2
START = NOW - timedelta(hours=HOURS)
WINDOW_S = HOURS * 3600
ALL_METRICS = COUNT_METRICS + GAUGE_METRICS


@pytest.fixture(scope="module")
def endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def summary(endpoint):
    return seed_dax(endpoint, hours=HOURS, now=NOW, seed=7)


@pytest.fixture(scope="module")
def dax_sums(endpoint, summary):
    """Sum over the seeded window of every AWS/DAX series, as moto returns it."""
    return window_stats(endpoint, dax_requests(summary), "Sum")


def client(service, endpoint):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def series_of(cluster_name, info):
    """(label, namespace, dimensions) of every AWS/DAX series of a cluster."""
    yield "cluster", [{"Name": "ClusterId", "Value": cluster_name}]
    for node in info["nodes"]:
        yield (
            node,
            [
                {"Name": "ClusterId", "Value": cluster_name},
                {"Name": "NodeId", "Value": node},
            ],
        )


def window_stats(endpoint, requests, stat, period=WINDOW_S, start=START, end=NOW):
    """{key: [values]} for [(key, namespace, metric, dimensions)], 500 queries per call."""
    cw = client("cloudwatch", endpoint)
    out = {}
    for i in range(0, len(requests), 500):
        batch = requests[i : i + 500]
        queries = [
            {
                "Id": f"q{j}",
                "MetricStat": {
                    "Metric": {"Namespace": ns, "MetricName": metric, "Dimensions": dims},
                    "Period": period,
                    "Stat": stat,
                },
            }
            for j, (_, ns, metric, dims) in enumerate(batch)
        ]
        kwargs = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end}
        results = []
        while True:
            page = cw.get_metric_data(**kwargs)
            results.extend(page["MetricDataResults"])
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
        by_id = {}
        for result in results:
            by_id.setdefault(result["Id"], []).extend(result["Values"])
        for j, (key, *_rest) in enumerate(batch):
            out[key] = by_id.get(f"q{j}", [])
    return out


def dax_requests(summary):
    return [
        ((cluster, label, metric), "AWS/DAX", metric, dims)
        for cluster, info in summary["clusters"].items()
        for label, dims in series_of(cluster, info)
        for metric in ALL_METRICS
    ]


def table_requests(summary):
    return [
        (
            table,
            "AWS/DynamoDB",
            "ConsumedReadCapacityUnits",
            [{"Name": "TableName", "Value": table}],
        )
        for table in summary["tables"]
    ]


def published(summary, cluster, label):
    info = summary["clusters"][cluster]
    return info["totals"] if label == "cluster" else info["node_totals"][label]


# --------------------------------------------------------------------------- resources


def test_the_demo_set_has_a_multi_table_cluster_and_a_poor_one():
    names = [c.name for c in DEFAULT_CLUSTERS]
    assert names == ["orders-cache", "catalog-cache", "sessions-cache"]
    assert [t.name for t in DEFAULT_CLUSTERS[1].tables] == ["Products", "Reviews"]
    assert DEFAULT_CLUSTERS[2].item_ttl_s < DEFAULT_CLUSTERS[0].item_ttl_s
    # a scaled-down copy: traffic scaled back up by the same factor as the memory
    assert all(c.traffic_scale == c.memory_scale_down > 1 for c in DEFAULT_CLUSTERS)


def test_clusters_are_available_with_their_nodes_and_tagged_with_their_tables(endpoint, summary):
    dax = client("dax", endpoint)
    clusters = {c["ClusterName"]: c for c in dax.describe_clusters()["Clusters"]}
    for spec in DEFAULT_CLUSTERS:
        cluster = clusters[spec.name]
        assert cluster["Status"] == "available"
        assert cluster["NodeType"] == spec.node_type
        assert cluster["TotalNodes"] == spec.nodes
        assert cluster["ActiveNodes"] == spec.nodes
        assert [n["NodeId"] for n in cluster["Nodes"]] == summary["clusters"][spec.name]["nodes"]
        tags = {
            t["Key"]: t["Value"] for t in dax.list_tags(ResourceName=cluster["ClusterArn"])["Tags"]
        }
        assert tags[TABLES_TAG] == ",".join(t.name for t in spec.tables)


def test_tables_exist_with_their_billing_modes(endpoint, summary):
    ddb = client("dynamodb", endpoint)
    for spec in DEFAULT_CLUSTERS:
        for table in spec.tables:
            description = ddb.describe_table(TableName=table.name)["Table"]
            mode = description.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
            assert mode == table.billing_mode
            if table.billing_mode == "PROVISIONED":
                assert description["ProvisionedThroughput"]["ReadCapacityUnits"] == 200


def test_seeding_twice_creates_no_duplicate_resources(endpoint, summary):
    # The second run covers the hour before the first one, outside the compared window.
    again = seed_dax(endpoint, hours=1, now=START, seed=7)
    assert not any(c["created"] for c in again["clusters"].values())
    assert not any(t["created"] for t in again["tables"].values())
    assert all(c["created"] for c in summary["clusters"].values())
    dax = client("dax", endpoint)
    ddb = client("dynamodb", endpoint)
    assert sorted(c["ClusterName"] for c in dax.describe_clusters()["Clusters"]) == sorted(
        summary["clusters"]
    )
    assert sorted(ddb.list_tables()["TableNames"]) == sorted(summary["tables"])


# --------------------------------------------------------------------------- metrics


def test_every_published_series_sums_to_the_summary_totals(dax_sums, summary):
    checked = 0
    for (cluster, label, metric), values in dax_sums.items():
        expected = published(summary, cluster, label).get(metric, 0.0)
        assert sum(values) == pytest.approx(expected, rel=1e-9), (cluster, label, metric)
        checked += bool(expected)
    assert checked > 100


def test_cluster_counts_are_the_sum_over_their_nodes(summary):
    for info in summary["clusters"].values():
        for metric in (*COUNT_METRICS, "EvictedSize"):
            nodes = sum(t.get(metric, 0.0) for t in info["node_totals"].values())
            assert info["totals"].get(metric, 0.0) == nodes


def test_no_zero_datapoint_is_published(endpoint, summary):
    requests = dax_requests(summary) + table_requests(summary)
    minima = window_stats(endpoint, requests, "Minimum")
    assert any(minima.values())
    assert all(v > 0 for values in minima.values() for v in values)


def test_sparse_metrics_have_no_datapoint_on_quiet_minutes(endpoint, summary):
    key = ("orders-cache", "cluster", "ThrottledRequestCount")
    counts = window_stats(
        endpoint,
        [(key, "AWS/DAX", key[2], [{"Name": "ClusterId", "Value": "orders-cache"}])],
        "SampleCount",
        period=60,
    )[key]
    assert 0 < len(counts) < HOURS * 60


def test_cluster_traffic_has_one_datapoint_per_minute(endpoint, summary):
    dims = [{"Name": "ClusterId", "Value": "catalog-cache"}]
    key = "total"
    values = window_stats(
        endpoint, [(key, "AWS/DAX", "TotalRequestCount", dims)], "Sum", period=60
    )[key]
    assert len(values) == HOURS * 60
    assert sum(values) == summary["clusters"]["catalog-cache"]["totals"]["TotalRequestCount"]


def test_cluster_gauges_average_over_the_nodes(endpoint, summary):
    info = summary["clusters"]["orders-cache"]
    cluster, *nodes = list(series_of("orders-cache", info))
    requests = [(label, "AWS/DAX", "CPUUtilization", dims) for label, dims in (cluster, *nodes)]
    averages = window_stats(endpoint, requests, "Average")
    counts = window_stats(endpoint, requests, "SampleCount")
    assert counts["cluster"] == [len(nodes) * HOURS * 60]
    node_mean = sum(averages[label][0] for label, _ in nodes) / len(nodes)
    assert averages["cluster"][0] == pytest.approx(node_mean)
    assert 0 < averages["cluster"][0] < 100


def test_item_hits_plus_misses_equal_the_eventually_consistent_item_reads(dax_sums, summary):
    for cluster, info in summary["clusters"].items():
        hits = sum(dax_sums[(cluster, "cluster", "ItemCacheHits")])
        misses = sum(dax_sums[(cluster, "cluster", "ItemCacheMisses")])
        assert hits + misses == info["item_reads_eventual"]
        assert info["item_reads_strong"] > 0


def test_table_read_units_are_those_of_misses_and_uncached_reads(endpoint, summary):
    units = window_stats(endpoint, table_requests(summary), "Sum")
    for table, info in summary["tables"].items():
        causes = info["read_units"]
        assert sum(units[table]) == pytest.approx(info["consumed_read_units"])
        assert info["consumed_read_units"] == pytest.approx(sum(causes.values()))
        # at least 0.5 RCU per eventually consistent miss, 1 per strongly consistent read
        assert causes["item_misses"] >= 0.5 * info["item_cache_misses"]
        assert causes["strong_item_reads"] >= info["item_reads_strong"]
        assert causes["query_misses"] >= 0.5 * info["query_cache_misses"]
        assert causes["strong_queries"] >= info["queries_strong"]
        assert causes["scan_misses"] >= 0.5 * info["scan_cache_misses"]


def test_per_table_truths_of_a_multi_table_cluster_add_up_to_the_cluster(summary):
    cluster = summary["clusters"]["catalog-cache"]
    tables = [summary["tables"][t] for t in cluster["tables"]]
    assert sum(t["item_cache_hits"] for t in tables) == cluster["totals"]["ItemCacheHits"]
    assert sum(t["query_cache_misses"] for t in tables) == cluster["totals"]["QueryCacheMisses"]
    assert sum(t["requests"]["Total"] for t in tables) == cluster["totals"]["TotalRequestCount"]
    products, reviews = (summary["tables"][t]["item_hit_ratio"] for t in ("Products", "Reviews"))
    assert products != reviews


def test_the_poor_clusters_hit_less_and_only_the_small_one_evicts_much(summary):
    orders = summary["clusters"]["orders-cache"]
    catalog = summary["clusters"]["catalog-cache"]
    sessions = summary["clusters"]["sessions-cache"]
    assert sessions["item_hit_ratio"] < catalog["item_hit_ratio"] < orders["item_hit_ratio"]
    requests = {
        name: info["totals"]["TotalRequestCount"] for name, info in summary["clusters"].items()
    }
    evicted = {
        name: info["totals"].get("EvictedSize", 0.0) for name, info in summary["clusters"].items()
    }
    # per request, the two t3.medium evict far more than the r5.large clusters
    per_request = {name: evicted[name] / requests[name] for name in requests}
    assert per_request["catalog-cache"] > 5 * per_request["orders-cache"]
    assert per_request["catalog-cache"] > 5 * per_request["sessions-cache"]


def test_request_rates_are_plausible_for_the_node_types(summary):
    rate = {
        name: info["totals"]["TotalRequestCount"] / WINDOW_S
        for name, info in summary["clusters"].items()
    }
    assert rate["orders-cache"] > 20_000  # three r5.large: tens of thousands a second
    assert 1_000 < rate["catalog-cache"] < 10_000  # two t3.medium: a few thousand
    assert 500 < rate["sessions-cache"] < 5_000  # two r5.large, far below what they serve


def test_synthetic_clusters_are_varied_valid_and_stable():
    twenty = synthetic_clusters(20)
    assert len({c.name for c in twenty}) == 20
    assert synthetic_clusters(3) == twenty[:3]
    assert len({c.node_type for c in twenty}) > 1
    assert len({t.zipf_s for c in twenty for t in c.tables}) > 10
    tables = [t.name for c in twenty for t in c.tables]
    assert len(tables) == len(set(tables))


def test_a_cluster_can_publish_its_cluster_series_without_node_series():
    lean = replace(synthetic_clusters(1)[0], name="lean-cache", nodes=2, node_metrics=False)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        result = seed_dax(url, hours=1, now=NOW, clusters=[lean])
        info = result["clusters"]["lean-cache"]
        requests = [
            (label, "AWS/DAX", "TotalRequestCount", dims)
            for label, dims in series_of("lean-cache", info)
        ]
        sums = window_stats(url, requests, "Sum", period=3600, start=NOW - timedelta(hours=1))
    finally:
        server.stop()
    assert sum(sums["cluster"]) == info["totals"]["TotalRequestCount"] > 0
    assert sums["lean-cache-a"] == sums["lean-cache-b"] == []
    assert info["node_totals"] == {"lean-cache-a": {}, "lean-cache-b": {}}


# --------------------------------------------------------------------------- the three stories
#
# The seeded hours collected by the application and read back through its own reports over
# the last hour (moto's backends are global to the process: no second server here).

AWS_ENV_SERVICES = ("CLOUDWATCH", "DAX", "DYNAMODB", "STS")


@pytest.fixture
def reports(endpoint, summary, monkeypatch):
    """{cluster name: the application's 1 h ClusterReport} after collecting the last hour."""
    from aws import clients as awsclients
    from cachemetrics import collector
    from cachemetrics.models import DaxCluster
    from cachemetrics.reports import cluster_report

    for service in AWS_ENV_SERVICES:
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    awsclients.clear()
    try:
        [collection] = collector.collect_all(now=NOW, since=timedelta(hours=1))
        assert collection.status == "succeeded", collection.errors
        yield {c.name: cluster_report(c, "1h") for c in DaxCluster.objects.all()}
    finally:
        awsclients.clear()


def codes(report):
    return {flag.code for flag in report.flags}


@pytest.mark.django_db
def test_the_demo_tells_three_stories_through_the_applications_reports(reports):
    from cachemetrics import analysis, pricing

    orders, catalog, sessions = (reports[c.name] for c in DEFAULT_CLUSTERS)
    for report in reports.values():
        assert report.covered_hours == pytest.approx(1.0)
        assert report.monthly_cost_usd == pytest.approx(
            pricing.cluster_monthly_usd(
                pricing.node_hourly_usd(report.cluster.node_type), report.cluster.node_count
            )
        )
        assert report.savings.net_monthly_usd == pytest.approx(
            report.savings.monthly_saving_usd - report.monthly_cost_usd
        )

    # Pays for itself several times over: tens of thousands of requests/s on three r5.large,
    # a good hit ratio.
    assert orders.totals["TotalRequestCount"] / 3600 > 20_000
    assert orders.counts.item > 0.8
    assert orders.savings.net_monthly_usd > 4 * orders.monthly_cost_usd
    assert orders.savings.break_even_hit_ratio < 0.25
    assert {"costs_more", "low_hit_ratio", "cache_too_small", "bypass"}.isdisjoint(codes(orders))

    # Costs far more than it saves: two r5.large for ~1.5k requests/s, reads that bypass it;
    # no hit ratio would make it pay.
    assert sessions.totals["TotalRequestCount"] / 3600 < 5_000
    assert sessions.savings.net_monthly_usd < -0.8 * sessions.monthly_cost_usd
    assert sessions.savings.break_even_reachable is False
    assert {"costs_more", "low_hit_ratio", "bypass"} <= codes(sessions)
    assert "cache_too_small" not in codes(sessions)

    # Too small: two t3.medium, full, evictions rising, under half of the item reads hit.
    assert {"cache_too_small", "low_hit_ratio"} <= codes(catalog)
    assert catalog.counts.item < 0.6
    assert catalog.totals["CacheMemoryUtilization"] >= analysis.MEMORY_HIGH_PCT


def unit_of(endpoint, metric, dims):
    """The unit the datapoints of one node's series were put with (moto's
    GetMetricStatistics matches dimensions loosely: only node series, which have no
    sub-series, give a clean answer)."""
    answer = client("cloudwatch", endpoint).get_metric_statistics(
        Namespace="AWS/DAX",
        MetricName=metric,
        Dimensions=dims,
        StartTime=START,
        EndTime=NOW,
        Period=WINDOW_S,
        Statistics=["SampleCount"],
    )["Datapoints"]
    return {point["Unit"] for point in answer}


def test_burstable_nodes_publish_a_cpu_credit_balance_and_the_others_none(endpoint, summary):
    requests = [
        ((name, label), "AWS/DAX", "CPUCreditBalance", dims)
        for name, info in summary["clusters"].items()
        for label, dims in series_of(name, info)
    ]
    lowest = window_stats(endpoint, requests, "Minimum")
    highest = window_stats(endpoint, requests, "Maximum")
    for (name, label), values in lowest.items():
        if summary["clusters"][name]["node_type"].startswith("dax.t3."):
            assert 0 < values[0] <= highest[(name, label)][0] <= 576, (name, label)
        else:
            assert values == [], (name, label)
    node = summary["clusters"]["catalog-cache"]["nodes"][0]
    dims = [{"Name": "ClusterId", "Value": "catalog-cache"}, {"Name": "NodeId", "Value": node}]
    assert unit_of(endpoint, "CPUCreditBalance", dims) == {"Count"}  # credits (vCPU-minutes)


def test_network_bytes_are_published_in_bytes_and_add_up_over_the_nodes(endpoint, summary):
    info = summary["clusters"]["orders-cache"]
    cluster, *nodes = list(series_of("orders-cache", info))
    for metric in ("NetworkBytesIn", "NetworkBytesOut"):
        requests = [((label, metric), "AWS/DAX", metric, dims) for label, dims in (cluster, *nodes)]
        sums = window_stats(endpoint, requests, "Sum")
        node_sum = sum(sums[(label, metric)][0] for label, _ in nodes)
        assert sums[("cluster", metric)][0] == pytest.approx(node_sum)
        assert node_sum == pytest.approx(info["totals"][metric])
        assert unit_of(endpoint, metric, nodes[0][1]) == {"Bytes"}
    # Items leave the cache for the clients: far more bytes out than in for a read cache.
    assert info["totals"]["NetworkBytesOut"] > 2 * info["totals"]["NetworkBytesIn"]


def test_the_catalog_story_has_internal_errors_counted_as_failed_requests(summary):
    totals = summary["clusters"]["catalog-cache"]["totals"]
    assert totals["FaultRequestCount"] > 0
    assert totals["FailedRequestCount"] == totals["ErrorRequestCount"] + totals["FaultRequestCount"]
    assert totals["ErrorRequestCount"] >= totals.get("ThrottledRequestCount", 0.0)
