"""Comparing runs: the ids asked for, the labels and the per-size changes against the first."""

import uuid
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from tuning.compare import comparison_table, ids_from_query, label, percent_change

A = uuid.UUID("11111111-1111-4111-8111-111111111111")
B = uuid.UUID("22222222-2222-4222-8222-222222222222")
C = uuid.UUID("33333333-3333-4333-8333-333333333333")


@pytest.mark.parametrize(
    ("values", "ids"),
    [
        ([], []),
        ([f"{A},{B}"], [A, B]),
        ([str(B), str(A)], [B, A]),  # the order asked for: the first is the baseline
        ([f" {A} , {B} ,", str(C)], [A, B, C]),
        ([f"{A},{A}", str(A).upper()], [A]),  # duplicates dropped
        ([f"{A},not-a-uuid,,42", ""], [A]),
    ],
)
def test_ids_come_from_repeated_and_comma_separated_values(values, ids):
    assert ids_from_query(values) == ids


def test_a_run_is_labelled_by_function_start_and_short_id():
    run = SimpleNamespace(function_name="checkout", created_at=datetime(2026, 3, 4, 5, 6), id=A)
    assert label(run) == "checkout · 2026-03-04 05:06 · 11111111"


@pytest.mark.parametrize(
    ("new", "old", "change"),
    [
        (150.0, 400.0, -62.5),
        (165.0, 150.0, 10.0),
        (Decimal("0.000003"), Decimal("0.000002"), 50.0),
        (5.0, 5.0, 0.0),
        (None, 5.0, None),
        (5.0, None, None),
        (5.0, 0, None),
    ],
)
def test_changes_are_in_percent_of_the_old_figure(new, old, change):
    assert percent_change(new, old) == (None if change is None else pytest.approx(change))


def result(memory_mb, duration_ms, cost_usd):
    return SimpleNamespace(
        memory_mb=memory_mb,
        avg_duration_ms=duration_ms,
        avg_cost_usd=None if cost_usd is None else Decimal(cost_usd),
    )


BEFORE = [result(512, 400.0, "0.0000035"), result(1024, 150.0, "0.0000027")]
AFTER = [result(512, 150.0, "0.0000014"), result(1024, 165.0, "0.0000030")]


def test_each_size_shows_the_change_of_every_other_run_against_the_baseline():
    table = comparison_table([("before", BEFORE), ("after", AFTER), ("again", BEFORE)])
    assert [row["memory_mb"] for row in table] == [512, 1024]
    at_512, at_1024 = table
    assert at_512["baseline"] is BEFORE[0]
    after, again = at_512["others"]
    assert after["result"] is AFTER[0]
    assert after["duration_pct"] == pytest.approx(-62.5)
    assert after["cost_pct"] == pytest.approx(-60.0)
    assert (again["duration_pct"], again["cost_pct"]) == (0.0, 0.0)
    after = at_1024["others"][0]
    assert after["duration_pct"] == pytest.approx(10.0)
    assert after["cost_pct"] == pytest.approx(100 / 9)


def test_sizes_tested_by_one_run_only_have_no_change():
    baseline = [result(512, 400.0, "0.0000035")]
    other = [result(128, 1600.0, "0.0000034"), result(512, 300.0, "0.0000026")]
    table = comparison_table([("baseline", baseline), ("other", other)])
    assert [row["memory_mb"] for row in table] == [128, 512]
    only_other = table[0]
    assert only_other["baseline"] is None
    assert only_other["others"] == [{"result": other[0], "duration_pct": None, "cost_pct": None}]
    table = comparison_table([("other", other), ("baseline", baseline)])
    assert table[0]["others"] == [{"result": None, "duration_pct": None, "cost_pct": None}]


def test_a_baseline_size_without_figures_is_no_baseline():
    failed = [result(512, None, None)]
    table = comparison_table([("failed", failed), ("other", [result(512, 300.0, "0.0000026")])])
    assert table[0]["baseline"] is None
    assert table[0]["others"][0]["duration_pct"] is None


def test_an_other_run_without_figures_at_a_size_has_no_change():
    table = comparison_table([("baseline", BEFORE), ("failed", [result(512, None, None)])])
    assert table[0]["others"][0]["duration_pct"] is None
    assert table[0]["others"][0]["cost_pct"] is None
