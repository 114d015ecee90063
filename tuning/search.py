"""History search: the run text it looks in, and its trigram indexes on PostgreSQL.

``icontains`` compiles to ``UPPER(x::text) LIKE UPPER('%…%')``: a GIN index with
``gin_trgm_ops`` on exactly that expression answers it without reading every run. SQLite (the
embedded default, holding one user's history) has no such index and scans.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db.models import F, Func, OrderBy, TextField
from django.db.models.functions import Cast, Collate, Upper
from django.db.models.indexes import IndexExpression


class _SpaceJoined(Func):
    """Its text columns joined by single spaces, a NULL as '': ``(COALESCE(a, '') || ' ' ||
    COALESCE(b, '') …)``. One node where ``Concat`` nests a pair, a cast and two COALESCE per
    column: Django took ~0.4 ms to compile those on every search. Immutable SQL, as an index
    expression must be (PostgreSQL's CONCAT_WS is not)."""

    template = "(COALESCE(%(expressions)s, ''))"
    arg_joiner = ", '') || ' ' || COALESCE("
    output_field = TextField()


#: The run's own text that search looks in (``TuningRun.objects.search``).
SEARCH_TEXT = _SpaceJoined(F("function_name"), F("function_arn"), F("region"), F("error_message"))

INDEXES = (
    GinIndex(
        OpClass(Upper(Cast(SEARCH_TEXT, TextField())), name="gin_trgm_ops"), name="run_search_trgm"
    ),
    GinIndex(
        OpClass(Upper(Cast("function_name", TextField())), name="gin_trgm_ops"),
        name="run_function_name_trgm",
    ),
)


class ExtensionMissing(RuntimeError):
    pass


def ensure_extension(connection) -> None:
    """Create pg_trgm unless present; a user who may not gets the one command that fixes it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone():
            return
        cursor.execute("SELECT has_database_privilege(current_database(), 'CREATE')")
        if not cursor.fetchone()[0]:
            cursor.execute("SELECT current_user, current_database()")
            user, database = cursor.fetchone()
            raise ExtensionMissing(
                f"History search needs the PostgreSQL extension pg_trgm, and the database user "
                f"{user!r} may not create it. Ask a database superuser to run "
                f'`CREATE EXTENSION pg_trgm;` in database "{database}", then run '
                "`python manage.py migrate` again."
            )
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")


def create_indexes(schema_editor, model, only=INDEXES) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    ensure_extension(schema_editor.connection)
    # What django.contrib.postgres does when installed (it is not: its per-connection type
    # lookups are not wanted): tell index expressions that an operator class wraps them.
    IndexExpression.register_wrappers(OrderBy, OpClass, Collate)
    for index in only:
        schema_editor.add_index(model, index)
    # Statistics of the new expressions now, not when autovacuum next comes by: without them
    # the planner guessed 32 runs for a word 20,000 runs have, and a search of 100,000 runs
    # read all 20,000 of them (120 ms instead of 0.5 ms).
    schema_editor.execute(f"ANALYZE {schema_editor.quote_name(model._meta.db_table)}")


def rebuild_text_index(schema_editor, model) -> None:
    """Drop and create the search text's index again (its expression changed)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    text_index = INDEXES[0]
    schema_editor.remove_index(model, text_index)  # by name, IF EXISTS
    create_indexes(schema_editor, model, only=[text_index])


def drop_indexes(schema_editor, model) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.remove_index(model, index)
