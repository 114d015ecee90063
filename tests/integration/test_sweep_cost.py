"""What a finished sweep spent, end to end: a real Celery worker, Redis, PostgreSQL and the
sandbox. The total stored with the run is every invocation it made — errors and cold starts
included — priced from the billed durations Lambda reported, request fees included."""

from decimal import Decimal

import pytest

from tests.integration.test_sweep import leftovers_of, wait_finished, wait_for
from tests.tuning.runfactory import start_run
from tuning import pricing, runs
from tuning.models import Invocation, RunStatus
from tuning.serializers import run_to_dict

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SOMETIMES_FAILS = """
class Refused(Exception):
    pass

def handler(event, context):
    if event.get("fail"):
        raise Refused("asked to fail")
    return {"ok": True}
"""


def test_a_sweeps_total_cost_is_the_sum_of_every_invocation_it_made(
    sandbox, start_celery_worker, lambda_client, make_function
):
    worker = start_celery_worker(concurrency=2)
    name = make_function(SOMETIMES_FAILS, MemorySize=128, Timeout=10)
    run = start_run(
        function=name,
        memory_sizes=[128, 512],
        invocations_per_size=4,
        # One call in four raises: it is billed like the others and counts in the total.
        weighted_payloads=[{"payload": {}, "weight": 3}, {"payload": {"fail": True}, "weight": 1}],
        max_error_share=0.5,
    )
    run = wait_finished(run, worker=worker)
    assert run.status == RunStatus.SUCCEEDED, run.error_message

    made = list(Invocation.objects.filter(run=run))
    assert len(made) == 8
    spent = run.sweep_cost
    assert spent["invocations"] == 8
    assert spent["errors"] == sum(1 for i in made if i.error_type) == 2
    assert spent["cold_starts"] == sum(1 for i in made if i.cold_start) >= 2  # one per version
    # Every call came back with a REPORT: the total is the sum of their recorded costs…
    assert spent["unmeasured"] == 0
    assert Decimal(spent["usd"]) == sum(i.cost_usd for i in made)
    # …which are each call's billed GB-seconds at its memory plus one request fee (each stored
    # to 12 decimals).
    expected = sum(
        Decimal(str(i.billed_duration_ms)) * i.memory_mb / 1024 / 1000 * Decimal("0.0000166667")
        + pricing.request_price("us-east-1")
        for i in made
    )
    assert abs(Decimal(spent["usd"]) - expected) <= len(made) * Decimal("1e-12")

    # The API and the CLI's JSON carry the same figure.
    assert run_to_dict(run)["sweep_cost"] == spent
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}


def test_a_cancelled_sweep_still_says_what_it_spent(sandbox, start_celery_worker, make_function):
    # One worker process: the batch that notices the cancel is the one that cleans up, so every
    # call it made is recorded before the total is stored.
    worker = start_celery_worker(concurrency=1)
    slow = "import time\n\ndef handler(event, context):\n    time.sleep(0.2)\n    return {}\n"
    name = make_function(slow, MemorySize=128, Timeout=10)
    run = start_run(function=name, memory_sizes=[128, 256, 512], invocations_per_size=30)

    wait_for(lambda: Invocation.objects.filter(run=run).count() >= 3, "a few invocations")
    runs.request_cancel(run, None)
    run = wait_finished(run, worker=worker)
    assert run.status == RunStatus.CANCELLED
    made = list(Invocation.objects.filter(run=run))
    spent = run.sweep_cost
    assert 3 <= spent["invocations"] == len(made) < 90
    assert Decimal(spent["usd"]) == sum(i.cost_usd for i in made) > 0
