"""The collector against moto seeded by the sandbox's DAX simulation (the default clusters)."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import timedelta

import pytest
from django.db.models import Sum

from aws.retry import Backoff
from cachemetrics import catalog, collector, rollup
from cachemetrics.cloudwatch import ClusterInfo, parse_cluster
from cachemetrics.models import (
    CachedTable,
    Collection,
    DaxCluster,
    MetricPoint,
    MetricQuarter,
    MetricRollup,
    MetricSeries,
)
from cachemetrics.quarters import floor_quarter
from tests.cachemetrics.conftest import T0

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)
# Retries still wait (aws.retry's delays are tested in tests/aws), just not for long.
QUICK_BACKOFF = Backoff(attempts=5, base_s=0.01, cap_s=0.01)


@pytest.fixture(scope="module")
def seeded(aws):
    """The sandbox's three default clusters, one hour of metrics ending at T0."""
    return aws.seed(hours=1)


def collect(**kwargs):
    kwargs.setdefault("now", T0)
    kwargs.setdefault("since", HOUR)
    return collector.collect_all(**kwargs)


def stored_sums() -> dict[str, float]:
    return dict(
        MetricSeries.objects.annotate(total=Sum("points__value")).values_list("key", "total")
    )


def published_sums(aws, start, end) -> dict[str, float]:
    """Independent read: one boto3 get_metric_data query per stored series, summed here."""
    cloudwatch = aws.client("cloudwatch")
    sums = {}
    for series in MetricSeries.objects.select_related("cluster", "table"):
        dims = [{"Name": k, "Value": v} for k, v in collector.dimensions(series)]
        answer = cloudwatch.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "q",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": series.namespace,
                            "MetricName": series.metric,
                            "Dimensions": dims,
                        },
                        "Period": 60,
                        "Stat": series.statistic,
                    },
                }
            ],
            StartTime=start,
            EndTime=end,
        )
        sums[series.key] = sum(answer["MetricDataResults"][0]["Values"])
    return sums


def test_it_stores_sums_equal_to_an_independent_sum_of_the_published_datapoints(aws, seeded):
    [collection] = collect()

    assert collection.status == "succeeded", collection.errors
    published = published_sums(aws, T0 - HOUR, T0)
    stored = stored_sums()
    assert set(stored) == set(published)
    mismatches = {
        key: (stored[key] or 0.0, published[key])
        for key in published
        if not math.isclose(stored[key] or 0.0, published[key], rel_tol=1e-9, abs_tol=1e-6)
    }
    assert mismatches == {}


def test_cluster_node_and_table_totals_match_the_simulation_that_published_them(aws, seeded):
    collect()

    for name, info in seeded["clusters"].items():
        cluster = DaxCluster.objects.get(name=name)
        for metric, stat in catalog.CLUSTER_METRICS:
            if stat != catalog.SUM or metric == catalog.EVICTED:
                continue
            total = MetricPoint.objects.filter(
                series__cluster=cluster, series__node_id="", series__metric=metric
            ).aggregate(s=Sum("value"))["s"]
            assert total == pytest.approx(info["totals"].get(metric, 0.0)), (name, metric)
        for node, node_totals in info["node_totals"].items():
            hits = MetricPoint.objects.filter(
                series__cluster=cluster, series__node_id=node, series__metric=catalog.ITEM_HITS
            ).aggregate(s=Sum("value"))["s"]
            assert hits == pytest.approx(node_totals.get(catalog.ITEM_HITS, 0.0)), node
    for name, info in seeded["tables"].items():
        consumed = MetricPoint.objects.filter(
            series__table__name=name, series__metric=catalog.CONSUMED_READS
        ).aggregate(s=Sum("value"))["s"]
        assert consumed == pytest.approx(info["consumed_read_units"]), name


def test_count_metrics_missing_from_a_minute_are_stored_as_zero_and_gauges_are_not(seeded):
    collect()

    throttles = MetricSeries.objects.get(
        cluster__name="orders-cache", node_id="", metric=catalog.THROTTLED_REQUESTS
    )
    assert throttles.points.count() == 60  # one per minute, mostly zeros: DAX publishes non-zero
    assert throttles.points.filter(value=0).exists()
    cpu = MetricSeries.objects.get(cluster__name="orders-cache", node_id="", metric=catalog.CPU)
    assert 0 < cpu.points.count() <= 60
    assert not cpu.points.filter(value=0).exists()


def test_a_second_collection_adds_and_changes_nothing(seeded):
    collect()
    before_rows = MetricPoint.objects.count()
    before = stored_sums()

    [second] = collect()
    [third] = collect(since=None)  # incremental, from each series' watermark

    assert second.status == third.status == "succeeded"
    assert MetricPoint.objects.count() == before_rows
    assert stored_sums() == before
    assert DaxCluster.objects.count() == 3
    assert MetricSeries.objects.count() == len(before)


def test_an_incremental_run_reads_only_from_the_last_collected_minute(seeded, count_calls):
    half = timedelta(minutes=30)
    collect(now=T0 - half, since=half)  # first half hour
    first_half = MetricPoint.objects.count()
    calls = count_calls("cloudwatch", "GetMetricData")

    [collection] = collect(since=None)

    series = MetricSeries.objects.count()
    # from the quarter-hour the late-data overlap starts in (T0 - 40 min)
    assert collection.window_start == T0 - timedelta(minutes=45)
    assert len(calls) == math.ceil(series / 500) == collection.metric_data_calls
    assert {c["StartTime"] for c in calls} == {T0 - timedelta(minutes=45)}
    assert MetricPoint.objects.count() > first_half
    assert set(MetricSeries.objects.values_list("collected_until", flat=True)) == {T0}
    hits = MetricPoint.objects.filter(
        series__cluster__name="orders-cache", series__node_id="", series__metric="ItemCacheHits"
    ).aggregate(s=Sum("value"))["s"]
    assert hits == pytest.approx(seeded["clusters"]["orders-cache"]["totals"]["ItemCacheHits"])


def test_each_collection_writes_the_15_minute_rollups_of_the_minutes_stored(seeded):
    collect(now=T0 - timedelta(minutes=37), since=HOUR)  # ends 8 minutes into a quarter
    collect(since=None)  # from T0 - 60 min: rolls that quarter up again, whole

    minutes = defaultdict(list)
    for series_id, ts, value in MetricPoint.objects.values_list("series_id", "ts", "value"):
        minutes[(series_id, floor_quarter(ts))].append(value)
    quarters = {
        (q.series_id, q.start): (q.count, q.total, q.minimum, q.maximum)
        for q in MetricQuarter.objects.all()
    }
    assert quarters == {
        key: (len(values), pytest.approx(sum(values)), min(values), max(values))
        for key, values in minutes.items()
    }
    assert {q.start for q in MetricQuarter.objects.all()} == {
        T0 - timedelta(minutes=m) for m in (105, 90, 75, 60, 45, 30, 15)
    }
    assert set(MetricSeries.objects.values_list("quarters_from", flat=True)) == {
        T0 - timedelta(minutes=105)
    }


def test_the_first_run_reads_the_last_24_hours_by_default(seeded, count_calls):
    calls = count_calls("cloudwatch", "GetMetricData")

    [collection] = collect(since=None)

    assert collection.window_start == T0 - timedelta(hours=24)
    assert min(c["StartTime"] for c in calls) == T0 - timedelta(hours=24)
    assert max(c["EndTime"] for c in calls) == T0


def test_the_tables_tag_prefills_the_cluster_to_table_mapping(seeded):
    collect()

    catalog_cache = DaxCluster.objects.get(name="catalog-cache")
    assert sorted(catalog_cache.tables.values_list("name", flat=True)) == ["Products", "Reviews"]
    assert catalog_cache.tables_tag == "Products,Reviews"
    products = CachedTable.objects.get(name="Products")
    assert products.billing_mode == "PROVISIONED"
    assert products.provisioned_rcu == 200
    assert CachedTable.objects.get(name="Orders").billing_mode == "PAY_PER_REQUEST"


def test_a_hand_edited_mapping_is_not_undone_by_the_next_collection(seeded):
    collect()
    reviews = CachedTable.objects.get(name="Reviews")
    reviews.clusters.clear()
    reviews.mapping_source = "manual"
    reviews.save()

    collect()

    assert not reviews.clusters.exists()


def test_the_inventory_has_nodes_endpoint_security_groups_and_ttls(seeded):
    collect()

    orders = DaxCluster.objects.get(name="orders-cache")
    assert orders.node_type == "dax.r5.large"
    assert orders.node_count == 3
    assert [n["id"] for n in orders.nodes] == ["orders-cache-a", "orders-cache-b", "orders-cache-c"]
    assert orders.endpoint.endswith(":8111")
    assert orders.security_groups and orders.security_groups[0].startswith("sg-")
    assert orders.subnet_group == "default"
    assert orders.item_ttl_ms == orders.query_ttl_ms == 300_000
    assert orders.status == "available"


def test_a_described_cluster_gives_its_inventory_fields():
    raw = {
        "ClusterName": "orders-cache",
        "Description": "Orders",
        "ClusterArn": "arn:aws:dax:us-east-1:123456789012:cache/orders-cache",
        "TotalNodes": 2,
        "ActiveNodes": 1,
        "NodeType": "dax.r5.large",
        "Status": "modifying",
        "ClusterDiscoveryEndpoint": {"Address": "orders.dax.example", "Port": 8111},
        "Nodes": [
            {
                "NodeId": "orders-cache-a",
                "Endpoint": {"Address": "a.orders.dax.example", "Port": 8111},
                "AvailabilityZone": "us-east-1a",
                "NodeStatus": "available",
            },
            {"NodeId": "orders-cache-b", "NodeStatus": "creating"},
        ],
        "SubnetGroup": "default",
        "SecurityGroups": [{"SecurityGroupIdentifier": "sg-1", "Status": "active"}],
        "ParameterGroup": {"ParameterGroupName": "orders-ttl", "ParameterApplyStatus": "in-sync"},
    }

    assert parse_cluster(raw) == ClusterInfo(
        arn="arn:aws:dax:us-east-1:123456789012:cache/orders-cache",
        name="orders-cache",
        description="Orders",
        node_type="dax.r5.large",
        node_count=2,  # TotalNodes, not ActiveNodes
        nodes=[
            {
                "id": "orders-cache-a",
                "az": "us-east-1a",
                "status": "available",
                "endpoint": "a.orders.dax.example:8111",
            },
            {"id": "orders-cache-b", "az": "", "status": "creating", "endpoint": ""},
        ],
        status="modifying",
        endpoint="orders.dax.example:8111",
        security_groups=["sg-1"],
        subnet_group="default",
        parameter_group="orders-ttl",
    )


def test_a_cluster_described_with_only_its_arn_is_named_after_it_with_one_node():
    info = parse_cluster({"ClusterArn": "arn:aws:dax:us-east-1:123456789012:cache/new-cache"})

    assert info.name == "new-cache"
    assert info.node_count == 1
    assert info.nodes == [] and info.endpoint == "" and info.parameter_group == ""


def test_throttled_calls_are_retried_with_backoff(seeded):
    from botocore.awsrequest import AWSResponse

    from aws import clients as awsclients

    client = awsclients.client("cloudwatch", "us-east-1")
    throttles = {"left": 2}

    def throttle(**kwargs):
        if throttles["left"] == 0:
            return None
        throttles["left"] -= 1
        response = AWSResponse("http://moto", 400, {}, None)
        body = {
            "Error": {"Code": "Throttling", "Message": "Rate exceeded"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return response, body

    client.meta.events.register(
        "before-call.cloudwatch.GetMetricData", throttle, unique_id="test-throttle"
    )
    try:
        [collection] = collect(backoff=QUICK_BACKOFF)
    finally:
        client.meta.events.unregister(
            "before-call.cloudwatch.GetMetricData", unique_id="test-throttle"
        )

    assert collection.status == "succeeded", collection.errors
    assert collection.retries == 2
    assert collection.api_calls["GetMetricData"] == collection.metric_data_calls == 3


def test_persistent_throttling_is_recorded_and_the_window_is_collected_next_time(seeded):
    from botocore.awsrequest import AWSResponse

    from aws import clients as awsclients

    client = awsclients.client("cloudwatch", "us-east-1")

    def always_throttle(**kwargs):
        body = {
            "Error": {"Code": "Throttling", "Message": "Rate exceeded"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return AWSResponse("http://moto", 400, {}, None), body

    client.meta.events.register(
        "before-call.cloudwatch.GetMetricData", always_throttle, unique_id="test-throttle-all"
    )
    try:
        [failed] = collect(backoff=Backoff(attempts=3, base_s=0.01, cap_s=0.01))
    finally:
        client.meta.events.unregister(
            "before-call.cloudwatch.GetMetricData", unique_id="test-throttle-all"
        )

    assert failed.status == "partial"
    assert failed.errors[0]["kind"] == "transient"
    assert "Throttling" in failed.errors[0]["message"]
    assert set(MetricSeries.objects.values_list("collected_until", flat=True)) == {None}

    [ok] = collect(since=None)
    assert ok.status == "succeeded"
    assert MetricPoint.objects.exists()


def test_hourly_rollups_keep_the_sum_count_minimum_and_maximum_of_the_minutes(seeded):
    collect()

    written = rollup.rollup(now=T0 + timedelta(minutes=5))

    assert written == MetricSeries.objects.filter(points__isnull=False).distinct().count()
    hits = MetricSeries.objects.get(
        cluster__name="orders-cache", node_id="", metric="ItemCacheHits"
    )
    [hour] = MetricRollup.objects.filter(series=hits)
    values = list(hits.points.values_list("value", flat=True))
    assert hour.hour == T0 - HOUR
    assert (hour.count, hour.total, hour.minimum, hour.maximum) == (
        60,
        pytest.approx(sum(values)),
        min(values),
        max(values),
    )
    assert rollup.rollup(now=T0 + timedelta(minutes=5)) == written  # re-roll upserts
    assert MetricRollup.objects.filter(series=hits).count() == 1


def test_retention_drops_minutes_after_15_days_and_rollups_after_15_months(seeded):
    collect()
    rollup.rollup(now=T0)
    points, rollups = MetricPoint.objects.count(), MetricRollup.objects.count()

    quarters = MetricQuarter.objects.count()

    assert rollup.purge(now=T0 + timedelta(days=14)) == {"points": 0, "quarters": 0, "rollups": 0}
    assert rollup.purge(now=T0 + timedelta(days=16))["points"] == points
    assert quarters and not MetricQuarter.objects.exists()
    assert MetricRollup.objects.count() == rollups
    assert rollup.purge(now=T0 + timedelta(days=457))["rollups"] == rollups


def test_each_run_is_recorded_with_its_calls_and_points(seeded):
    [collection] = collect()

    collection.refresh_from_db()
    series = MetricSeries.objects.count()
    assert collection.account_name == "default credentials"
    assert collection.clusters_seen == 3
    assert collection.series_count == series
    assert collection.metric_data_calls == math.ceil(series / 500)
    assert collection.api_calls["DescribeClusters"] == 1
    assert collection.api_calls["ListTags"] == 3
    assert collection.api_calls["DescribeTable"] == 4
    assert collection.points_written == MetricPoint.objects.count()
    assert collection.datapoints_received == MetricPoint.objects.exclude(value=0).count()
    assert collection.finished_at >= collection.started_at
    assert Collection.objects.count() == 1


def test_the_management_command_collects_with_since(seeded):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("collect_cache_metrics", "--since", "90m", stdout=out)

    assert "default credentials us-east-1: succeeded - 3 clusters" in out.getvalue()
    assert DaxCluster.objects.count() == 3


def test_the_management_command_rejects_a_since_it_cannot_read():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="e.g. 90m, 3h"):
        call_command("collect_cache_metrics", "--since", "yesterday")


def test_the_beat_schedule_names_our_tasks_and_routes_them_to_the_metrics_queue(settings):
    from dashboard.celery import app

    scheduled = {
        entry["task"]
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"].startswith("cachemetrics.")
    }
    app.loader.import_default_modules()

    assert scheduled == {
        "cachemetrics.tasks.collect_cache_metrics_task",
        "cachemetrics.tasks.rollup_cache_metrics_task",
    }
    assert scheduled <= set(app.tasks)
    for name in scheduled:
        assert app.amqp.router.route({}, name)["queue"].name == "metrics"


def test_the_tasks_run_the_collector_and_the_rollup(seeded):
    from cachemetrics.tasks import collect_cache_metrics_task, rollup_cache_metrics_task

    assert collect_cache_metrics_task.apply().get() == {
        "default credentials/us-east-1": "succeeded"
    }
    assert DaxCluster.objects.count() == 3
    result = rollup_cache_metrics_task.apply().get()
    assert set(result) == {"rollups_written", "purged_points", "purged_quarters", "purged_rollups"}


# --------------------------------------------------------------------------- more DAX metrics


def test_faults_network_query_scan_and_cpu_credits_come_in_the_same_batched_calls(
    seeded, count_calls
):
    calls = count_calls("cloudwatch", "GetMetricData")

    [collection] = collect()

    series = MetricSeries.objects.filter(cluster__isnull=False)
    for name in ("orders-cache", "catalog-cache", "sessions-cache"):
        cluster_metrics = set(
            series.filter(cluster__name=name, node_id="").values_list("metric", "statistic")
        )
        assert {
            ("FaultRequestCount", "Sum"),
            ("FailedRequestCount", "Sum"),
            ("NetworkBytesIn", "Sum"),
            ("NetworkBytesOut", "Sum"),
        } <= cluster_metrics
        for node in DaxCluster.objects.get(name=name).nodes:
            node_metrics = set(
                series.filter(cluster__name=name, node_id=node["id"]).values_list(
                    "metric", "statistic"
                )
            )
            assert {("QueryRequestCount", "Sum"), ("ScanRequestCount", "Sum")} <= node_metrics
            # CPU credits: only the burstable t3.medium nodes of catalog-cache
            burstable = name == "catalog-cache"
            assert (("CPUCreditBalance", "Minimum") in node_metrics) is burstable, node
    # 25 per cluster, 10 per node (11 on t3), 4 tables: 151 series, one call for the hour
    assert collection.series_count == 25 * 3 + 10 * 3 + 11 * 2 + 10 * 2 + 4 == 151
    assert len(calls) == collection.metric_data_calls == 1
    assert collector.expected_metric_data_calls(151, T0 - HOUR, T0) == 1
    assert sum(len(c["MetricDataQueries"]) for c in calls) == 151


def test_node_query_and_scan_counts_and_credit_balances_are_what_the_sandbox_published(seeded):
    from sandbox.seed_dax import DEFAULT_CLUSTERS, published_minutes

    collect()

    for name, info in seeded["clusters"].items():
        cluster = DaxCluster.objects.get(name=name)
        for node, published in info["node_totals"].items():
            for metric in ("QueryRequestCount", "ScanRequestCount"):
                stored = MetricPoint.objects.filter(
                    series__cluster=cluster, series__node_id=node, series__metric=metric
                ).aggregate(s=Sum("value"))["s"]
                assert stored == pytest.approx(published.get(metric, 0.0)), (node, metric)
    spec = next(c for c in DEFAULT_CLUSTERS if c.name == "catalog-cache")
    minutes = published_minutes(spec, (T0 - HOUR).timestamp(), 60)
    for n, node in enumerate(spec.node_ids):
        lowest = min(m.node_gauges[n]["CPUCreditBalance"] for m in minutes)
        stored = MetricPoint.objects.filter(
            series__cluster__name="catalog-cache",
            series__node_id=node,
            series__metric="CPUCreditBalance",
        )
        assert stored.count() == 60  # one balance a minute, none of them zero
        assert min(stored.values_list("value", flat=True)) == pytest.approx(lowest)


def test_the_reports_flag_internal_errors_and_low_cpu_credits_of_the_burstable_cluster(seeded):
    from cachemetrics.reports import cluster_report

    collect()

    catalog_report = cluster_report(DaxCluster.objects.get(name="catalog-cache"), "1h")
    faults = seeded["clusters"]["catalog-cache"]["totals"]["FaultRequestCount"]
    assert catalog_report.totals["FaultRequestCount"] == faults > 0
    flags = {f.code: f for f in catalog_report.flags}
    assert f"{faults:,.0f} requests failed with an internal error" in flags["faults"].reason
    lowest = catalog_report.lowest_credits_node
    assert catalog_report.burstable and lowest is not None
    assert 0 < lowest.credits_lowest < 20 and lowest.credits_latest > lowest.credits_lowest
    assert f"Node {lowest.id} fell to {lowest.credits_lowest:,.1f} CPU credits" in (
        flags["cpu_credits"].reason
    )
    orders = cluster_report(DaxCluster.objects.get(name="orders-cache"), "1h")
    assert not orders.burstable and orders.lowest_credits_node is None
    assert "cpu_credits" not in {f.code for f in orders.flags}
    scans = [n.scans for n in orders.nodes]
    assert all(scans) and all(0 < n.scan_share < 0.05 for n in orders.nodes)
