"""Weighted payloads through a real worker and the sandbox: per-payload statistics."""

import pytest

from tests.integration.test_sweep import wait_finished
from tests.tuning.runfactory import start_run
from tuning.models import RunStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_per_payload_statistics_show_which_weighted_payload_is_dear(sandbox, start_celery_worker):
    worker = start_celery_worker(concurrency=1)
    # tuneboard-cpu's work grows with "iterations": the second payload is far slower than the first.
    run = start_run(
        function="tuneboard-cpu",
        memory_sizes=[1024],
        invocations_per_size=4,
        weighted_payloads=[
            {"payload": {"iterations": 1000}, "weight": 3},
            {"payload": {"iterations": 400_000}, "weight": 1},
        ],
        discard_fraction=0,
    )
    run = wait_finished(run, worker=worker)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    (size,) = run.payload_stats()
    light, heavy = size["payloads"]
    assert (light["invocations"], heavy["invocations"]) == (3, 1)
    assert heavy["avg_duration_ms"] > 3 * light["avg_duration_ms"], size
    assert float(heavy["avg_cost_usd"]) > float(light["avg_cost_usd"]), size
