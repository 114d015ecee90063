"""The ranges the cache pages offer: presets, and custom from/to ranges checked by RangeForm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.http import QueryDict

from cachemetrics.forms import RangeForm, range_query
from cachemetrics.ranges import DEFAULT_RANGE, RANGES, custom_range, get_range


@pytest.mark.parametrize("key", [None, "", "2w"])
def test_a_missing_or_unknown_range_falls_back_to_24_hours(key):
    assert get_range(key).key == DEFAULT_RANGE == "24h"


@pytest.mark.parametrize("key", list(RANGES))
def test_every_range_is_a_whole_number_of_buckets(key):
    rng = get_range(key)

    assert rng.span.total_seconds() % rng.bucket_s == 0
    assert rng.hours == rng.span.total_seconds() / 3600


# --------------------------------------------------------------------------- custom ranges

NOW = datetime(2026, 3, 2, 12, 0, 30, tzinfo=UTC)
KEEP = timedelta(days=456)


def form(**data) -> RangeForm:
    return RangeForm(QueryDict(urlencode(data)), now=NOW, rollup_keep=KEEP)


def test_a_recent_custom_range_is_drawn_in_minutes_from_its_own_start():
    rng = custom_range(NOW - timedelta(minutes=90, seconds=20), NOW, NOW)

    assert rng.is_custom and rng.key == "custom" and rng.rollups is False
    assert rng.start == datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    assert rng.end == datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert rng.bucket_s == 300 and rng.bucket_count == 18
    assert rng.window(NOW - timedelta(days=3)) == (rng.start, rng.end)  # fixed, not sliding


def test_a_custom_range_older_than_the_kept_minutes_is_drawn_in_whole_hours():
    start = NOW - timedelta(days=20, minutes=50)
    rng = custom_range(start, start + timedelta(hours=3), NOW)

    assert rng.rollups is True
    assert rng.start.minute == 0 and rng.bucket_s == 3600


def test_a_long_custom_range_gets_a_coarse_bucket():
    rng = custom_range(NOW - timedelta(days=90), NOW, NOW)
    assert rng.rollups is True and rng.bucket_s == 86400 and rng.bucket_count <= 200


def test_the_form_accepts_a_datetime_local_range_and_gives_the_custom_range():
    f = form(**{"from": "2026-03-01T08:00", "to": "2026-03-02T08:00"})

    assert f.custom and f.is_valid(), f.errors
    rng = f.selected()
    assert (rng.start, rng.end) == (
        datetime(2026, 3, 1, 8, 0, tzinfo=UTC),
        datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    )
    assert range_query(rng) == "from=2026-03-01T08%3A00&to=2026-03-02T08%3A00"


def test_without_from_and_to_the_preset_is_used_without_errors():
    f = form(range="7d")
    assert not f.custom and f.is_valid() and f.selected().key == "7d"
    assert range_query(f.selected()) == "range=7d"
    assert form(range="forever").selected().key == "24h"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"from": "2026-03-02T10:00", "to": "2026-03-02T09:00"}, "from", "start before it ends"),
        ({"from": "2026-03-02T10:00", "to": "2026-03-02T10:00"}, "from", "start before it ends"),
        ({"from": "2026-03-02T10:00", "to": "2026-03-02T10:03"}, "to", "at least 5 minutes"),
        ({"from": "2026-03-02T10:00", "to": "2026-03-02T12:01"}, "to", "in the future"),
        ({"from": "2024-01-01T00:00", "to": "2026-03-02T10:00"}, "from", "kept 456 days"),
        ({"from": "2026-03-02T10:00"}, "to", "both ends"),
        ({"to": "2026-03-02T10:00"}, "from", "both ends"),
        ({"from": "yesterday", "to": "2026-03-02T10:00"}, "from", "valid date/time"),
        ({"from": "2026-02-30T10:00", "to": "2026-03-02T10:00"}, "from", "valid date/time"),
    ],
)
def test_a_bad_custom_range_gets_a_clear_field_error_and_the_default_range(data, field, message):
    f = form(range="6h", **data)

    assert not f.is_valid()
    assert any(message in error for error in f.errors[field]), f.errors
    assert f.selected().key == "6h"  # the page still shows something


def test_a_date_whose_timezone_conversion_overflows_is_refused_not_crashed():
    f = form(**{"from": "0001-01-01T00:00:00+14:00", "to": "2026-03-02T10:00"})
    assert not f.is_valid()
    assert f.selected().key == "24h"
