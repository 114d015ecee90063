"""tuning.analysis: trimmed mean, percentiles, summary statistics and strategies."""

import math
from decimal import Decimal
from types import SimpleNamespace

import mpmath
import pytest

from tuning.analysis import (
    Candidate,
    pareto_frontier,
    percentile,
    pick_balanced,
    pick_cost,
    pick_speed,
    recommend,
    summarize,
    t_critical_95,
    trimmed_mean,
)

# ----------------------------------------------------------------- trimmed_mean


def test_trimmed_mean_drops_twenty_percent_from_each_end_like_power_tuning():
    durations = [10, 12, 11, 13, 500, 9, 14, 15, 1, 16]
    # sorted: 1 9 | 10 11 12 13 14 15 | 16 500 ; int(10 * 0.2) = 2 dropped per end
    # mean of 10..15 = 75 / 6 = 12.5
    assert trimmed_mean(durations) == 12.5


def test_trimmed_mean_drops_nothing_when_twenty_percent_rounds_down_to_zero():
    # int(4 * 0.2) = 0: the plain mean (1 + 2 + 3 + 10) / 4 = 4
    assert trimmed_mean([10, 1, 3, 2]) == 4


def test_trimmed_mean_of_no_values_is_zero():
    assert trimmed_mean([]) == 0


def test_trimmed_mean_clamps_discard_to_forty_percent_like_power_tuning():
    # discard 0.5 would leave nothing of 4 values; clamped to 0.4: int(1.6) = 1 per end
    # -> (2 + 3) / 2 = 2.5
    assert trimmed_mean([1, 2, 3, 10], discard=0.5) == 2.5
    # discard 0.9 -> 0.4: int(5 * 0.4) = 2 per end -> the median 3 alone
    assert trimmed_mean([5, 1, 4, 2, 3], discard=0.9) == 3


def test_trimmed_mean_treats_a_negative_discard_as_zero():
    assert trimmed_mean([1, 2, 3, 10], discard=-0.3) == 4


def test_trimmed_mean_accepts_decimals():
    # sorted 1.1 | 2.2 3.3 4.4 | 5.5 (int(5 * 0.2) = 1 per end) -> 9.9 / 3 = 3.3
    values = [Decimal("5.5"), Decimal("1.1"), Decimal("3.3"), Decimal("2.2"), Decimal("4.4")]
    assert trimmed_mean(values) == pytest.approx(3.3)


# ----------------------------------------------------------------- percentile


def test_percentile_interpolates_linearly_like_numpy():
    # numpy's documented example: np.percentile([[10, 7, 4], [3, 2, 1]], 50) == 3.5
    assert percentile([10, 7, 4, 3, 2, 1], 50) == 3.5
    # [1, 2, 3, 4], p95: rank 3 * 0.95 = 2.85 -> 3 + 0.85 * (4 - 3) = 3.85
    assert percentile([4, 1, 3, 2], 95) == pytest.approx(3.85)


def test_percentile_ends_are_the_minimum_and_the_maximum():
    assert percentile([7, 3, 9], 0) == 3
    assert percentile([7, 3, 9], 100) == 9


def test_percentile_of_one_value_is_that_value():
    assert percentile([42.5], 99) == 42.5


def test_percentile_rejects_p_outside_0_to_100_and_empty_values():
    with pytest.raises(ValueError):
        percentile([1, 2], 101)
    with pytest.raises(ValueError):
        percentile([1, 2], -1)
    with pytest.raises(ValueError):
        percentile([], 50)


# ----------------------------------------------------------------- t critical values


def student_t_quantile_975(df: int) -> float:
    """Independent reference: solve CDF(t) = 0.975 with mpmath's incomplete beta."""

    def cdf(t):
        x = df / (df + t * t)
        return 1 - mpmath.betainc(df / 2, 0.5, 0, x, regularized=True) / 2

    return float(mpmath.findroot(lambda t: cdf(t) - 0.975, 2.0))


@pytest.mark.parametrize("df", [1, 2, 3, 4, 9, 10, 19, 29, 30, 40, 60, 120, 1000])
def test_tabulated_t_critical_values_match_the_t_distribution(df):
    assert t_critical_95(df) == pytest.approx(student_t_quantile_975(df), abs=1e-4)


@pytest.mark.parametrize("df", [35, 45, 55, 70, 90, 110, 150, 300, 700, 5000, 10**6])
def test_interpolated_t_critical_values_match_the_t_distribution(df):
    assert t_critical_95(df) == pytest.approx(student_t_quantile_975(df), abs=5e-4)


def test_t_critical_value_needs_at_least_one_degree_of_freedom():
    with pytest.raises(ValueError):
        t_critical_95(0)


# ----------------------------------------------------------------- summarize


def test_summarize_reports_every_statistic_of_a_small_noisy_sample():
    stats = summarize([10, 12, 11, 13, 9])

    # mean 55 / 5 = 11; squared deviations 1 + 1 + 0 + 4 + 4 = 10;
    # sample variance 10 / 4 = 2.5, stdev sqrt(2.5) = 1.58114
    # half-width t(0.975, 4) * s / sqrt(5) = 2.7764 * 1.58114 / 2.23607 = 1.96321
    stdev = math.sqrt(2.5)
    half_width = 2.7764 * stdev / math.sqrt(5)
    assert stats.count == 5
    assert stats.mean == 11
    assert stats.trimmed_mean == 11  # int(5 * 0.2) = 1 per end: (10 + 11 + 12) / 3
    assert (stats.min, stats.max) == (9, 13)
    assert stats.p50 == 11
    assert stats.p95 == pytest.approx(12.8)  # rank 3.8 -> 12 + 0.8 * (13 - 12)
    assert stats.p99 == pytest.approx(12.96)  # rank 3.96 -> 12 + 0.96
    assert stats.stdev == pytest.approx(stdev)
    assert stats.ci95_low == pytest.approx(11 - half_width, abs=1e-4)
    assert stats.ci95_high == pytest.approx(11 + half_width, abs=1e-4)
    # 1.96321 / 11 = 17.8 % > 10 %
    assert stats.noisy is True
    assert "run more invocations" in stats.noisy_reason
    assert "17.8%" in stats.noisy_reason


def test_summarize_does_not_flag_a_tight_sample_as_noisy():
    stats = summarize([100, 101, 99, 100, 100, 101, 99, 100])

    # mean 100; squared deviations sum to 4; variance 4 / 7; stdev 0.75593
    # half-width 2.3646 * 0.75593 / sqrt(8) = 0.63197 -> 0.63 % of the mean
    half_width = 2.3646 * math.sqrt(4 / 7) / math.sqrt(8)
    assert stats.ci95_low == pytest.approx(100 - half_width, abs=1e-4)
    assert stats.ci95_high == pytest.approx(100 + half_width, abs=1e-4)
    assert stats.noisy is False
    assert stats.noisy_reason is None


def test_summarize_uses_the_trimmed_mean_discard_it_is_given():
    stats = summarize([1, 2, 3, 10], discard=0.25)

    assert stats.trimmed_mean == 2.5  # int(4 * 0.25) = 1 per end: (2 + 3) / 2
    assert stats.mean == 4


def test_summarize_of_one_value_is_noisy_because_the_spread_is_unknown():
    stats = summarize([250.0])

    assert (stats.count, stats.mean, stats.min, stats.max) == (1, 250.0, 250.0, 250.0)
    assert stats.stdev == 0
    assert (stats.ci95_low, stats.ci95_high) == (250.0, 250.0)
    assert stats.noisy is True
    assert "run more invocations" in stats.noisy_reason


def test_summarize_of_no_values_is_an_error():
    with pytest.raises(ValueError):
        summarize([])


# ----------------------------------------------------------------- strategies

A_128 = Candidate(128, Decimal("0.0000021"), 980.0, False)
B_256 = Candidate(256, Decimal("0.0000020"), 470.0, False)
C_512 = Candidate(512, Decimal("0.0000022"), 240.0, False)
D_1024 = Candidate(1024, Decimal("0.0000034"), 200.0, False)
E_2048_FAILED = Candidate(2048, Decimal("0.0000001"), 10.0, True)
SWEEP = [A_128, B_256, C_512, D_1024, E_2048_FAILED]


def test_cost_strategy_picks_the_cheapest_size_that_did_not_fail():
    assert pick_cost(SWEEP) is B_256


def test_speed_strategy_picks_the_fastest_size_that_did_not_fail():
    assert pick_speed(SWEEP) is D_1024


def test_balanced_strategy_minimises_the_weighted_normalised_sum():
    # max cost 0.0000034 and max duration 980 over the sizes that succeeded:
    # 128: 0.5 * 2.1/3.4 + 0.5 * 980/980 = 0.80882
    # 256: 0.5 * 2.0/3.4 + 0.5 * 470/980 = 0.53391
    # 512: 0.5 * 2.2/3.4 + 0.5 * 240/980 = 0.44598  <- lowest
    # 1024: 0.5 * 3.4/3.4 + 0.5 * 200/980 = 0.60204
    assert pick_balanced(SWEEP) is C_512


def test_balanced_weight_one_means_cost_only_and_zero_means_speed_only():
    assert pick_balanced(SWEEP, weight=1) is B_256
    assert pick_balanced(SWEEP, weight=0) is D_1024


def test_balanced_strategy_rejects_a_weight_outside_zero_to_one():
    with pytest.raises(ValueError):
        pick_balanced(SWEEP, weight=1.5)
    with pytest.raises(ValueError):
        pick_balanced(SWEEP, weight=-0.1)
    with pytest.raises(ValueError):
        recommend(SWEEP, "balanced", weight=2)


def test_cost_ties_go_to_the_faster_size():
    slow = Candidate(128, Decimal("0.000002"), 900.0, False)
    fast = Candidate(1024, Decimal("0.000002"), 110.0, False)

    assert pick_cost([slow, fast]) is fast


def test_speed_ties_go_to_the_cheaper_size():
    dear = Candidate(3008, Decimal("0.000009"), 100.0, False)
    cheap = Candidate(2048, Decimal("0.000006"), 100.0, False)

    assert pick_speed([dear, cheap]) is cheap


def test_balanced_ties_go_to_the_smaller_memory_even_with_mixed_number_types():
    # max cost 3, max duration 3: 1024 -> 0.5 * 1/3 + 0.5 * 3/3 = 2/3,
    # 512 -> 0.5 * 3/3 + 0.5 * 1/3 = 2/3: an exact tie
    cheap_slow = Candidate(1024, Decimal("1"), 3.0, False)
    dear_fast = Candidate(512, 3.0, 1.0, False)

    assert pick_balanced([cheap_slow, dear_fast]) is dear_fast


def test_every_strategy_returns_none_when_all_sizes_failed():
    failed = [E_2048_FAILED, Candidate(128, Decimal("0.000001"), 50.0, True)]

    assert pick_cost(failed) is None
    assert pick_speed(failed) is None
    assert pick_balanced(failed) is None
    assert recommend([], "cost") is None


def test_recommend_dispatches_on_the_strategy_name():
    assert recommend(SWEEP, "cost") is B_256
    assert recommend(SWEEP, "speed") is D_1024
    assert recommend(SWEEP, "balanced") is C_512
    assert recommend(SWEEP, "balanced", weight=1) is B_256


def test_recommend_rejects_an_unknown_strategy_and_lists_the_valid_ones():
    with pytest.raises(ValueError) as raised:
        recommend(SWEEP, "cheapest")

    message = str(raised.value)
    assert "'cheapest'" in message
    for name in ("cost", "speed", "balanced"):
        assert name in message


def test_strategies_accept_any_object_with_the_candidate_attributes():
    rows = [
        SimpleNamespace(memory_mb=128, avg_cost_usd=0.000003, avg_duration_ms=900.0, failed=False),
        SimpleNamespace(memory_mb=512, avg_cost_usd=0.000002, avg_duration_ms=150.0, failed=False),
    ]

    assert recommend(rows, "cost").memory_mb == 512


# ----------------------------------------------------------------- pareto_frontier


def test_pareto_frontier_keeps_the_non_dominated_sizes_sorted_by_duration():
    f_3008 = Candidate(3008, Decimal("0.0000050"), 210.0, False)  # slower and dearer than 1024

    frontier = pareto_frontier([*SWEEP, f_3008])

    # 128 is beaten by 256 (faster and cheaper); 3008 by 1024; 2048 failed.
    assert frontier == [D_1024, C_512, B_256]


def test_pareto_frontier_of_failed_sizes_is_empty():
    assert pareto_frontier([E_2048_FAILED]) == []
