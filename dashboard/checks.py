"""Configuration mistakes reported as Django system checks, each saying how to fix it."""

from django.conf import settings
from django.core.checks import Error, Warning, register

#: Tag of these checks, so a command can run them without Django's URL checks (which import
#: every view, and the charting library with them).
CONFIGURATION = "configuration"


@register(CONFIGURATION)
def check_configuration(app_configs, **kwargs):
    problems = []
    if not settings.DEBUG and not settings.SECRET_KEY_FROM_ENV:
        problems.append(
            Error(
                "DJANGO_SECRET_KEY is not set while DEBUG is off.",
                hint="Set DJANGO_SECRET_KEY to a long random value, e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`.",
                id="dashboard.E001",
            )
        )
    if not settings.DEBUG and not settings.ALLOWED_HOSTS:
        problems.append(
            Error(
                "ALLOWED_HOSTS is empty while DEBUG is off.",
                hint="Set ALLOWED_HOSTS to the comma-separated host names Tuneboard is served on.",
                id="dashboard.E002",
            )
        )
    engine = settings.DATABASES["default"]["ENGINE"]
    if not settings.DEBUG and engine.endswith("sqlite3"):
        problems.append(
            Warning(
                "Production is running on the embedded SQLite database.",
                hint="Set DATABASE_URL=postgres://user:password@host:5432/dbname so several "
                "workers and web servers can share one database.",
                id="dashboard.W001",
            )
        )
    broker = settings.CELERY_BROKER_URL
    if not settings.DEBUG and broker.startswith(("filesystem://", "sqla+")):
        problems.append(
            Warning(
                "Production is using the embedded single-machine Celery broker.",
                hint="Set CELERY_BROKER_URL=redis://host:6379/0 so workers on other machines "
                "can take sweeps.",
                id="dashboard.W002",
            )
        )
    if broker.split("://", 1)[0] not in {"filesystem", "redis", "rediss", "sqla+sqlite", "amqp"}:
        problems.append(
            Error(
                f"CELERY_BROKER_URL {broker.split('://', 1)[0]!r} is not a supported broker.",
                hint="Use redis://host:6379/0 in production, or leave it unset for the embedded "
                "broker.",
                id="dashboard.E003",
            )
        )
    if settings.TUNEBOARD_RETENTION_DAYS < 0:
        problems.append(
            Error(
                f"TUNEBOARD_RETENTION_DAYS is {settings.TUNEBOARD_RETENTION_DAYS}.",
                hint="Set it to the number of days runs and collections are kept, or to 0 to "
                "keep them for ever.",
                id="dashboard.E004",
            )
        )
    return problems
