"""Sweep estimates: durations per size from a run or a timeout, then AWS charges and wall time.
Expected figures are worked out by hand from the us-east-1 prices."""

from decimal import Decimal

import pytest

from tuning.estimate import durations_from_run, durations_from_timeout, estimate

X86_GB_S = Decimal("0.0000166667")
ARM_GB_S = Decimal("0.0000133334")
REQUEST = Decimal("0.0000002")


def sweep(sizes=(128, 1024), num=10, durations=None, **options):
    """An estimate with serial, warm, x86 us-east-1 defaults."""
    settings = {
        "basis": "test",
        "upper_bound": False,
        "parallel": False,
        "concurrency": 1,
        "cold_starts_only": False,
        "architecture": "x86_64",
        "region": "us-east-1",
        **options,
    }
    durations = durations or {size: 3000.0 for size in sizes}
    return estimate(sizes, num, durations=durations, **settings)


def test_the_timeout_estimate_matches_what_the_sweep_form_showed():
    # 3 s timeout, 128 and 1024 MB, 10 each: the form's upper bound before any run.
    result = sweep(durations=durations_from_timeout(3, (128, 1024)), upper_bound=True)
    expected = 10 * Decimal("0.125") * 3 * X86_GB_S + 10 * 1 * 3 * X86_GB_S + 20 * REQUEST
    assert result.invocations == 20
    assert result.cost_usd == expected
    assert result.seconds == 20 * 3 + 2 * 2.0  # serial invocations, then one publish per size
    assert result.upper_bound is True


def test_the_last_run_estimate_matches_what_the_sweep_form_showed():
    # Last run billed 1601 ms at 128 MB and 151 ms at 1024 MB; 10 each, all at once.
    durations = durations_from_run({128: 1601.0, 1024: 151.0}, (128, 1024))
    result = sweep(durations=durations, parallel=True, concurrency=10)
    expected = (
        10 * Decimal("0.125") * Decimal("1.601") * X86_GB_S
        + 10 * Decimal("0.151") * X86_GB_S
        + 20 * REQUEST
    )
    assert result.cost_usd == expected
    assert result.seconds == pytest.approx(1.601 + 0.151 + 4.0)


@pytest.mark.parametrize(
    ("num", "parallel", "concurrency", "invoking_s"),
    [
        (10, False, 1, 10.0),  # serial: one after the other
        (10, False, 8, 10.0),  # concurrency is ignored when not parallel
        (10, True, 4, 3.0),  # rounds of 4, 4 and 2
        (10, True, 10, 1.0),
        (10, True, 50, 1.0),
        (1, True, 4, 1.0),
    ],
)
def test_wall_time_counts_rounds_of_concurrent_invocations(num, parallel, concurrency, invoking_s):
    result = sweep((512,), num, {512: 1000.0}, parallel=parallel, concurrency=concurrency)
    assert result.seconds == invoking_s + 2.0


def test_cold_starts_only_adds_a_publish_per_invocation():
    warm = sweep((128, 512), 4, {128: 200.0, 512: 100.0})
    cold = sweep((128, 512), 4, {128: 200.0, 512: 100.0}, cold_starts_only=True)
    assert cold.seconds - warm.seconds == pytest.approx(8 * 1.5)
    assert cold.cost_usd == warm.cost_usd


@pytest.mark.parametrize(
    ("duration_ms", "billed_s"),
    [(100.0, "0.1"), (100.2, "0.101"), (0.4, "0.001")],
)
def test_each_invocation_is_billed_by_the_started_millisecond(duration_ms, billed_s):
    result = sweep((1024,), 1, {1024: duration_ms})
    assert result.cost_usd == Decimal(billed_s) * X86_GB_S + REQUEST


@pytest.mark.parametrize(
    ("architecture", "region", "per_gb_s"),
    [
        ("x86_64", "us-east-1", X86_GB_S),
        ("arm64", "us-east-1", ARM_GB_S),
    ],
)
def test_prices_follow_architecture_and_region(architecture, region, per_gb_s):
    result = sweep((1024,), 1, {1024: 1000.0}, architecture=architecture, region=region)
    assert result.cost_usd == per_gb_s + REQUEST


@pytest.mark.parametrize(
    ("architecture", "region"),
    [("arm64", "xx-nowhere-9"), ("mips", "us-east-1")],  # no price for the region / architecture
)
def test_without_a_price_the_cost_is_unknown_but_the_time_is_estimated(architecture, region):
    result = sweep((1024,), 2, {1024: 1000.0}, architecture=architecture, region=region)
    assert result.cost_usd is None  # never another region's price
    assert result.invocations == 2
    assert result.seconds > 2


def test_the_estimate_keeps_its_basis():
    result = sweep(basis="from the last run", upper_bound=False)
    assert (result.basis, result.upper_bound) == ("from the last run", False)


@pytest.mark.parametrize(
    ("size", "expected_ms"),
    [
        (128, 1600.0),  # measured
        (256, 800.0),  # nearest is 128 MB; twice the CPU
        (512, 150.0 * 1024 / 512),  # nearest on a log scale is 1024 MB (2x), not 128 MB (4x)
        (1024, 150.0),
        (1769, 150.0 * 1024 / 1769),  # one full vCPU
        (3008, 150.0 * 1024 / 1769),  # no faster beyond one vCPU
    ],
)
def test_durations_from_a_run_scale_the_nearest_size_by_cpu_share(size, expected_ms):
    durations = durations_from_run({128: 1600.0, 1024: 150.0}, [size])
    assert durations == {size: pytest.approx(expected_ms)}


def test_durations_above_one_vcpu_are_not_scaled():
    assert durations_from_run({2048: 90.0}, [3008, 10240]) == {3008: 90.0, 10240: 90.0}


def test_durations_from_the_timeout_are_the_timeout_at_every_size():
    assert durations_from_timeout(2.5, [128, 3008]) == {128: 2500.0, 3008: 2500.0}
