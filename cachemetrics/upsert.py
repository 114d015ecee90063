"""Bulk upsert of plain rows (tuples) into a table with a composite primary key.

The collector writes millions of 1-minute points per first collection of a fleet. Building a
model instance per point and letting ``bulk_create(update_conflicts=True)`` render every value
into the SQL costs far more than the database's own work, so on PostgreSQL the rows go through
``COPY`` into a temporary table and one ``INSERT ... SELECT ... ON CONFLICT DO UPDATE`` per
batch. A row whose values did not change is not rewritten (a re-collection of the same minutes
leaves the table as it is). Other databases (the embedded SQLite default) use
``bulk_create``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import IntegrityError, connection, transaction

BATCH = 200_000  # rows per COPY + INSERT: bounds the temporary table and the memory used
ORM_BATCH = 5_000


def upsert_rows(
    model, keys: Sequence[str], values: Sequence[str], rows: list[tuple], fresh: bool = False
) -> None:
    """Insert ``rows`` (tuples of the ``keys`` then ``values`` columns, by attname) into
    ``model``'s table; a row whose keys exist updates the values. ``fresh``: the caller
    checked that none of the keys exist (on PostgreSQL the rows are then copied straight in,
    about twice as fast; if some exist after all, the batch is upserted instead)."""
    if not rows:
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Waiting for the WAL flush of every batch is most of a bulk load's time on a busy
            # disk. Safe here: a later synchronous commit (the collection's watermark) flushes
            # these too, and until then a crash only means the minutes are collected again.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            table = model._meta.db_table
            for i in range(0, len(rows), BATCH):
                batch = rows[i : i + BATCH]
                if fresh:
                    try:
                        with transaction.atomic():
                            _copy(table, [*keys, *values], batch)
                        continue
                    except IntegrityError:  # another collection wrote some of them meanwhile
                        pass
                _copy_upsert(table, keys, values, batch)
        else:
            _orm_upsert(model, keys, values, rows)


def _copy(table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    names = ", ".join(f'"{c}"' for c in columns)
    # psycopg's own cursor (Django's has no COPY): its errors wrapped as Django's
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy,
    ):
        copy.write(copy_text(rows))


def copy_text(rows: list[tuple]) -> str:
    """``rows`` of numbers and datetimes in COPY's text format. Written here rather than by
    psycopg's ``write_row`` (4x slower per row); each distinct timestamp is formatted once
    (a batch holds hundreds of series over the same minutes). Nothing here needs escaping."""
    stamps: dict[datetime, str] = {}
    lines = [
        "\t".join(
            [
                (stamps.get(v) or stamps.setdefault(v, v.isoformat()))
                if isinstance(v, datetime)
                else "\\N"
                if v is None
                else str(v)
                for v in row
            ]
        )
        for row in rows
    ]
    lines.append("")
    return "\n".join(lines)


def _copy_upsert(table: str, keys: Sequence[str], values: Sequence[str], rows: list[tuple]):
    columns = [*keys, *values]
    names = ", ".join(f'"{c}"' for c in columns)
    changed = " OR ".join(f'"{table}"."{c}" IS DISTINCT FROM EXCLUDED."{c}"' for c in values)
    updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in values)
    with connection.cursor() as cursor:
        cursor.execute(
            f'CREATE TEMP TABLE IF NOT EXISTS "tmp_{table}" '
            f'(LIKE "{table}" INCLUDING DEFAULTS) ON COMMIT DELETE ROWS'
        )
        _copy(f"tmp_{table}", columns, rows)
        cursor.execute(
            f'INSERT INTO "{table}" ({names}) SELECT {names} FROM "tmp_{table}" '  # noqa: S608
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates} WHERE {changed}"
        )
        cursor.execute(f'TRUNCATE "tmp_{table}"')


def _orm_upsert(model, keys: Sequence[str], values: Sequence[str], rows: list[tuple]) -> None:
    columns = [*keys, *values]
    objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
    fields = [model._meta.get_field(c.removesuffix("_id")).name for c in columns]
    model.objects.bulk_create(
        objects,
        batch_size=ORM_BATCH,
        update_conflicts=True,
        unique_fields=fields[: len(keys)],
        update_fields=fields[len(keys) :],
    )
