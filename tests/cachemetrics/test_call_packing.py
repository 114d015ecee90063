"""How many GetMetricData calls a collection makes: ceil(series x windows / 500), the last
partial batch of series asked for over a longer time range (botocore's Stubber answers)."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from botocore.stub import Stubber

from aws import clients as awsclients
from cachemetrics import cloudwatch as cw
from cachemetrics import collector, packing
from cachemetrics.models import DaxCluster, MetricPoint, MetricSeries
from tests.cachemetrics.conftest import REGION, T0

pytestmark = pytest.mark.django_db

WINDOW = timedelta(minutes=180)


@pytest.fixture
def stubbed_cloudwatch(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    awsclients.clear()
    client = awsclients.client("cloudwatch", REGION)
    with Stubber(client) as stub:
        yield stub
    awsclients.clear()


def make_series(count: int) -> list[MetricSeries]:
    cluster = DaxCluster.objects.create(arn="arn:aws:dax:us-east-1:1:cache/c", name="c")
    MetricSeries.objects.bulk_create(
        MetricSeries(
            key=f"dax:{cluster.pk}:-:Metric{i}:Sum",
            cluster=cluster,
            namespace="AWS/DAX",
            metric=f"Metric{i}",
            statistic="Sum",
        )
        for i in range(count)
    )
    return list(MetricSeries.objects.order_by("pk"))


def run_for(windows: int) -> collector.Run:
    return collector.Run(
        target=cw.Target(region=REGION),
        account=None,
        now=T0,
        since=WINDOW * windows,
        backoff=cw.DEFAULT_BACKOFF,
    )


@pytest.mark.parametrize(("series", "windows"), [(520, 2), (300, 5)])
def test_a_collection_makes_ceil_of_series_times_windows_over_500_calls(
    stubbed_cloudwatch, series, windows
):
    expected = math.ceil(series * windows / 500)
    for _ in range(expected):
        stubbed_cloudwatch.add_response("get_metric_data", {"MetricDataResults": []})
    run = run_for(windows)

    collector.collect_metrics(run, make_series(series))

    # one call more or less would leave a stubbed answer or find none (StubResponseError)
    stubbed_cloudwatch.assert_no_pending_responses()
    assert run.stats.calls["GetMetricData"] == expected
    assert run.errors == []
    # every series zero-filled over every minute, once
    assert MetricPoint.objects.count() == series * windows * 180 == run.written


def test_every_series_minute_is_asked_for_exactly_once_within_the_limits_of_one_call():
    start = T0 - WINDOW * 8
    calls = packing.plan_calls(437, start, T0)

    asked = [0] * (437 * 8 * 180)
    for call in calls:
        minutes = int((call.end - call.start).total_seconds() // 60)
        assert call.count <= 500
        assert call.count * minutes <= packing.POINTS_PER_CALL < cw.MAX_DATAPOINTS_PER_CALL
        first_minute = int((call.start - start).total_seconds() // 60)
        for s in range(call.first, call.first + call.count):
            for m in range(first_minute, first_minute + minutes):
                asked[s * 8 * 180 + m] += 1
    assert len(calls) == math.ceil(437 * 8 / 500) == 7  # one per window would be 8
    assert set(asked) == {1}


def test_a_full_batch_of_500_series_asks_for_one_180_minute_window_per_call():
    calls = packing.plan_calls(1000, T0 - WINDOW * 2, T0)

    assert len(calls) == 4
    assert {(c.count, c.end - c.start) for c in calls} == {(500, WINDOW)}
