"""The ranges the cache pages offer."""

from __future__ import annotations

import pytest

from cachemetrics.ranges import DEFAULT_RANGE, RANGES, get_range


@pytest.mark.parametrize("key", [None, "", "2w"])
def test_a_missing_or_unknown_range_falls_back_to_24_hours(key):
    assert get_range(key).key == DEFAULT_RANGE == "24h"


@pytest.mark.parametrize("key", list(RANGES))
def test_every_range_is_a_whole_number_of_buckets(key):
    rng = get_range(key)

    assert rng.span.total_seconds() % rng.bucket_s == 0
    assert rng.hours == rng.span.total_seconds() / 3600
