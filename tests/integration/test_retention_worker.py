"""The daily purge task, sent through the broker, is run by a worker that consumes only the
maintenance queue (as a dedicated `-Q maintenance` worker does)."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.tasks import purge_expired_data_task
from tuning.models import Invocation, PowerResult, RunStatus, TuningRun

pytestmark = pytest.mark.integration


@pytest.mark.django_db(transaction=True)
def test_a_maintenance_worker_runs_the_purge(start_celery_worker):
    # Rows written directly: runs.start_run would also send a sweep task nobody consumes here.
    run = TuningRun.objects.create(
        function_arn="tuneboard-cpu",
        function_name="tuneboard-cpu",
        function_key="arn:aws:lambda:us-east-1:123456789012:function:tuneboard-cpu",
        memory_sizes=[128],
        status=RunStatus.SUCCEEDED,
    )
    TuningRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(days=401))
    result = PowerResult.objects.create(run=run, memory_mb=128)
    Invocation.objects.create(run=run, result=result, memory_mb=128, sequence=0)
    worker = start_celery_worker(queues="maintenance", concurrency=1)

    purge_expired_data_task.delay()

    deadline = time.monotonic() + 60  # a deadline for a busy machine, not a measurement
    while TuningRun.objects.filter(pk=run.pk).exists():
        if time.monotonic() > deadline:
            pytest.fail(f"the worker did not purge the run:\n{worker.log()[-4000:]}")
        time.sleep(0.1)
    assert not Invocation.objects.exists()
    assert "Task dashboard.tasks.purge_expired_data_task[" in worker.log()
