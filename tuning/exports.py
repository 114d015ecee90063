"""Downloads of a run: every invocation as CSV (streamed), the run as JSON (the API's schema).

The public versions (share links) show of an error only its class (``sharing.public_error``),
as the share page does.
"""

from __future__ import annotations

import json

from django.http import HttpResponse, StreamingHttpResponse

from dashboard import csvsafe
from tuning.costing import PRICE_UNKNOWN
from tuning.models import Invocation
from tuning.serializers import run_to_dict
from tuning.sharing import public_error

CSV_COLUMNS = (
    "run_id",
    "function",
    "region",
    "memory_mb",
    "sequence",
    "payload_index",
    "request_id",
    "duration_ms",
    "billed_duration_ms",
    "init_duration_ms",
    "restore_duration_ms",
    "billed_restore_duration_ms",
    "max_memory_used_mb",
    "cold_start",
    "cost_usd",
    "error_type",
    "error_message",
    "created_at",
)


class _Echo:
    """A file whose write() returns what it was given: csv.writer then yields lines."""

    def write(self, value):
        return value


def _filename(run, suffix: str) -> str:
    return f'attachment; filename="{run.function_name}-{str(run.id)[:8]}{suffix}"'


def csv_response(run, *, private: bool) -> StreamingHttpResponse:
    """Every invocation of the run, one row each, streamed from the database in chunks
    (``private=False``: error type = its class, no error message)."""
    writer = csvsafe.writer(_Echo())
    rows = (
        Invocation.objects.filter(run=run)
        .order_by("memory_mb", "sequence")
        .values_list(*CSV_COLUMNS[3:])
        .iterator(chunk_size=2000)
    )

    def lines():
        yield writer.writerow(CSV_COLUMNS)
        for row in rows:
            cells = dict(zip(CSV_COLUMNS[3:], row, strict=True))
            cells["created_at"] = cells["created_at"].isoformat() if cells["created_at"] else ""
            if cells["cost_usd"] is None and cells["duration_ms"] is not None:
                cells["cost_usd"] = PRICE_UNKNOWN  # measured in a region without a price
            if not private:
                cells["error_type"] = public_error(cells["error_message"], cells["error_type"])
                cells["error_message"] = ""
            yield writer.writerow([str(run.id), run.function_name, run.region, *cells.values()])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = _filename(run, "-invocations.csv")
    return response


def json_response(run, *, private: bool) -> HttpResponse:
    """The run as ``GET /api/runs/<uuid>/`` shows it (``private=False``: as share links do)."""
    response = HttpResponse(
        json.dumps(run_to_dict(run, private=private), indent=2, default=str),
        content_type="application/json",
    )
    response["Content-Disposition"] = _filename(run, ".json")
    return response
