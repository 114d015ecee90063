"""The Celery application. Tasks live in each app's tasks.py (thin wrappers around services)."""

import os
import sys

from celery import Celery
from celery.signals import worker_process_init
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
# The embedded broker (filesystem://) is kombu's transport with the fix of dashboard/broker.py.
# The alias, not broker_transport: that setting would override the scheme of any broker URL.
TRANSPORT_ALIASES["filesystem"] = "dashboard.broker:Transport"

app = Celery("tuneboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def worker_command(
    queues: str, concurrency: int, name: str, loglevel: str = "INFO", pool: str = "prefork"
) -> list[str]:
    """The command line of a worker process that consumes ``queues`` (comma-separated), with
    ``concurrency`` pool processes (``pool="threads"``: threads of one process).

    Gossip and mingle are off: workers never need each other's state here, and they add
    about a second to a worker's start.
    """
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "dashboard",
        "worker",
        "-Q",
        queues,
        "-P",
        pool,
        "-c",
        str(concurrency),
        "-n",
        name,
        "--without-gossip",
        "--without-mingle",
        "--loglevel",
        loglevel,
    ]


@worker_process_init.connect
def _fresh_aws_clients_per_process(**_kwargs):
    # boto3 clients are not fork-safe: each prefork child builds its own, once.
    from aws import clients

    clients.clear()
