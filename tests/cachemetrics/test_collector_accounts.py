"""Call counts with many clusters, all pages, vanished clusters and failing accounts."""

from __future__ import annotations

import contextlib
import math
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from aws.models import AwsAccount
from cachemetrics import catalog, cloudwatch, collector
from cachemetrics.models import Collection, DaxCluster, MetricSeries
from tests.cachemetrics.conftest import T0

pytestmark = pytest.mark.django_db

NODES_PER_CLUSTER = 3


@pytest.fixture(scope="module")
def many_clusters(aws):
    """25 three-node clusters (no metrics: the call count does not depend on data)."""
    dax = aws.client("dax")
    names = [f"fleet-{i:02d}" for i in range(25)]
    for name in names:
        dax.create_cluster(
            ClusterName=name,
            NodeType="dax.t3.small",
            ReplicationFactor=NODES_PER_CLUSTER,
            IamRoleArn="arn:aws:iam::123456789012:role/dax",
        )
    return names


@pytest.mark.parametrize("hours", [1, 3, 6, 7])
def test_n_clusters_times_m_metrics_cost_ceil_of_nm_over_500_calls_per_window(
    many_clusters, count_calls, hours
):
    calls = count_calls("cloudwatch", "GetMetricData")
    start, end = T0 - timedelta(hours=hours), T0

    [collection] = collector.collect_all(now=T0, since=timedelta(hours=hours))

    n = len(many_clusters)
    # 25 + 3 x (10 + 1 CPU credit balance of a t3 node) = 58 series per cluster
    m = catalog.series_per_cluster(NODES_PER_CLUSTER, "dax.t3.small")
    assert m == 58
    per_window = math.ceil(n * m / 500)  # 1,450 queries -> 3 calls
    n_windows = math.ceil(hours * 60 / (collector.WINDOW.total_seconds() / 60))
    assert MetricSeries.objects.count() == n * m
    assert len(calls) == per_window * n_windows == collection.metric_data_calls
    assert collector.expected_metric_data_calls(n * m, start, end) == len(calls)
    assert all(len(c["MetricDataQueries"]) <= 500 for c in calls)
    assert sum(len(c["MetricDataQueries"]) for c in calls) == n * m * n_windows


def test_queries_use_exact_dimensions_for_clusters_and_nodes(many_clusters, count_calls):
    calls = count_calls("cloudwatch", "GetMetricData")

    collector.collect_all(now=T0, since=timedelta(minutes=5))

    dimension_sets = {
        tuple((d["Name"], d["Value"]) for d in q["MetricStat"]["Metric"]["Dimensions"])
        for c in calls
        for q in c["MetricDataQueries"]
    }
    assert (("ClusterId", "fleet-00"),) in dimension_sets
    assert (("ClusterId", "fleet-00"), ("NodeId", "fleet-00-c")) in dimension_sets
    assert all(1 <= len(dims) <= 2 for dims in dimension_sets)


def test_every_page_of_describe_clusters_is_read(many_clusters, count_calls, monkeypatch):
    monkeypatch.setattr(cloudwatch, "DESCRIBE_PAGE_SIZE", 10)
    pages = count_calls("dax", "DescribeClusters")

    [collection] = collector.collect_all(now=T0, since=timedelta(minutes=5))

    assert len(pages) == 3
    assert collection.clusters_seen == 25
    assert DaxCluster.objects.count() == 25


def test_a_cluster_that_disappeared_is_marked_vanished_and_not_queried(aws, many_clusters):
    dax = aws.client("dax")
    dax.create_cluster(
        ClusterName="short-lived",
        NodeType="dax.t3.small",
        ReplicationFactor=1,
        IamRoleArn="arn:aws:iam::123456789012:role/dax",
    )
    collector.collect_all(now=T0, since=timedelta(minutes=5))
    with contextlib.suppress(ClientError):  # moto answers 500 after deleting at once
        dax.delete_cluster(ClusterName="short-lived")
    assert "short-lived" not in {c["ClusterName"] for c in dax.describe_clusters()["Clusters"]}

    [collection] = collector.collect_all(now=T0, since=timedelta(minutes=5))

    gone = DaxCluster.objects.get(name="short-lived")
    assert gone.status == "vanished"
    assert gone.vanished_at is not None
    assert collection.clusters_vanished == 1
    assert DaxCluster.objects.filter(vanished_at__isnull=True).count() == 25


def test_one_failing_account_is_recorded_and_the_others_are_still_collected(many_clusters):
    AwsAccount.objects.create(name="broken", role_arn="not-a-role", default_region="us-east-1")
    AwsAccount.objects.create(name="production", default_region="us-east-1")

    collections = collector.collect_all(now=T0, since=timedelta(minutes=5))

    by_name = {c.account_name: c for c in collections}
    assert by_name["broken"].status == "failed"
    assert by_name["broken"].errors[0]["kind"] == "permanent"
    assert "role ARN" in by_name["broken"].errors[0]["message"]
    assert by_name["production"].status == "succeeded"
    assert by_name["production"].clusters_seen == 25
    assert DaxCluster.objects.filter(account__name="production").count() == 25
    assert not DaxCluster.objects.filter(account__name="broken").exists()
    assert Collection.objects.filter(status="failed").count() == 1


def test_an_account_collects_its_default_region_and_the_extra_regions(settings):
    settings.TUNEBOARD_DAX_REGIONS = ["eu-west-1", "us-east-1"]
    account = AwsAccount.objects.create(name="prod", default_region="us-east-1")

    assert collector.targets() == [(account, "us-east-1"), (account, "eu-west-1")]


def test_without_accounts_the_default_credentials_and_region_are_used(settings):
    settings.TUNEBOARD_DEFAULT_REGION = "eu-central-1"

    assert collector.targets() == [(None, "eu-central-1")]
