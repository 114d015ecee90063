"""Set-up shared by the benchmarks that fill a PostgreSQL database of their own.

Not a benchmark itself: ``make bench`` skips it.
"""

import os
import sys
from urllib.parse import urlsplit, urlunsplit


def setup_django(database: str) -> None:
    """Create ``database`` on the PostgreSQL server of DATABASE_URL when missing (default
    postgres://postgres@127.0.0.1:5432), point Django at it, set Django up and migrate.

    BENCH_DATABASE names another database instead, so two copies of a benchmark can run
    side by side without emptying each other's data."""
    database = os.environ.get("BENCH_DATABASE", database)
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tuneboard")
    if not base.startswith("postgres"):
        sys.exit(f"{sys.argv[0]} needs PostgreSQL: set DATABASE_URL=postgres://...")
    _create_if_missing(base, database)
    os.environ["DATABASE_URL"] = urlunsplit(urlsplit(base)._replace(path=f"/{database}"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _create_if_missing(base_url: str, database: str) -> None:
    import psycopg

    admin = urlunsplit(urlsplit(base_url)._replace(path="/postgres"))
    with psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True) as db:
        if not db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            db.execute(f'CREATE DATABASE "{database}"')


def serve_as_in_production() -> None:
    """Pages timed as a production process serves them: DEBUG off (no log of every query, no
    template debug data), answering the test client's host. What else DEBUG=0 brings (the HTTPS
    redirect, secure cookies) is left out: the test client speaks plain HTTP."""
    from django.conf import settings
    from django.test.utils import override_settings

    # override_settings, not an assignment: Django rebuilds the template engines for it
    override_settings(DEBUG=False, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]).enable()
