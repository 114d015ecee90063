"""History search: the run text it looks in, and its trigram indexes on PostgreSQL.

``icontains`` compiles to ``UPPER(x::text) LIKE UPPER('%…%')``: a GIN index with
``gin_trgm_ops`` on exactly that expression answers it without reading every run. SQLite (the
embedded default, holding one user's history) has no such index and scans.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db.models import OrderBy, TextField, Value
from django.db.models.functions import Cast, Collate, Concat, Upper
from django.db.models.indexes import IndexExpression

#: The run's own text that search looks in (``TuningRun.objects.search``).
SEARCH_TEXT = Concat(
    "function_name",
    Value(" "),
    "function_arn",
    Value(" "),
    "region",
    Value(" "),
    "error_message",
    output_field=TextField(),
)

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


def create_indexes(schema_editor, model) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    ensure_extension(schema_editor.connection)
    # What django.contrib.postgres does when installed (it is not: its per-connection type
    # lookups are not wanted): tell index expressions that an operator class wraps them.
    IndexExpression.register_wrappers(OrderBy, OpClass, Collate)
    for index in INDEXES:
        schema_editor.add_index(model, index)


def drop_indexes(schema_editor, model) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.remove_index(model, index)
