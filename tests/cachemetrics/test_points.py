"""Reading stored points: minutes for short windows, hourly rollups plus newer minutes for long
ones, 15-minute rollups for buckets made of quarters, and windows that end where collection
stopped."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cachemetrics import catalog, rollup
from cachemetrics.models import DaxCluster, MetricPoint, MetricQuarter, MetricRollup, MetricSeries
from cachemetrics.points import aggregates, window_end
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
    totals = aggregates([series.pk], T0 - timedelta(days=7), T0)

    assert totals[series.pk][None].total == 71 * 60 * 1.0 + 60 * 2.0


def test_a_short_window_reads_its_rolled_up_hours_from_the_rollups_and_the_rest_from_minutes(
    series,
):
    # (the fixture's rollups stand for minutes it does not store: which one was read shows)
    totals = aggregates([series.pk], T0 - timedelta(hours=24), T0)

    assert totals[series.pk][None].total == 23 * 60 * 1.0 + 60 * 2.0


def test_partial_hours_at_both_ends_of_a_short_window_come_from_the_minutes(series):
    totals = aggregates([series.pk], T0 - 150 * MINUTE, T0 - 30 * MINUTE)

    # 30 minutes, one rolled-up hour (T0 - 2 h), 30 minutes of the hour not rolled up
    assert totals[series.pk][None].total == 30 * 1.0 + 60 * 1.0 + 30 * 2.0
    assert totals[series.pk][None].count == 30 + 60 + 30


def test_a_short_window_reads_only_minutes_while_a_series_has_no_rollup(series):
    series.rolled_up_until = None
    series.save()

    totals = aggregates([series.pk], T0 - timedelta(hours=24), T0)

    assert totals[series.pk][None].total == 120 * 1.0 + 60 * 2.0


def test_buckets_start_at_the_window_start(series):
    per_hour = aggregates([series.pk], T0 - 3 * HOUR, T0, bucket_s=3600)

    assert {b: a.total for b, a in per_hour[series.pk].items()} == {
        T0 - 3 * HOUR: 60.0,
        T0 - 2 * HOUR: 60.0,
        T0 - HOUR: 120.0,
    }


def test_windows_end_at_the_last_collected_minute(series):
    assert window_end([series]) == T0


QUARTER = timedelta(minutes=15)


def test_15_minute_rollups_hold_the_count_sum_minimum_and_maximum_of_their_minutes(series):
    MetricPoint.objects.filter(series=series, ts=T0 - 7 * MINUTE).update(value=5.0)

    # the quarter T0 - 22 min falls in and every quarter after it, the last one up to T0 - 1 min
    written = rollup.roll_quarters([series.pk], T0 - 22 * MINUTE, T0 - MINUTE)

    rows = {
        q.start: (q.count, q.total, q.minimum, q.maximum)
        for q in MetricQuarter.objects.filter(series=series)
    }
    assert written == 2
    assert rows == {T0 - 30 * MINUTE: (15, 30.0, 2.0, 2.0), T0 - QUARTER: (14, 31.0, 2.0, 5.0)}
    series.refresh_from_db()
    assert series.quarters_from == T0 - 30 * MINUTE

    rollup.roll_quarters([series.pk], T0 - 12 * MINUTE, T0)  # the next collection, up to T0
    last = MetricQuarter.objects.get(series=series, start=T0 - QUARTER)
    assert (last.count, last.total) == (15, 33.0)
    series.refresh_from_db()
    assert series.quarters_from == T0 - 30 * MINUTE  # where the rollups began


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
    per_quarter = aggregates([series.pk], start, end, 900, origin=T0 - HOUR - QUARTER)

    assert {b: a.total for b, a in per_quarter[series.pk].items()} == {
        T0 - HOUR - QUARTER: 8 * 1.0,
        T0 - HOUR: 100.0,
        T0 - 45 * MINUTE: 100.0,
        T0 - 30 * MINUTE: 100.0,
        T0 - QUARTER: 5 * 2.0,
    }
    assert per_quarter[series.pk][T0 - HOUR].maximum == 9.0


def test_quarter_buckets_read_minutes_before_the_first_15_minute_rollup(series):
    rollup.roll_quarters([series.pk], T0 - HOUR, T0)
    start = T0 - 2 * HOUR

    with_rollups = aggregates([series.pk], start, T0, 900)
    series.quarters_from = None
    series.save()
    from_minutes = aggregates([series.pk], start, T0, 900)

    assert with_rollups == from_minutes
    assert len(from_minutes[series.pk]) == 8
