"""The demo path end to end: the real ``python -m sandbox --seed`` process, no AwsAccount
configured, the management command collecting with the default credentials and region."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from aws import clients as awsclients
from cachemetrics import collector
from cachemetrics.models import Collection, DaxCluster, MetricPoint, MetricSeries

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox_clients(sandbox):
    awsclients.clear()  # the application's clients must pick up the sandbox's endpoints
    yield sandbox
    awsclients.clear()


def test_the_collector_works_out_of_the_box_against_the_seeded_sandbox(sandbox_clients):
    out = StringIO()

    call_command("collect_cache_metrics", "--since", "30m", stdout=out)

    collection = Collection.objects.get()
    assert collection.status == "succeeded", collection.errors
    assert collection.account_name == "default credentials"
    assert "default credentials us-east-1: succeeded - 3 clusters" in out.getvalue()
    assert set(DaxCluster.objects.values_list("name", flat=True)) == {
        "orders-cache",
        "catalog-cache",
        "sessions-cache",
    }
    cloudwatch = sandbox_clients.client("cloudwatch")
    for series in MetricSeries.objects.filter(node_id="", metric="ItemCacheHits"):
        published = cloudwatch.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "q",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "AWS/DAX",
                            "MetricName": "ItemCacheHits",
                            "Dimensions": [{"Name": "ClusterId", "Value": series.cluster.name}],
                        },
                        "Period": 60,
                        "Stat": "Sum",
                    },
                }
            ],
            StartTime=collection.window_start,
            EndTime=collection.window_end,
        )["MetricDataResults"][0]["Values"]
        stored = MetricPoint.objects.filter(series=series).aggregate(s=Sum("value"))["s"]
        assert published and stored == pytest.approx(sum(published)), series.cluster.name
    assert collector.targets() == [(None, "us-east-1")]
