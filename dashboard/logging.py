"""Log records: run_id / task_id added when known, so a sweep's lines can be followed; text
lines that nothing in a message can break."""

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


# Every character that could end a line or rewrite a terminal, as a visible escape.
_LINE_BREAKERS = {
    **{code: f"\\x{code:02x}" for code in [*range(0x20), 0x7F, 0x85] if code != 0x09},
    0x0A: "\\n",
    0x0D: "\\r",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


class TextFormatter(logging.Formatter):
    """Readable one-line records. A message carries outside text (Lambda error output, user
    input): its line breaks and control characters are escaped, so it cannot forge a line.
    Tracebacks, which our own code adds, keep their lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return super().formatMessage(record).translate(_LINE_BREAKERS)
