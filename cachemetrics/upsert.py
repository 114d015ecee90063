"""Bulk upsert of plain rows (tuples) into a table with a composite primary key.

The collector writes millions of 1-minute points per first collection of a fleet. Building a
model instance per point and letting ``bulk_create(update_conflicts=True)`` render every value
into the SQL costs far more than the database's own work, so on PostgreSQL the rows go through
binary ``COPY``: straight into the table when they are new, else into a temporary table and
then one ``INSERT ... SELECT ... ON CONFLICT DO UPDATE`` per batch. A row whose values did not
change is not rewritten (a re-collection of the same minutes leaves the table as it is). Other
databases (the embedded SQLite default) use ``bulk_create``.
"""

from __future__ import annotations

from collections.abc import Sequence

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
            types = column_types(model, [*keys, *values])
            for i in range(0, len(rows), BATCH):
                batch = rows[i : i + BATCH]
                if fresh:
                    try:
                        with transaction.atomic():
                            _copy(table, [*keys, *values], types, batch)
                        continue
                    except IntegrityError:  # another collection wrote some of them meanwhile
                        pass
                _copy_upsert(table, keys, values, types, batch)
        else:
            _orm_upsert(model, keys, values, rows)


def _copy(table: str, columns: Sequence[str], types: Sequence[str], rows: list[tuple]) -> None:
    """COPY ``rows`` into ``table`` in the binary format, the columns being of the database
    ``types``: psycopg writes each row in C, and the server parses no text (timestamps
    above all): about a third of the text format's time on both sides."""
    names = ", ".join(f'"{c}"' for c in columns)
    # psycopg's own cursor (Django's has no COPY): its errors wrapped as Django's
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(f'COPY "{table}" ({names}) FROM STDIN (FORMAT BINARY)') as copy,
    ):
        copy.set_types(types)
        write_row = copy.write_row
        for row in rows:
            write_row(row)


def column_types(model, columns: Sequence[str]) -> list[str]:
    """The database types of ``model``'s ``columns`` (by attname), as COPY's binary format
    needs them."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    return [fields[c].db_type(connection) for c in columns]


def _copy_upsert(
    table: str, keys: Sequence[str], values: Sequence[str], types: Sequence[str], rows: list[tuple]
):
    columns = [*keys, *values]
    names = ", ".join(f'"{c}"' for c in columns)
    changed = " OR ".join(f'"{table}"."{c}" IS DISTINCT FROM EXCLUDED."{c}"' for c in values)
    updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in values)
    with connection.cursor() as cursor:
        cursor.execute(
            f'CREATE TEMP TABLE IF NOT EXISTS "tmp_{table}" '
            f'(LIKE "{table}" INCLUDING DEFAULTS) ON COMMIT DELETE ROWS'
        )
        _copy(f"tmp_{table}", columns, types, rows)
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
