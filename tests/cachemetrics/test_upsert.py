"""Bulk upsert of points: new rows inserted, existing ones updated, a wrong "fresh" claim
(rows written meanwhile by another collection) still ends in an upsert."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cachemetrics.models import DaxCluster, MetricPoint, MetricQuarter, MetricSeries
from cachemetrics.upsert import upsert_rows
from tests.cachemetrics.conftest import T0

pytestmark = pytest.mark.django_db

MINUTE = timedelta(minutes=1)
KEYS, VALUES = ("series_id", "ts"), ("value",)


@pytest.fixture
def series():
    cluster = DaxCluster.objects.create(arn="arn:aws:dax:us-east-1:1:cache/c", name="c")
    return MetricSeries.objects.create(
        key="k", cluster=cluster, namespace="AWS/DAX", metric="ItemCacheHits", statistic="Sum"
    )


def stored(series) -> dict:
    return dict(MetricPoint.objects.filter(series=series).values_list("ts", "value"))


def test_new_rows_are_inserted_and_existing_ones_take_the_new_value(series):
    upsert_rows(MetricPoint, KEYS, VALUES, [(series.pk, T0 + m * MINUTE, 1.0) for m in range(3)])

    upsert_rows(MetricPoint, KEYS, VALUES, [(series.pk, T0 + m * MINUTE, 2.0) for m in (2, 3)])

    assert stored(series) == {T0: 1.0, T0 + MINUTE: 1.0, T0 + 2 * MINUTE: 2.0, T0 + 3 * MINUTE: 2.0}


def test_rows_claimed_fresh_that_exist_after_all_are_upserted(series):
    upsert_rows(MetricPoint, KEYS, VALUES, [(series.pk, T0, 1.0)])

    upsert_rows(
        MetricPoint, KEYS, VALUES, [(series.pk, T0, 5.0), (series.pk, T0 + MINUTE, 6.0)], fresh=True
    )

    assert stored(series) == {T0: 5.0, T0 + MINUTE: 6.0}


def test_rows_of_integers_floats_and_timestamps_are_stored_as_given(series):
    quarter = (series.pk, T0, 15, 22.5, 0.0, 3.25)

    upsert_rows(
        MetricQuarter,
        ("series_id", "start"),
        ("count", "total", "minimum", "maximum"),
        [quarter],
        fresh=True,
    )

    assert list(
        MetricQuarter.objects.values_list(
            "series_id", "start", "count", "total", "minimum", "maximum"
        )
    ) == [quarter]
