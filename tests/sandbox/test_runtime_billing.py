"""Billed duration rules (AWS on-demand, INIT billed since 1 Aug 2025)."""

from sandbox.runtime.billing import billed_duration_ms


def test_it_rounds_a_warm_invocation_up_to_the_next_millisecond():
    assert billed_duration_ms(102.35) == 103
    assert billed_duration_ms(102.01, None) == 103


def test_it_does_not_round_up_a_whole_millisecond():
    assert billed_duration_ms(250.0) == 250


def test_it_ignores_float_noise_just_above_a_whole_millisecond():
    assert billed_duration_ms(0.1 + 0.2 + 99.7) == 100


def test_it_bills_at_least_one_millisecond():
    assert billed_duration_ms(0.0) == 1
    assert billed_duration_ms(0.04) == 1


def test_it_bills_init_and_duration_together_on_a_cold_start():
    assert billed_duration_ms(102.35, 180.12) == 283
    assert billed_duration_ms(0.5, 0.4) == 1
    assert billed_duration_ms(100.6, 100.6) == 202
