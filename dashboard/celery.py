"""The Celery application. Tasks live in each app's tasks.py (thin wrappers around services)."""

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

app = Celery("tuneboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _fresh_aws_clients_per_process(**_kwargs):
    # boto3 clients are not fork-safe: each prefork child builds its own, once.
    from dashboard import awsclients

    awsclients.clear()
