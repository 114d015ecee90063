"""15-minute rollups built from the minutes a collection stores, as it stores them (stdlib only).

Aggregating them again from the stored points cost a collection as much time as writing the
points. A collection reads every series from the start of a quarter-hour, window after
window in time order, so the minutes of each quarter it touches all pass through here: a
quarter cut by the end of a window is completed by the next window of its series, and the
last one (up to the current minute) is rolled up again by the next collection, which reads
from before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

QUARTER_MINUTES = 15
QUARTER = timedelta(minutes=QUARTER_MINUTES)

#: (series id, quarter start, count, total, minimum, maximum): a MetricQuarter row
Row = tuple[int, datetime, int, float, float, float]


def floor_quarter(ts: datetime) -> datetime:
    ts = ts.astimezone(UTC)
    return ts.replace(minute=ts.minute - ts.minute % QUARTER_MINUTES, second=0, microsecond=0)


class QuarterRollups:
    """Quarters of the series being collected: rows of the complete ones as windows arrive,
    the unfinished ones at the end (``rest``)."""

    def __init__(self) -> None:
        self._open: dict[int, list] = {}  # series -> [start, count, total, minimum, maximum]

    def add(self, series_id: int, start: datetime, values: Sequence[float | None]) -> list[Row]:
        """The minutes of [start, start + len(values)) of one series (None: not published);
        returns the rows of the quarters they complete."""
        rows: list[Row] = []
        into = start.minute % QUARTER_MINUTES  # minutes of the first quarter before ``start``
        quarter = floor_quarter(start)
        current = self._open.pop(series_id, None)
        i = 0
        while i < len(values):
            minutes = values[i : i + QUARTER_MINUTES - into]
            if current is not None and current[0] != quarter:  # a gap: it ends as it is
                rows += _row(series_id, current)
                current = None
            if current is None:
                current = [quarter, 0, 0.0, None, None]
            known = minutes if None not in minutes else [v for v in minutes if v is not None]
            if known:
                current[1] += len(known)
                current[2] += sum(known)
                low, high = min(known), max(known)
                current[3] = low if current[3] is None else min(current[3], low)
                current[4] = high if current[4] is None else max(current[4], high)
            if into + len(minutes) == QUARTER_MINUTES:
                rows += _row(series_id, current)
                current = None
            i += len(minutes)
            into = 0
            quarter += QUARTER
        if current is not None:
            self._open[series_id] = current
        return rows

    def rest(self, series_ids: set[int]) -> list[Row]:
        """The unfinished quarters of ``series_ids`` (the last ones, up to the collection's
        end), forgetting every unfinished one."""
        rows = [r for sid, q in self._open.items() if sid in series_ids for r in _row(sid, q)]
        self._open.clear()
        return rows


def _row(series_id: int, quarter: list) -> list[Row]:
    """The row of a quarter, none when nothing was published in it."""
    return [(series_id, *quarter)] if quarter[1] else []
