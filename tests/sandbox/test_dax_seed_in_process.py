"""The sandbox seeds its own moto in process (``seed_dax(..., moto_in_process=True)``): what
it stores must be exactly what the same seeding stores through PutMetricData over HTTP, and
a client must read it back as it reads metrics put over HTTP."""

import urllib.request
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto.cloudwatch.models import cloudwatch_backends
from moto.server import ThreadedMotoServer

from sandbox.seed_dax import DEFAULT_CLUSTERS, seed_dax

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
ACCOUNT = "123456789012"  # moto's account for the "testing" credentials


def reset(url: str) -> None:
    request = urllib.request.Request(f"{url}/moto-api/reset", data=b"", method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local moto
        response.read()


@pytest.fixture(scope="module")
def endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    reset(url)  # moto's backends are global to the process
    yield url
    reset(url)
    server.stop()


def stored(endpoint: str, in_process: bool) -> tuple[dict, list[tuple]]:
    """(summary, every datapoint moto stored) of one fresh hour of seeding."""
    reset(endpoint)
    summary = seed_dax(
        endpoint,
        hours=1,
        now=NOW,
        seed=7,
        clusters=DEFAULT_CLUSTERS[:2],
        moto_in_process=in_process,
    )
    data = cloudwatch_backends[ACCOUNT]["us-east-1"].metric_data
    points = sorted(
        (
            type(md).__name__,
            md.namespace,
            md.name,
            tuple((d.name, d.value) for d in md.dimensions),
            md.timestamp,
            md.unit,
            tuple(
                getattr(md, attribute, None)
                for attribute in ("value", "min", "max", "sum", "sample_count")
            ),
        )
        for md in data
    )
    return summary, points


def test_in_process_seeding_stores_exactly_what_putmetricdata_over_http_stores(endpoint):
    over_http, http_points = stored(endpoint, in_process=False)
    in_process, points = stored(endpoint, in_process=True)

    assert len(points) == sum(in_process["datapoints"].values()) > 1000
    assert points == http_points
    assert all(point[4].tzinfo is None for point in points)  # naive UTC, as moto's parser gives
    for summary in (over_http, in_process):
        del summary["timings"]
    assert in_process == over_http


def test_a_client_reads_in_process_seeded_metrics_back(endpoint):
    reset(endpoint)
    summary = seed_dax(
        endpoint, hours=1, now=NOW, seed=7, clusters=DEFAULT_CLUSTERS[:1], moto_in_process=True
    )
    cloudwatch = boto3.client(
        "cloudwatch",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    node = DEFAULT_CLUSTERS[0].node_ids[1]
    answer = cloudwatch.get_metric_statistics(
        Namespace="AWS/DAX",
        MetricName="ItemCacheHits",
        Dimensions=[
            {"Name": "ClusterId", "Value": DEFAULT_CLUSTERS[0].name},
            {"Name": "NodeId", "Value": node},
        ],
        StartTime=NOW - timedelta(hours=1),
        EndTime=NOW,
        Period=3600,
        Statistics=["Sum"],
    )
    [point] = answer["Datapoints"]
    assert (
        point["Sum"]
        == summary["clusters"][DEFAULT_CLUSTERS[0].name]["node_totals"][node]["ItemCacheHits"]
    )
