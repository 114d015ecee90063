"""Keyset ("cursor") pages of run history, newest first.

An OFFSET page costs the database every row before it, and its contents shift when runs are
added. A keyset page starts after the last row seen, ordered by (created_at, id): any depth
costs the same, and a link to older runs shows the same runs however many are added later.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from dataclasses import dataclass

from django.db.models import Q, QuerySet

#: The order every history page uses; a unique key, so a cursor names one position.
ORDER = ("-created_at", "-id")


class BadCursor(ValueError):
    """A cursor that this module did not write (edited, truncated or from elsewhere)."""


@dataclass(frozen=True)
class HistoryPage:
    rows: list
    newer: str | None  # cursor for the page of newer runs, None on the first page
    older: str | None  # cursor for the page of older runs, None on the last page


def cursor_of(run) -> str:
    """An opaque, URL-safe position just after/before ``run``."""
    text = f"{run.created_at.isoformat()}|{run.id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def parse_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, _, run_id = (
            base64.urlsafe_b64decode(padded.encode("ascii")).decode().partition("|")
        )
        position = dt.datetime.fromisoformat(created), uuid.UUID(run_id)
    except (ValueError, UnicodeError, binascii.Error) as error:
        raise BadCursor("this page link is not valid: start again from the newest runs") from error
    if position[0].tzinfo is None:
        raise BadCursor("this page link is not valid: start again from the newest runs")
    return position


def _older_than(position) -> Q:
    """Runs after ``position`` in the history's order. The first condition is implied by the
    others; PostgreSQL starts its index scan with it (without it the OR filtered every row from
    the newest on: a page 5,000 runs deep read and dropped 5,000 rows first)."""
    created, run_id = position
    return Q(created_at__lte=created) & (
        Q(created_at__lt=created) | Q(created_at=created, id__lt=run_id)
    )


def _newer_than(position) -> Q:
    created, run_id = position
    return Q(created_at__gte=created) & (
        Q(created_at__gt=created) | Q(created_at=created, id__gt=run_id)
    )


def page(
    queryset: QuerySet, size: int, before: str | None = None, after: str | None = None
) -> HistoryPage:
    """``size`` runs older than the ``before`` cursor, or newer than ``after``, or the newest.

    One query (plus the queryset's prefetches): one extra row says whether there is more.
    Raises :class:`BadCursor` for a cursor this module did not write.
    """
    if after:
        scope = queryset.filter(_newer_than(parse_cursor(after)))
        rows = list(scope.order_by("created_at", "id")[: size + 1])
        more_newer, more_older = len(rows) > size, True
        rows = rows[:size][::-1]
    else:
        scope = queryset.filter(_older_than(parse_cursor(before))) if before else queryset
        rows = list(scope.order_by(*ORDER)[: size + 1])
        more_newer, more_older = bool(before), len(rows) > size
        rows = rows[:size]
    if not rows:
        # Past an end (the runs beyond it were deleted): offer the way back, nothing onward.
        return HistoryPage(rows=[], newer=before or None, older=after or None)
    return HistoryPage(
        rows=rows,
        newer=cursor_of(rows[0]) if more_newer else None,
        older=cursor_of(rows[-1]) if more_older else None,
    )
