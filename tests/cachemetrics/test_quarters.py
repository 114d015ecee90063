"""15-minute rollups built from the minutes as a collection reads them, window after window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cachemetrics.quarters import QuarterRollups, floor_quarter

T = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def test_a_window_of_whole_quarters_gives_their_count_sum_minimum_and_maximum():
    values = [float(m) for m in range(30)]

    rows = QuarterRollups().add(7, T, values)

    assert rows == [
        (7, T, 15, sum(range(15)), 0.0, 14.0),
        (7, T + 15 * MINUTE, 15, 330.0, 15.0, 29.0),
    ]


def test_a_quarter_cut_by_the_end_of_a_window_is_completed_by_the_next_one():
    quarters = QuarterRollups()

    first = quarters.add(7, T, [1.0] * 20)
    second = quarters.add(7, T + 20 * MINUTE, [2.0] * 10 + [None] * 5)

    assert first == [(7, T, 15, 15.0, 1.0, 1.0)]
    assert second == [(7, T + 15 * MINUTE, 15, 5.0 + 20.0, 1.0, 2.0)]


def test_unpublished_minutes_count_for_nothing_and_an_empty_quarter_has_no_row():
    rows = QuarterRollups().add(7, T, [None] * 15 + [None, 4.0] + [None] * 13)

    assert rows == [(7, T + 15 * MINUTE, 1, 4.0, 4.0, 4.0)]


def test_the_last_unfinished_quarters_come_out_at_the_end_for_the_series_asked():
    quarters = QuarterRollups()
    quarters.add(7, T, [1.0] * 22)
    quarters.add(8, T, [3.0] * 22)

    rest = quarters.rest({7})

    assert rest == [(7, T + 15 * MINUTE, 7, 7.0, 1.0, 1.0)]
    assert quarters.rest({7, 8}) == []  # forgotten once given


def test_a_gap_between_windows_ends_the_quarter_where_it_was():
    quarters = QuarterRollups()
    quarters.add(7, T, [1.0] * 5)

    rows = quarters.add(7, T + 30 * MINUTE, [2.0] * 15)

    assert rows == [(7, T, 5, 5.0, 1.0, 1.0), (7, T + 30 * MINUTE, 15, 30.0, 2.0, 2.0)]


def test_quarters_fall_on_the_clock_in_utc():
    paris = datetime(2026, 3, 2, 13, 44, 59, tzinfo=UTC).astimezone(ZoneInfo("Europe/Paris"))

    assert floor_quarter(paris) == datetime(2026, 3, 2, 13, 30, tzinfo=UTC)
