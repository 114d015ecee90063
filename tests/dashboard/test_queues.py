"""Queues: a plain `celery -A dashboard worker` consumes every queue Tuneboard uses, and the
reaper has one of its own."""

from django.conf import settings

from dashboard.celery import app


def queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


def test_a_worker_started_without_queue_options_consumes_every_queue_tasks_are_sent_to():
    consumed = set(app.amqp.queues)  # what `celery worker` without -Q subscribes to
    assert consumed == set(settings.TUNEBOARD_QUEUES)
    app.loader.import_default_modules()  # every app's tasks.py
    ours = [task for task in app.tasks if task.startswith(("tuning.", "cachemetrics."))]
    assert len(ours) >= 6
    for task in ours:
        assert queue_of(task) in consumed, task


def test_the_reaper_runs_on_its_own_queue_away_from_sweep_tasks():
    assert queue_of("tuning.tasks.reap_stale_runs_task") == "maintenance"
    assert queue_of("tuning.tasks.start_sweep_task") == "sweeps"
    assert queue_of("tuning.tasks.invoke_batch_task") == "invocations"
