"""Adds run_id / task_id to log records when known, so a sweep's lines can be followed."""

import contextvars
import logging

current_run_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("run_id", default=None)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        run_id = getattr(record, "run_id", None) or current_run_id.get()
        task_id = getattr(record, "task_id", None) or _celery_task_id()
        if run_id:
            record.run_id = str(run_id)
        if task_id:
            record.task_id = task_id
        parts = [f"run={run_id}" if run_id else "", f"task={task_id}" if task_id else ""]
        record.context = " ".join(p for p in parts if p) + (" " if any(parts) else "")
        return True


def _celery_task_id() -> str | None:
    from celery import current_task

    request = getattr(current_task, "request", None)
    return getattr(request, "id", None) if current_task else None
