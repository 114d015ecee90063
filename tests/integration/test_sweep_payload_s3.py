"""payloadS3 through a real worker, the sandbox's Lambda and moto's S3."""

import json

import pytest

from tests.integration.test_sweep import function_state, wait_finished
from tests.tuning.runfactory import start_run
from tuning.models import RunStatus

pytestmark = pytest.mark.django_db(transaction=True)

BUCKET = "tuneboard-payloads"


@pytest.fixture
def s3(sandbox):
    client = sandbox.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


def test_a_sweep_with_its_payload_in_s3_invokes_with_that_payload(sandbox, s3, start_celery_worker):
    # tuneboard-io sleeps wait_s seconds (0.1 by default): 0.6 s shows the S3 payload arrived.
    s3.put_object(Bucket=BUCKET, Key="events/slow.json", Body=json.dumps({"wait_s": 0.6}))
    worker = start_celery_worker(concurrency=1)
    run = start_run(
        function="tuneboard-io",
        memory_sizes=[256],
        invocations_per_size=2,
        payload_s3=f"s3://{BUCKET}/events/slow.json",
    )
    run = wait_finished(run, worker=worker)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    durations = [i.duration_ms for i in run.invocations.all()]
    assert len(durations) == 2 and min(durations) >= 600, durations
    assert run.payload == {} and run.payload_s3 == f"s3://{BUCKET}/events/slow.json"


def test_a_missing_s3_payload_fails_the_run_early_and_leaves_the_function_as_found(
    sandbox, s3, lambda_client, start_celery_worker
):
    before = function_state(lambda_client, "tuneboard-io")
    worker = start_celery_worker(concurrency=1)
    run = start_run(
        function="tuneboard-io",
        memory_sizes=[256, 512],
        invocations_per_size=2,
        payload_s3=f"s3://{BUCKET}/events/missing.json",
    )
    run = wait_finished(run, worker=worker)
    assert run.status == RunStatus.FAILED
    assert "events/missing.json does not exist" in run.error_message, run.error_message
    assert function_state(lambda_client, "tuneboard-io") == before
    assert not run.invocations.exists()
