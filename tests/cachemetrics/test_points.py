"""Reading stored points: minutes for short windows, hourly rollups plus newer minutes for long
ones, 15-minute rollups for buckets made of quarters, and windows that end where collection
stopped."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cachemetrics import catalog, rollup
from cachemetrics.models import DaxCluster, MetricPoint, MetricQuarter, MetricRollup, MetricSeries
from cachemetrics.points import aggregates, covered_hours, window_end
from cachemetrics.quarters import QuarterRollups
from tests.cachemetrics.conftest import T0

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def series():
    """Hits for 3 days up to T0: every hour but the last rolled up (1 per minute), the minutes of
    the last 3 hours still stored (1 per minute, then 2 per minute in the hour not rolled up)."""
    cluster = DaxCluster.objects.create(
        region="us-east-1", name="orders-cache", arn="arn:aws:dax:::cache/orders-cache"
    )
    s = MetricSeries.objects.create(
        key="hits",
        cluster=cluster,
        namespace=catalog.DAX_NAMESPACE,
        metric=catalog.ITEM_HITS,
        statistic=catalog.SUM,
        collected_until=T0,
        rolled_up_until=T0 - HOUR,
    )
    MetricRollup.objects.bulk_create(
        MetricRollup(series=s, hour=T0 - h * HOUR, count=60, total=60.0, minimum=1.0, maximum=1.0)
        for h in range(2, 73)
    )
    MetricPoint.objects.bulk_create(
        MetricPoint(series=s, ts=T0 - m * MINUTE, value=2.0 if m <= 60 else 1.0)
        for m in range(1, 181)
    )
    return s


def test_a_long_window_reads_the_rollups_and_the_minutes_after_the_last_rolled_up_hour(series):
    totals = aggregates([series], T0 - timedelta(days=7), T0)

    assert totals[series.pk][None].total == 71 * 60 * 1.0 + 60 * 2.0


def test_a_short_window_reads_its_rolled_up_hours_from_the_rollups_and_the_rest_from_minutes(
    series,
):
    # (the fixture's rollups stand for minutes it does not store: which one was read shows)
    totals = aggregates([series], T0 - timedelta(hours=24), T0)

    assert totals[series.pk][None].total == 23 * 60 * 1.0 + 60 * 2.0


def test_partial_hours_at_both_ends_of_a_short_window_come_from_the_minutes(series):
    totals = aggregates([series], T0 - 150 * MINUTE, T0 - 30 * MINUTE)

    # 30 minutes, one rolled-up hour (T0 - 2 h), 30 minutes of the hour not rolled up
    assert totals[series.pk][None].total == 30 * 1.0 + 60 * 1.0 + 30 * 2.0
    assert totals[series.pk][None].count == 30 + 60 + 30


def test_a_short_window_reads_only_minutes_while_a_series_has_no_rollup(series):
    series.rolled_up_until = None
    series.save()

    totals = aggregates([series], T0 - timedelta(hours=24), T0)

    assert totals[series.pk][None].total == 120 * 1.0 + 60 * 2.0


def test_buckets_start_at_the_window_start(series):
    per_hour = aggregates([series], T0 - 3 * HOUR, T0, bucket_s=3600)

    assert {b: a.total for b, a in per_hour[series.pk].items()} == {
        T0 - 3 * HOUR: 60.0,
        T0 - 2 * HOUR: 60.0,
        T0 - HOUR: 120.0,
    }


def test_covered_hours_count_from_the_first_stored_minute_or_rolled_up_hour(series):
    assert covered_hours([series.pk], T0 - 150 * MINUTE, T0 - 30 * MINUTE) == 2.0
    assert covered_hours([series.pk], T0 - 3 * HOUR, T0) == 3.0
    assert covered_hours([series.pk], T0 - 10 * HOUR, T0) == 10.0  # rollups before the minutes
    assert covered_hours([series.pk], T0 - timedelta(days=30), T0) == 72.0
    assert covered_hours([series.pk], T0 - 10 * HOUR, T0 - 8 * HOUR - 30 * MINUTE) == 1.5
    assert covered_hours([series.pk], T0 + HOUR, T0 + 2 * HOUR) is None


def test_windows_end_at_the_last_collected_minute(series):
    assert window_end([series]) == T0


QUARTER = timedelta(minutes=15)


def roll_quarters(series: MetricSeries, start, end) -> None:
    """The 15-minute rollups a collection of [start, end) (from a quarter-hour on) writes."""
    stored = dict(series.points.filter(ts__gte=start, ts__lt=end).values_list("ts", "value"))
    minutes = [stored.get(start + m * MINUTE) for m in range((end - start) // MINUTE)]
    quarters = QuarterRollups()
    rows = quarters.add(series.pk, start, minutes) + quarters.rest({series.pk})
    MetricQuarter.objects.bulk_create(
        MetricQuarter(series=series, start=at, count=n, total=t, minimum=lo, maximum=hi)
        for _, at, n, t, lo, hi in rows
    )
    series.quarters_from = start
    series.save()


def test_quarter_buckets_read_the_15_minute_rollups_and_the_minutes_around_them(series):
    MetricQuarter.objects.bulk_create(  # stand for minutes: which one was read shows
        MetricQuarter(
            series=series, start=T0 - q * QUARTER, count=15, total=100.0, minimum=1.0, maximum=9.0
        )
        for q in range(1, 5)
    )
    series.quarters_from = T0 - HOUR
    series.save()

    # from 7 minutes into a quarter (those 8 minutes are read) to 5 minutes into the last one
    start, end = T0 - HOUR - 8 * MINUTE, T0 - 10 * MINUTE
    per_quarter = aggregates([series], start, end, 900, origin=T0 - HOUR - QUARTER)

    assert {b: a.total for b, a in per_quarter[series.pk].items()} == {
        T0 - HOUR - QUARTER: 8 * 1.0,
        T0 - HOUR: 100.0,
        T0 - 45 * MINUTE: 100.0,
        T0 - 30 * MINUTE: 100.0,
        T0 - QUARTER: 5 * 2.0,
    }
    assert per_quarter[series.pk][T0 - HOUR].maximum == 9.0


def test_quarter_buckets_read_minutes_before_the_first_15_minute_rollup(series):
    roll_quarters(series, T0 - HOUR, T0)
    start = T0 - 2 * HOUR

    with_rollups = aggregates([series], start, T0, 900)
    series.quarters_from = None
    series.save()
    from_minutes = aggregates([series], start, T0, 900)

    assert with_rollups == from_minutes
    assert len(from_minutes[series.pk]) == 8


def test_hours_are_rolled_up_from_the_15_minute_rollups_from_the_first_whole_hour_with_them(
    series,
):
    MetricRollup.objects.all().delete()
    series.rolled_up_until = None
    series.save()
    roll_quarters(series, T0 - 105 * MINUTE, T0)
    # a minute changed after its quarter was rolled up: which one was read shows
    MetricPoint.objects.filter(series=series, ts=T0 - 5 * MINUTE).update(value=100.0)

    written = rollup.rollup(now=T0)

    hours = {
        r.hour: (r.count, r.total, r.minimum, r.maximum)
        for r in MetricRollup.objects.filter(series=series)
    }
    assert written == len(hours) == 3  # the minutes kept: T0 - 3 h to T0
    assert hours[T0 - 3 * HOUR] == (60, 60.0, 1.0, 1.0)  # from minutes
    assert hours[T0 - 2 * HOUR] == (60, 60.0, 1.0, 1.0)  # from minutes: quarters begin in it
    assert hours[T0 - HOUR] == (60, 120.0, 2.0, 2.0)  # from the four quarters
