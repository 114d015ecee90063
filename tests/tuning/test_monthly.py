"""Monthly cost per size at the function's traffic, the saving of the recommended size and why
a traffic level is assumed. Expected figures are worked out by hand from us-east-1 prices."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from tests.tuning.runfactory import make_run
from tuning.monthly import ASSUMED_MONTHLY_INVOCATIONS, monthly_costs, monthly_summary

X86_GB_S = Decimal("0.0000166667")
REQUESTS_PER_MILLION = Decimal("0.20")


def result(memory_mb, billed_ms, *, duration_ms=None, cost="0.000001", status="SUCCEEDED"):
    """The attributes of a PowerResult the monthly figures read."""
    return SimpleNamespace(
        memory_mb=memory_mb,
        avg_billed_duration_ms=billed_ms,
        avg_duration_ms=billed_ms if duration_ms is None else duration_ms,
        avg_cost_usd=None if cost is None else Decimal(cost),
        status=status,
    )


# 1 M calls a month, no free tier: GB-s × price + $0.20 of requests.
SWEEP = [
    result(1024, 100),  # 100,000 GB-s: $1.86667
    result(128, 1000),  # 125,000 GB-s: $2.2833375
    result(512, 200),  # 100,000 GB-s: $1.86667
    result(3008, 50),  # 146,875 GB-s: $2.6479 (faster, dearer)
]
COST = {
    128: Decimal("2.2833375"),
    512: Decimal("1.86667"),
    1024: Decimal("1.86667"),
    3008: Decimal("146875") * X86_GB_S + REQUESTS_PER_MILLION,
}


def summary(results=SWEEP, **options):
    settings = {
        "traffic": 1_000_000,
        "problem": None,
        "current_mb": 128,
        "recommended_mb": 1024,
        "region": "us-east-1",
        "architecture": "x86_64",
        **options,
    }
    return monthly_summary(results, **settings)


def test_each_measured_size_is_priced_at_the_traffic_without_the_free_tier():
    rows = monthly_costs(SWEEP, invocations=1_000_000, region="us-east-1")
    assert rows == [(size, COST[size]) for size in (128, 512, 1024, 3008)]


def test_ten_million_calls_at_1024_mb_and_151_ms():
    # 1,510,000 GB-s and 10 M requests
    rows = monthly_costs([result(1024, 151)], invocations=10_000_000, region="us-east-1")
    assert rows == [(1024, Decimal("1510000") * X86_GB_S + 10 * REQUESTS_PER_MILLION)]


@pytest.mark.django_db
def test_a_runs_results_are_priced_per_size_that_succeeded():
    run = make_run(sizes=(128, 512, 1024, 1769), failed_sizes=(128,))
    rows = monthly_costs(run.results.all(), invocations=10_000_000, region="us-east-1")
    assert [size for size, _ in rows] == [512, 1024, 1769]
    # 1024 MB, 151 ms billed, 10 M calls: 1,510,000 GB-s and 10 M requests (no free tier)
    expected = Decimal("1510000") * X86_GB_S + 10 * REQUESTS_PER_MILLION
    assert dict(rows)[1024] == pytest.approx(expected, rel=Decimal("1e-9"))


def test_arm_sizes_are_priced_at_the_arm_price():
    rows = monthly_costs(
        [result(1024, 1000)], invocations=1_000, region="us-east-1", architecture="arm64"
    )
    assert rows == [(1024, 1000 * Decimal("0.0000133334") + Decimal("0.0002"))]


def test_failed_and_unmeasured_sizes_are_left_out():
    results = [
        result(128, 1000, status="FAILED"),
        result(256, None, duration_ms=None),
        result(512, 200, cost=None),  # measured: priced from its duration
        result(1024, 100),
    ]
    rows = monthly_costs(results, invocations=1, region="us-east-1")
    assert [size for size, _ in rows] == [512, 1024]


def test_without_a_price_there_is_no_monthly_figure_and_the_summary_says_why():
    results = [result(512, 200, cost=None), result(1024, 100, cost=None)]
    summary = monthly_summary(
        results,
        traffic=1000,
        problem=None,
        current_mb=512,
        recommended_mb=1024,
        region="ca-central-1",
        architecture="x86_64",
    )
    assert summary["rows"] == []
    assert summary["saving"] is None
    assert "No AWS Lambda price is known for ca-central-1" in summary["price_unknown"]


def test_with_a_price_the_summary_has_no_price_unknown():
    summary = monthly_summary(
        [result(1024, 100)],
        traffic=1000,
        problem=None,
        current_mb=None,
        recommended_mb=1024,
        region="us-east-1",
        architecture="x86_64",
    )
    assert summary["price_unknown"] is None


def test_without_a_billed_duration_the_measured_one_is_rounded_up():
    rows = monthly_costs(
        [result(1024, None, duration_ms=99.2)], invocations=1_000_000, region="us-east-1"
    )
    assert rows == [(1024, Decimal("1.86667"))]


def test_without_prices_for_the_region_the_measured_cost_per_call_is_used():
    rows = monthly_costs(
        [result(1024, 100, cost="0.0000021")], invocations=1_000_000, region="xx-nowhere-9"
    )
    assert rows == [(1024, Decimal("2.1"))]


@pytest.mark.parametrize(
    ("traffic", "problem", "invocations", "assumed", "explanation"),
    [
        (3_000_000, None, 3_000_000, False, ""),
        (
            None,
            None,
            ASSUMED_MONTHLY_INVOCATIONS,
            True,
            "CloudWatch has no AWS/Lambda Invocations datapoints for this function in the last "
            "30 days, so the chart assumes 1,000,000 invocations a month.",
        ),
        (
            0,
            None,
            ASSUMED_MONTHLY_INVOCATIONS,
            True,
            "The function was not invoked in the last 30 days; the chart assumes 1,000,000 "
            "invocations a month.",
        ),
        (
            None,
            "CloudWatch could not be read: Access denied",
            ASSUMED_MONTHLY_INVOCATIONS,
            True,
            "CloudWatch could not be read: Access denied. The chart assumes 1,000,000 "
            "invocations a month.",
        ),
    ],
)
def test_the_traffic_is_the_functions_own_or_an_explained_assumption(
    traffic, problem, invocations, assumed, explanation
):
    figures = summary(traffic=traffic, problem=problem)
    assert figures["invocations"] == invocations
    assert figures["traffic"] == traffic
    assert figures["assumed"] is assumed
    assert figures["explanation"] == explanation
    assert figures["rows"] == monthly_costs(SWEEP, invocations=invocations, region="us-east-1")


def test_moving_to_a_cheaper_recommended_size_is_a_saving():
    saving = summary(current_mb=128, recommended_mb=1024)["saving"]
    delta = COST[128] - COST[1024]
    assert saving == {
        "from_mb": 128,
        "to_mb": 1024,
        "amount": delta,
        "abs_amount": delta,
        "percent": float(delta / COST[128] * 100),
        "positive": True,
        "same": False,
    }
    assert saving["percent"] == pytest.approx(18.25, abs=0.01)


def test_a_dearer_recommended_size_is_a_negative_saving():
    saving = summary(current_mb=1024, recommended_mb=3008)["saving"]
    assert saving["amount"] == COST[1024] - COST[3008] < 0
    assert saving["abs_amount"] == COST[3008] - COST[1024]
    assert saving["positive"] is False
    assert saving["percent"] == pytest.approx(41.86, abs=0.01)


@pytest.mark.parametrize(
    ("current_mb", "recommended_mb", "same"),
    [(1024, 1024, True), (512, 1024, False)],  # 512 MB at 200 ms costs what 1024 at 100 does
)
def test_an_equal_cost_is_no_saving(current_mb, recommended_mb, same):
    saving = summary(current_mb=current_mb, recommended_mb=recommended_mb)["saving"]
    assert (saving["amount"], saving["positive"], saving["same"]) == (0, False, same)


@pytest.mark.parametrize(
    ("current_mb", "recommended_mb", "current_tested"),
    [
        (2048, 1024, False),  # the current size was not part of the sweep
        (None, 1024, False),  # the run does not know the current size
        (128, None, True),  # no size was recommended
    ],
)
def test_no_saving_without_both_sizes_measured(current_mb, recommended_mb, current_tested):
    figures = summary(current_mb=current_mb, recommended_mb=recommended_mb)
    assert figures["saving"] is None
    assert figures["current_mb"] == current_mb
    assert figures["current_tested"] is current_tested


def test_a_current_size_that_costs_nothing_has_no_share_to_save():
    # Only measured costs can be zero: priced sizes always pay the request fee.
    free = [result(128, 100, cost="0"), result(1024, 100, cost="0.000001")]
    saving = summary(free, region="xx-nowhere-9", current_mb=128, recommended_mb=1024)["saving"]
    assert (saving["amount"], saving["percent"]) == (-1, 0.0)


@pytest.mark.django_db
def test_the_monthly_cost_agrees_with_the_cost_per_call_with_2_gb_of_ephemeral_storage():
    # Ephemeral storage above the free 512 MB is charged per GB-second: the monthly figure of
    # each size is its cost per call (request fee and storage included) times the traffic.
    run = make_run(sizes=(128, 1024, 1769), ephemeral_storage=2048)
    summary = monthly_summary(
        list(run.results.all()),
        traffic=1_000_000,
        problem=None,
        current_mb=128,
        recommended_mb=1024,
        region="us-east-1",
        architecture="x86_64",
        ephemeral_storage_mb=run.ephemeral_storage_mb,
    )
    by_size = {r.memory_mb: r for r in run.results.all()}
    assert summary["ephemeral_storage_mb"] == 2048
    for size, monthly in summary["rows"]:
        # The stored cost per call has 12 decimals: a million calls agree to $0.000001.
        per_call = by_size[size].avg_cost_usd * 1_000_000
        assert abs(monthly - per_call) <= Decimal("0.000001"), size
    # Leaving the storage out would have been 1.5 GB × seconds × $0.0000000309 cheaper.
    without = dict(monthly_costs(run.results.all(), invocations=1_000_000, region="us-east-1"))
    billed_s = Decimal(str(by_size[1024].avg_billed_duration_ms)) / 1000
    storage = Decimal("1.5") * billed_s * Decimal("0.0000000309") * 1_000_000
    added = dict(summary["rows"])[1024] - without[1024]
    assert added == pytest.approx(storage, rel=Decimal("1e-9"))
