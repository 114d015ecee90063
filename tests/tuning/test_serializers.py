"""run_to_dict: the JSON of GET /api/runs/<uuid>/, private and public."""

import json
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from tests.tuning.runfactory import start_run
from tuning.models import PowerResult, ResultStatus, RunStatus, TuningRun
from tuning.serializers import run_to_dict

pytestmark = pytest.mark.django_db

ARN = "arn:aws:lambda:us-east-1:123456789012:function:orders"


@pytest.fixture
def finished_run():
    alice = get_user_model().objects.create_user("alice")
    run = start_run(
        function=ARN,
        memory_sizes=[128, 512, 1024],
        invocations_per_size=4,
        payload={"secret": "customer-42"},
        created_by=alice,
    )
    stats = {
        128: (400.0, Decimal("0.000000833334"), ResultStatus.SUCCEEDED, ""),
        512: (90.0, Decimal("0.000000950000"), ResultStatus.SUCCEEDED, ""),
        1024: (None, None, ResultStatus.FAILED, f"Not found: {ARN}:tb-x-1024"),
    }
    for mb, (duration, cost, status, message) in stats.items():
        PowerResult.objects.filter(run=run, memory_mb=mb).update(
            avg_duration_ms=duration,
            p50_duration_ms=duration,
            p95_duration_ms=duration,
            p99_duration_ms=duration,
            avg_billed_duration_ms=duration,
            avg_cost_usd=cost,
            status=status,
            error_message=message,
            invocations_done=4,
        )
    TuningRun.objects.filter(pk=run.pk).update(
        status=RunStatus.SUCCEEDED,
        phase="done",
        invocations_done=12,
        original_config={"MemorySize": 128, "FunctionArn": ARN, "Architectures": ["arm64"]},
    )
    run.refresh_from_db()
    run.store_analysis()
    return run


def test_the_run_json_has_the_documented_fields_and_is_json(finished_run):
    data = run_to_dict(finished_run)
    json.dumps(data)  # plain JSON
    assert data["id"] == str(finished_run.id)
    assert data["status"] == "SUCCEEDED"
    assert data["progress"] == {"done": 12, "total": 12, "percent": 100}
    assert data["function"] == ARN
    assert data["account_id"] == "123456789012"
    assert data["architecture"] == "arm64"
    assert data["original_memory_mb"] == 128
    assert data["created_by"] == "alice"
    assert data["created_at"].endswith("+00:00")
    size = data["results"][0]
    for key in (
        "memory_mb",
        "status",
        "avg_duration_ms",
        "p50_duration_ms",
        "p95_duration_ms",
        "p99_duration_ms",
        "avg_billed_duration_ms",
        "avg_cost_usd",
        "invocations",
        "errors",
        "cold_starts",
        "max_memory_used_mb",
        "ci95_low_ms",
        "ci95_high_ms",
        "noisy",
        "error_message",
    ):
        assert key in size
    assert size["avg_cost_usd"] == "0.000000833334"  # exact Decimal, never 8.3E-7


def test_the_recommendation_per_strategy_skips_failed_sizes(finished_run):
    data = run_to_dict(finished_run)
    assert data["recommendation"]["cost"] == {
        "memory_mb": 128,
        "avg_cost_usd": "0.000000833334",
        "avg_duration_ms": 400.0,
    }
    assert data["recommendation"]["speed"]["memory_mb"] == 512
    assert data["recommendation"]["balanced"]["memory_mb"] in (128, 512)
    assert data["best"] == data["recommendation"]["cost"]
    assert finished_run.best().memory_mb == 128
    assert finished_run.analysis["failed_sizes"] == [1024]
    assert finished_run.analysis["original"]["memory_mb"] == 128


def test_the_public_json_hides_payloads_people_and_account_ids(finished_run):
    data = run_to_dict(finished_run, private=False)
    text = json.dumps(data)
    assert "123456789012" not in text
    assert "customer-42" not in text
    assert "alice" not in text
    assert data["function"] == "orders"
    assert data["payload"] is None
    assert data["results"][2]["error_message"] == "error"  # its class, not AWS's words


def test_a_run_without_analysis_has_empty_recommendations():
    run = start_run(function="f", memory_sizes=[128], invocations_per_size=1)
    data = run_to_dict(run)
    assert data["recommendation"] == {"cost": None, "speed": None, "balanced": None}
    assert data["results"][0]["status"] == "PENDING"
    assert data["finished_at"] is None
