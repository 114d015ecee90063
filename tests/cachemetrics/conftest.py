"""A moto server of our own (exact control over what is seeded), one per test module.

``aws`` points botocore's standard environment variables at it for the module and resets
``aws.clients`` so the application's clients talk to it. Its CloudWatch answers from
``sandbox.cloudwatch_index``, as the sandbox's does: stock moto scans every datapoint per
query and period, which made these modules the slowest of the suite.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from aws import clients as awsclients

# Minute- and hour-aligned, in the past: seeded data is [T0 - hours, T0).
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
REGION = "us-east-1"
SERVICES = ("CLOUDWATCH", "DAX", "DYNAMODB", "STS")


class MotoAws:
    def __init__(self, url: str):
        self.url = url

    def client(self, service: str):
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def seed(self, **kwargs):
        from sandbox.seed_dax import seed_dax

        kwargs.setdefault("now", T0)
        # The server runs in this process: its metrics go straight into moto's backend.
        kwargs.setdefault("moto_in_process", True)
        return seed_dax(self.url, region=REGION, **kwargs)


def _post(url: str) -> None:
    import urllib.request

    assert url.startswith("http://127.0.0.1:")
    request = urllib.request.Request(url, data=b"", method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local moto
        response.read()


@contextmanager
def indexed_cloudwatch() -> Iterator[None]:
    """moto's CloudWatch answering from the sandbox's index while open; moto's own after (the
    patch is process-wide)."""
    from moto.cloudwatch.models import CloudWatchBackend

    from sandbox import cloudwatch_index

    names = ("put_metric_data", "get_metric_data", "get_metric_statistics", "list_metrics")
    before = {name: CloudWatchBackend.__dict__[name] for name in names}
    cloudwatch_index.install()
    try:
        yield
    finally:
        for name, method in before.items():
            setattr(CloudWatchBackend, name, method)


@pytest.fixture(scope="module")
def aws():
    from moto.server import ThreadedMotoServer

    with indexed_cloudwatch():
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        env = {f"AWS_ENDPOINT_URL_{service}": url for service in SERVICES}
        env.update(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION=REGION,
        )
        saved = {key: os.environ.get(key) for key in [*env, "AWS_SESSION_TOKEN", "AWS_PROFILE"]}
        os.environ.pop("AWS_SESSION_TOKEN", None)
        os.environ.pop("AWS_PROFILE", None)
        os.environ.update(env)
        awsclients.clear()
        try:
            from sandbox.seed_dax import make_dax_immediate

            # moto's backends are global to the process: start every module from nothing
            _post(f"{url}/moto-api/reset")
            make_dax_immediate(url)
            yield MotoAws(url)
        finally:
            _post(f"{url}/moto-api/reset")
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            awsclients.clear()
            server.stop()


@pytest.fixture
def count_calls():
    """count_calls("cloudwatch", "GetMetricData") -> a list that grows by one per real call,
    through a botocore event hook on the application's shared client."""
    registered = []

    def start(service: str, operation: str) -> list:
        calls: list = []
        client = awsclients.client(service.lower(), REGION)

        def hook(params, **kwargs):
            calls.append(dict(params))

        service_id = client.meta.service_model.service_id.hyphenize()
        event = f"before-parameter-build.{service_id}.{operation}"
        unique_id = f"count-{service}-{operation}-{id(calls)}"
        client.meta.events.register(event, hook, unique_id=unique_id)
        registered.append((client, event, unique_id))
        return calls

    yield start
    for client, event, unique_id in registered:
        client.meta.events.unregister(event, unique_id=unique_id)
