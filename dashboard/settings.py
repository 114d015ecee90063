"""Tuneboard settings, read from the environment.

With nothing set everything runs on one machine: SQLite, a serverless Celery broker
(kombu's filesystem transport) and DEBUG on. Set DATABASE_URL / CELERY_BROKER_URL to run on
PostgreSQL and Redis. The README's configuration table lists every variable.
"""

import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE
from kombu import Exchange, Queue

from dashboard.env import envbool, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(envstr("TUNEBOARD_DATA_DIR", str(BASE_DIR / "var")))
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = envbool("DEBUG", True)


def _local_secret_key() -> str:
    """A generated key kept in the data folder, so sessions survive restarts in development."""
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


# Production without DJANGO_SECRET_KEY is reported by the dashboard.E001 system check.
SECRET_KEY = envstr("DJANGO_SECRET_KEY") or _local_secret_key()
SECRET_KEY_FROM_ENV = bool(envstr("DJANGO_SECRET_KEY"))

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "csp",
    "dashboard",
    "aws",
    "tuning",
    "cachemetrics",
    "prices",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "dashboard.middleware.ViewerTimezoneMiddleware",
    "dashboard.middleware.LoginRequiredMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during login into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# In each process's memory: a restart (a deploy) starts empty, so a changed template never
# meets HTML rendered by the old one.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Rendered rows of the run history (tuning.history_rows), about 1.5 kB each: keyed by all
    # they show, never stale, so kept until the least recently used go.
    "history-rows": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "history-rows",
        "TIMEOUT": None,
        "OPTIONS": {"MAX_ENTRIES": 5000},
    },
    # A finished run's results table and progress (tuning.run_parts), a few kB each: keyed by
    # all they show, never stale.
    "run-parts": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "run-parts",
        "TIMEOUT": None,
        "OPTIONS": {"MAX_ENTRIES": 2000},
    },
    # A finished run's figures (tuning.charts.run_figures), ~40 kB each: stored with the run,
    # never changed, kept here too for the runs viewed most recently (~20 MB at most).
    "run-figures": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "run-figures",
        "TIMEOUT": None,
        "OPTIONS": {"MAX_ENTRIES": 500},
    },
}

# Sessions are read from the database, one query per page, unless SESSION_CACHE_URL names a
# Redis database (used for nothing else): each session is then also kept there and read from
# there (dashboard/sessions.py). Redis, not each process's memory, because it is shared by all
# processes: a logout ends the session everywhere at once.
_session_cache_url = envstr("SESSION_CACHE_URL")
if _session_cache_url:
    CACHES["sessions"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": _session_cache_url,
        # A hung Redis costs a page about half a second; its session then comes from the database.
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
    SESSION_ENGINE = "dashboard.sessions"
    SESSION_CACHE_ALIAS = "sessions"

DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'tuneboard.sqlite3'}",
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Web server, worker and beat share the file: wait for locks instead of failing at once.
    # WAL: readers (pages, progress polls, stop checks) never wait for the worker's writes,
    # and commits are not synced one by one (with WAL, synchronous=NORMAL loses nothing
    # committed when a process dies; only a power loss can lose the last commits).
    # A sweep on the embedded default took 1.29x the direct script without WAL, 1.12x with.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A file, not memory, so worker processes started by tests see the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-tuneboard.sqlite3")}
# Several test sessions may share one PostgreSQL server; each can name its own test database.
if envstr("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": envstr("TEST_DATABASE_NAME")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out login before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "dashboard.backends.OneQueryModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"  # stored and computed in UTC; shown in the viewer's timezone (middleware)
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security (production values apply when DEBUG is off) ---
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", not DEBUG)
# A login lasts a working day (OWASP ASVS 3.3: re-authenticate periodically), not two weeks.
SESSION_COOKIE_AGE = envint("TUNEBOARD_SESSION_HOURS", 12) * 3600
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if envbool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # load balancers probe over plain HTTP

# Login throttling (django-axes), on /login/ and /admin/login/ alike: after this many wrong
# passwords for one username from one address, that pair is refused (429) for the lockout time,
# even with the right password. Unlock earlier: `manage.py axes_reset_username NAME`.
AXES_FAILURE_LIMIT = envint("TUNEBOARD_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("TUNEBOARD_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind a proxy set TRUST_X_FORWARDED_FOR=1 so the client's address, not the proxy's, counts.
AXES_IPWARE_PROXY_COUNT = 1 if envbool("TRUST_X_FORWARDED_FOR", False) else None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"]
)

# Content-Security-Policy (django-csp): scripts only from our own static files (charts are
# drawn by static/js/charts.js from JSON data blocks, buttons ask for confirmation from
# static/js/confirm.js: no inline script or handler anywhere). Styles allow 'unsafe-inline'
# because plotly.js sets style attributes on the SVG it draws; a style cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Request size limits ---
# A form or JSON body larger than this is refused before it is read: the JSON API answers 413
# with the limit, a form page 400. It leaves room for the largest valid sweep: a payload and
# weighted payloads of 256 KiB each (tuning.params.MAX_PAYLOAD_BYTES), up to three times
# larger once escaped in a form or as JSON; field limits then give field errors.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Fields of a form POST or query string; more is refused with a 400. Django's default, kept:
# the admin's inline forms (a run with its sizes) need hundreds.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

# --- Celery ---
BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL") or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu needs the folder before a worker or a sender starts.
    BROKER_DIR.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "control_folder": str(DATA_DIR / "broker-control"),
        # How soon a worker sees a queued task: each size's batch waits for it once. Measured
        # on an idle worker: 0.6 % of a core at 0.05 s (0.3 % at 0.1 s).
        "polling_interval": 0.05,
    }
    (DATA_DIR / "broker-control").mkdir(parents=True, exist_ok=True)
else:
    # Redis redelivers a message not acknowledged within this time (batches are acknowledged
    # when done). A batch that runs longer gets a second delivery, which waits on the batch's
    # lease (tuning.models.BatchLease): no sequence is invoked twice, any batch length works.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # state lives in our own tables, not in a result backend
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = False  # opted in per task, only for idempotent tasks
CELERY_TASK_DEFAULT_QUEUE = "sweeps"
# Every queue Tuneboard uses: a plain `celery -A dashboard worker` consumes all of them;
# `-Q` still makes dedicated workers. The reaper has a queue of its own, so a worker kept for
# it (`-Q maintenance -c 1`) is never blocked by long sweep tasks.
TUNEBOARD_QUEUES = ("sweeps", "invocations", "metrics", "maintenance")
CELERY_TASK_QUEUES = [Queue(name, Exchange(name), routing_key=name) for name in TUNEBOARD_QUEUES]
CELERY_TASK_ROUTES = {
    "tuning.tasks.invoke_*": {"queue": "invocations"},
    "tuning.tasks.reap_stale_runs_task": {"queue": "maintenance"},
    "cachemetrics.tasks.*": {"queue": "metrics"},
    "tuning.tasks.*": {"queue": "sweeps"},
    # Short tasks: never queued behind long sweep batches.
    "notifications.tasks.*": {"queue": "maintenance"},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE = {
    "reap-stale-runs": {
        "task": "tuning.tasks.reap_stale_runs_task",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "collect-cache-metrics": {
        "task": "cachemetrics.tasks.collect_cache_metrics_task",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    "rollup-cache-metrics": {
        "task": "cachemetrics.tasks.rollup_cache_metrics_task",
        "schedule": crontab(minute=7),
        "options": {"expires": 3000},
    },
}

# --- Tuneboard ---
TUNEBOARD_DEFAULT_REGION = envstr("AWS_DEFAULT_REGION", "us-east-1")
# A run whose heartbeat is older than this is considered dead and cleaned up by the reaper.
TUNEBOARD_STALE_RUN_SECONDS = envint("TUNEBOARD_STALE_RUN_SECONDS", 120)
# An executor batch stores its invocations every this many ms or rows, whichever comes first
# (tuning.engine.recording): the run page's progress lags by at most the interval; a killed
# worker makes again at most that many invocations (never records one twice).
TUNEBOARD_RECORD_FLUSH_MS = envint("TUNEBOARD_RECORD_FLUSH_MS", 250)
TUNEBOARD_RECORD_FLUSH_ROWS = envint("TUNEBOARD_RECORD_FLUSH_ROWS", 50)
# Function name patterns sweeps with the workers' own credentials may touch (shell-style,
# comma-separated); empty = every function. Accounts have their own list in the admin.
TUNEBOARD_ALLOWED_FUNCTIONS = envlist("TUNEBOARD_ALLOWED_FUNCTIONS")
# Most invocations at once one sweep with the workers' own credentials may make (accounts
# have their own cap in the admin).
TUNEBOARD_MAX_CONCURRENCY = envint("TUNEBOARD_MAX_CONCURRENCY", 100)
# Cold-starts mode publishes one version per invocation: at most this many per run.
TUNEBOARD_MAX_COLD_START_VERSIONS = envint("TUNEBOARD_MAX_COLD_START_VERSIONS", 200)
# DAX regions to collect besides each account's own (with no account: instead of the default).
TUNEBOARD_DAX_REGIONS = envlist("TUNEBOARD_DAX_REGIONS")

# The local sandbox AWS is in use (`make run` starts it unless TUNEBOARD_SANDBOX=0); defaults to
# DEBUG. Notifications may then post to plain-http webhooks, e.g. on this machine.
TUNEBOARD_SANDBOX = envbool("TUNEBOARD_SANDBOX", DEBUG)

# --- Notifications (notifications/) ---
# Where users open Tuneboard, e.g. https://tuneboard.example.com: notifications link to the run
# or cache page under it. Empty: notifications carry no link (system check notifications.W001).
TUNEBOARD_BASE_URL = envstr("TUNEBOARD_BASE_URL").rstrip("/")
# E-mail through Django's mail backend: the console in development, SMTP in production.
EMAIL_BACKEND = envstr(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 10)
EMAIL_FILE_PATH = envstr("EMAIL_FILE_PATH", str(DATA_DIR / "mail"))
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "tuneboard@localhost")

# --- Retention (dashboard/retention.py) ---
# Runs (with their invocations and all that hangs off them) and DAX collections older than
# this many days are deleted daily; 0 = kept for ever. Runs that still own their function are
# never deleted. Hourly rollups are kept 15 months, or this long when it is longer (0: for
# ever); 1-minute points are always rolled up and deleted after 15 days.
TUNEBOARD_RETENTION_DAYS = envint("TUNEBOARD_RETENTION_DAYS", 400)
# On the reaper's queue, like the reaper: never stuck behind long sweep tasks.
CELERY_TASK_ROUTES["dashboard.tasks.purge_expired_data_task"] = {"queue": "maintenance"}
CELERY_BEAT_SCHEDULE["purge-expired-data"] = {
    "task": "dashboard.tasks.purge_expired_data_task",
    "schedule": crontab(hour=3, minute=23),  # daily, UTC
    "options": {"expires": 12 * 3600},  # a day missed is caught up by the next one
}
# Prices from the AWS Price List (prices/refresh.py), daily on the same queue.
CELERY_TASK_ROUTES["prices.tasks.refresh_prices_task"] = {"queue": "maintenance"}
CELERY_BEAT_SCHEDULE["refresh-prices"] = {
    "task": "prices.tasks.refresh_prices_task",
    "schedule": crontab(hour=4, minute=7),  # daily, UTC; AWS publishes price changes rarely
    "options": {"expires": 12 * 3600},
}

# --- Logging: JSON lines in production, readable lines in development ---
LOG_FORMAT = envstr("LOG_FORMAT", "text" if DEBUG else "json")
LOG_LEVEL = envstr("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "dashboard.logging.ContextFilter"}},
    "formatters": {
        "text": {
            "()": "dashboard.logging.TextFormatter",
            "fmt": "%(asctime)s %(levelname)-7s %(name)s %(context)s%(message)s",
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "botocore": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        # Its start-up banner on every process; failed logins and lockouts still log.
        "axes.apps": {"level": "WARNING"},
    },
}

STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "dashboard.staticfinders.PlotlyFinder",
]
