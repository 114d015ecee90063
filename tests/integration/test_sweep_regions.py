"""Sweeps outside us-east-1, end to end: a real Celery worker, Redis, PostgreSQL and the
sandbox Lambda serving each region on its own (the SigV4 credential scope picks it)."""

import csv
import io

import pytest
from django.core.management import call_command
from django.test import Client

from tests.integration.test_sweep import function_state, leftovers_of, wait_finished
from tests.tuning.runfactory import start_run
from tuning import costing
from tuning.models import Invocation, RunStatus

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

#: A Lambda region without a price in tuning/pricing_data.py.
UNPRICED = "ca-central-1"


def test_a_sweep_in_eu_west_2_tunes_the_function_of_that_region_only(
    sandbox, worker, make_function
):
    london, virginia = sandbox.lambda_client("eu-west-2"), sandbox.lambda_client("us-east-1")
    name = make_function(seeded="tuneboard-io", region="eu-west-2", Timeout=10)
    make_function(seeded="tuneboard-io", region="us-east-1", FunctionName=name, Timeout=10)
    before = {"london": function_state(london, name), "virginia": function_state(virginia, name)}
    london_invokes = sandbox.stats()["calls_by_operation"].get("Invoke", 0)

    run = start_run(
        function=name, region="eu-west-2", memory_sizes=[128, 512], invocations_per_size=2
    )
    run = wait_finished(run, worker=worker)

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert run.function_key == f"arn:aws:lambda:eu-west-2:123456789012:function:{name}"
    assert run.original_config["FunctionArn"].startswith("arn:aws:lambda:eu-west-2:")
    assert Invocation.objects.filter(run=run, error_type="").count() == 4
    assert sandbox.stats()["calls_by_operation"]["Invoke"] - london_invokes == 4
    assert all(r.avg_duration_ms > 0 for r in run.results.all())
    # Costs as the region's prices allow: figures when known, "price unknown" otherwise.
    priced = costing.unknown_reason("eu-west-2") is None
    assert all((r.avg_cost_usd is not None) == priced for r in run.results.all())
    assert run.price_unknown == costing.unknown_reason("eu-west-2")
    assert run.best() is not None
    # The same-named function in us-east-1 was never touched; London's is as it was.
    assert function_state(virginia, name) == before["virginia"]
    assert function_state(london, name) == before["london"]
    assert leftovers_of(run, london) == {"aliases": [], "versions": []}


def test_a_sweep_in_a_region_without_a_price_measures_and_says_price_unknown(
    sandbox, worker, make_function, django_user_model
):
    assert costing.unknown_reason(UNPRICED)
    client = sandbox.lambda_client(UNPRICED)
    name = make_function(seeded="tuneboard-io", region=UNPRICED, Timeout=10)
    before = function_state(client, name)
    user = django_user_model.objects.create_superuser("ada", "ada@example.com", "pw-42-horse")

    run = start_run(
        function=name,
        region=UNPRICED,
        memory_sizes=[128, 512],
        invocations_per_size=2,
        created_by=user,
    )
    run = wait_finished(run, worker=worker)

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    results = list(run.results.order_by("memory_mb"))
    assert all(r.avg_duration_ms > 0 and r.avg_cost_usd is None for r in results)
    assert run.analysis["cost_basis"] == "gb_seconds"
    # An I/O-bound function waits as long at any size: 128 MB uses the fewest GB-seconds.
    gb_s = {r.memory_mb: r.avg_gb_seconds for r in results}
    assert run.recommendation("cost")["memory_mb"] == min(gb_s, key=gb_s.get) == 128
    assert function_state(client, name) == before
    assert leftovers_of(run, client) == {"aliases": [], "versions": []}

    web = Client(enforce_csrf_checks=True)
    web.force_login(user)
    page = web.get(f"/runs/{run.id}/").content.decode()
    assert page.count(">price unknown</td>") == 4
    assert f"No AWS Lambda price is known for {UNPRICED}" in page
    data = web.get(f"/api/runs/{run.id}/").json()
    assert data["status"] == "SUCCEEDED"
    assert data["price_unknown"] == run.price_unknown
    assert [r["avg_cost_usd"] for r in data["results"]] == [None, None]
    assert all(r["avg_duration_ms"] > 0 for r in data["results"])
    response = web.get(f"/runs/{run.id}/export.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 4
    assert {row["cost_usd"] for row in rows} == {"price unknown"}
    assert all(float(row["duration_ms"]) > 0 for row in rows)
    out = io.StringIO()
    call_command("show_run", str(run.id), stdout=out)
    assert "price unknown per invocation" in out.getvalue()


def test_a_function_of_another_region_is_not_found_and_left_untouched(sandbox, worker):
    """tuneboard-memory is seeded in us-east-1 only: a sweep of it in eu-west-2 fails
    cleanly, naming the region, and the us-east-1 function keeps its state."""
    virginia = sandbox.lambda_client("us-east-1")
    before = function_state(virginia, "tuneboard-memory")

    run = start_run(
        function="tuneboard-memory", region="eu-west-2", memory_sizes=[512], invocations_per_size=1
    )
    run = wait_finished(run, worker=worker)

    assert run.status == RunStatus.FAILED
    assert "eu-west-2" in run.error_message
    assert "not found" in run.error_message.lower()
    assert not Invocation.objects.filter(run=run).exists()
    assert function_state(virginia, "tuneboard-memory") == before
