"""How a collection cuts its series and time range into GetMetricData calls (pure, stdlib).

One call takes at most 500 queries and answers at most 100,800 datapoints without a NextToken
page. We give every call a budget of 500 x 180 one-minute datapoints (90,000): a full batch of
500 series asks for one 180-minute window. A batch with fewer series asks for a longer time
range with the same budget, so the last, partial batch does not cost one call per window.

For S series over W windows of 180 minutes this makes ceil(S x W / 500) calls: the full
batches take exactly one call per window; the r < 500 remaining series are split in at most two
groups, each with its own call length, found by a short search (exact whenever such a split
exists; checked for every r < 500 and W <= 12; beyond that the fewest calls the two-group
search finds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_QUERIES = 500  # GetMetricData limit per call
WINDOW_MINUTES = 180  # a full batch of 500 series asks for one 180-minute window
POINTS_PER_CALL = MAX_QUERIES * WINDOW_MINUTES  # 90,000: under the 100,800 of one answer


@dataclass(frozen=True)
class Call:
    """One GetMetricData call: series ``first`` .. ``first + count - 1`` over [start, end)."""

    first: int
    count: int
    start: datetime
    end: datetime


def split_minutes(start: datetime, minutes: int, parts: int) -> list[tuple[datetime, datetime]]:
    """[start, start + minutes) cut into ``parts`` ranges whose lengths differ by at most 1."""
    bounds = [start + timedelta(minutes=minutes * i // parts) for i in range(parts + 1)]
    return list(zip(bounds, bounds[1:], strict=False))


def _calls_for(rows: int, minutes: int) -> int:
    """Calls for ``rows`` series over ``minutes`` when every call takes all of them."""
    return math.ceil(minutes / (POINTS_PER_CALL // rows))


def _remainder_groups(rows: int, minutes: int) -> list[tuple[int, int]]:
    """(series, calls) groups for fewer than 500 series, as few calls in total as found."""
    if rows == 0:
        return []
    if rows * minutes <= POINTS_PER_CALL:
        return [(rows, 1)]
    fewest = math.ceil(rows * minutes / POINTS_PER_CALL)
    for total in range(fewest, _calls_for(rows, minutes) + 1):
        for first_calls in range(total, 0, -1):
            first_rows = min(rows, POINTS_PER_CALL // math.ceil(minutes / first_calls))
            rest = rows - first_rows
            if rest == 0:
                return [(rows, first_calls)]
            rest_calls = total - first_calls
            if rest_calls and rest * math.ceil(minutes / rest_calls) <= POINTS_PER_CALL:
                return [(first_rows, first_calls), (rest, rest_calls)]
    return [(rows, _calls_for(rows, minutes))]  # not reached: the last total always fits


def plan_calls(series_count: int, start: datetime, end: datetime) -> list[Call]:
    """The GetMetricData calls that fetch ``series_count`` series over [start, end)
    (whole minutes), each within 500 queries and 90,000 datapoints."""
    minutes = int((end - start).total_seconds() // 60)
    if series_count <= 0 or minutes <= 0:
        return []
    calls = []
    full = series_count - series_count % MAX_QUERIES
    windows = math.ceil(minutes / WINDOW_MINUTES)
    for first in range(0, full, MAX_QUERIES):
        for i in range(windows):
            w_start = start + timedelta(minutes=i * WINDOW_MINUTES)
            w_end = min(w_start + timedelta(minutes=WINDOW_MINUTES), end)
            calls.append(Call(first, MAX_QUERIES, w_start, w_end))
    first = full
    for rows, parts in _remainder_groups(series_count - full, minutes):
        calls.extend(Call(first, rows, a, b) for a, b in split_minutes(start, minutes, parts))
        first += rows
    return calls
