"""tuning.reports: REPORT records from Lambda log tails, text and JSON formats."""

import base64
import dataclasses
import json

import pytest

from tuning.reports import Report, ReportNotFound, decode_log_result, parse_report

REQUEST_ID = "8f5b2c1e-3d4a-4b6c-9e8f-0a1b2c3d4e5f"
OLDER_REQUEST_ID = "11111111-2222-3333-4444-555555555555"


def text_tail(report_line: str, request_id: str = REQUEST_ID) -> str:
    return (
        f"START RequestId: {request_id} Version: 7\n"
        f"2026-11-26T10:00:00.123Z\t{request_id}\tINFO\tprocessing order 42\n"
        f"END RequestId: {request_id}\n"
        f"{report_line}\n"
    )


COLD_TEXT_REPORT = (
    f"REPORT RequestId: {REQUEST_ID}\tDuration: 102.35 ms\tBilled Duration: 103 ms\t"
    "Memory Size: 128 MB\tMax Memory Used: 41 MB\tInit Duration: 180.12 ms\t"
)


def json_record(type_: str, record: dict) -> str:
    return json.dumps({"time": "2026-11-26T10:00:00.456Z", "type": type_, "record": record})


def json_report(request_id: str = REQUEST_ID, **metrics) -> str:
    values = {
        "durationMs": 245.67,
        "billedDurationMs": 246,
        "memorySizeMB": 512,
        "maxMemoryUsedMB": 87,
    }
    values.update(metrics)
    return json_record(
        "platform.report", {"requestId": request_id, "metrics": values, "status": "success"}
    )


def json_tail(*report_lines: str) -> str:
    lines = [
        json_record("platform.start", {"requestId": REQUEST_ID, "version": "7"}),
        json.dumps(
            {
                "timestamp": "2026-11-26T10:00:00.300Z",
                "level": "INFO",
                "requestId": REQUEST_ID,
                "message": "processing order 42",
            }
        ),
        "a plain print() line from the handler {not json}",
        json_record(
            "platform.runtimeDone",
            {"requestId": REQUEST_ID, "status": "success", "metrics": {"durationMs": 240.1}},
        ),
        *report_lines,
    ]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------- text format


def test_it_reads_every_field_of_a_cold_start_text_report():
    report = parse_report(text_tail(COLD_TEXT_REPORT))

    assert report == Report(
        duration_ms=102.35,
        billed_duration_ms=103,
        memory_size_mb=128,
        max_memory_used_mb=41,
        init_duration_ms=180.12,
        restore_duration_ms=None,
        billed_restore_duration_ms=None,
        request_id=REQUEST_ID,
        status=None,
    )


def test_it_keeps_billed_duration_and_memory_as_integers():
    report = parse_report(text_tail(COLD_TEXT_REPORT))

    assert type(report.billed_duration_ms) is int
    assert type(report.memory_size_mb) is int
    assert type(report.max_memory_used_mb) is int
    assert type(report.duration_ms) is float


def test_it_leaves_init_duration_empty_on_a_warm_start():
    line = (
        f"REPORT RequestId: {REQUEST_ID}\tDuration: 3.10 ms\tBilled Duration: 4 ms\t"
        "Memory Size: 1024 MB\tMax Memory Used: 77 MB\t"
    )

    report = parse_report(text_tail(line))

    assert report.init_duration_ms is None
    assert (report.duration_ms, report.billed_duration_ms) == (3.10, 4)
    assert report.memory_size_mb == 1024


def test_it_reads_snapstart_restore_durations():
    line = (
        f"REPORT RequestId: {REQUEST_ID}\tDuration: 15.02 ms\tBilled Duration: 16 ms\t"
        "Memory Size: 2048 MB\tMax Memory Used: 140 MB\t"
        "Restore Duration: 123.45 ms\tBilled Restore Duration: 124 ms"
    )

    report = parse_report(text_tail(line))

    assert report.restore_duration_ms == 123.45
    assert report.billed_restore_duration_ms == 124
    assert report.init_duration_ms is None


def test_it_reads_the_status_of_a_timed_out_invocation():
    line = (
        f"REPORT RequestId: {REQUEST_ID}\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 58 MB\tStatus: timeout"
    )

    report = parse_report(text_tail(line))

    assert report.status == "timeout"
    assert report.billed_duration_ms == 3000


def test_it_reads_a_report_from_a_tail_that_starts_in_the_middle_of_a_line():
    tail = "ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\n" + text_tail(COLD_TEXT_REPORT)

    report = parse_report(tail)

    assert report.duration_ms == 102.35


def test_it_ignores_a_cut_report_at_the_start_and_uses_the_whole_one():
    cut_older_report = "uration: 999.00 ms\tBilled Duration: 999 ms\tMemory Size: 128 MB\t\n"

    report = parse_report(cut_older_report + text_tail(COLD_TEXT_REPORT))

    assert report.billed_duration_ms == 103


def test_the_last_of_several_text_reports_wins():
    older = (
        f"REPORT RequestId: {OLDER_REQUEST_ID}\tDuration: 500.00 ms\tBilled Duration: 500 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 40 MB\t"
    )

    report = parse_report(text_tail(older, OLDER_REQUEST_ID) + text_tail(COLD_TEXT_REPORT))

    assert report.request_id == REQUEST_ID
    assert report.billed_duration_ms == 103


def test_a_report_line_without_billed_duration_is_not_a_report():
    line = f"REPORT RequestId: {REQUEST_ID}\tDuration: 1.00 ms\tMemory Size: 128 MB\t"

    with pytest.raises(ReportNotFound):
        parse_report(text_tail(line))


# ----------------------------------------------------------------- JSON format


def test_it_finds_the_platform_report_among_other_json_records_and_plain_lines():
    report = parse_report(json_tail(json_report(initDurationMs=310.5)))

    assert report == Report(
        duration_ms=245.67,
        billed_duration_ms=246,
        memory_size_mb=512,
        max_memory_used_mb=87,
        init_duration_ms=310.5,
        restore_duration_ms=None,
        billed_restore_duration_ms=None,
        request_id=REQUEST_ID,
        status="success",
    )


def test_it_reads_snapstart_restore_durations_from_json():
    report_line = json_report(restoreDurationMs=98.7, billedRestoreDurationMs=99)

    report = parse_report(json_tail(report_line))

    assert report.restore_duration_ms == 98.7
    assert report.billed_restore_duration_ms == 99


def test_it_skips_a_json_record_cut_at_the_start_of_the_tail():
    cut_record = (
        '5Z","type":"platform.report","record":{"requestId":"x","metrics":{"durationMs":1}}}'
    )

    report = parse_report(cut_record + "\n" + json_tail(json_report()))

    assert report.duration_ms == 245.67


def test_the_last_of_several_json_reports_wins():
    older = json_report(OLDER_REQUEST_ID, durationMs=900.0, billedDurationMs=900)

    report = parse_report(json_tail(older) + json_tail(json_report()))

    assert report.request_id == REQUEST_ID
    assert report.billed_duration_ms == 246


def test_a_json_report_after_a_text_report_wins():
    tail = text_tail(COLD_TEXT_REPORT) + json_tail(json_report())

    assert parse_report(tail).memory_size_mb == 512


def test_a_json_report_without_metrics_is_not_a_report():
    tail = json_tail(json_record("platform.report", {"requestId": REQUEST_ID, "status": "error"}))

    with pytest.raises(ReportNotFound):
        parse_report(tail)


# ----------------------------------------------------------------- absence, errors


def test_it_raises_report_not_found_when_the_tail_has_no_report():
    tail = f"START RequestId: {REQUEST_ID} Version: 7\nEND RequestId: {REQUEST_ID}\n"

    with pytest.raises(ReportNotFound) as raised:
        parse_report(tail)

    assert isinstance(raised.value, ValueError)
    message = str(raised.value)
    assert "REPORT RequestId" in message
    assert "platform.report" in message


def test_it_raises_report_not_found_for_an_empty_tail():
    with pytest.raises(ReportNotFound):
        parse_report("")


def test_a_report_cannot_be_modified():
    report = parse_report(text_tail(COLD_TEXT_REPORT))

    with pytest.raises(dataclasses.FrozenInstanceError):
        report.duration_ms = 1.0


# ----------------------------------------------------------------- decode_log_result


def test_it_decodes_the_base64_log_result_header():
    text = text_tail(COLD_TEXT_REPORT)
    header = base64.b64encode(text.encode("utf-8")).decode("ascii")

    assert decode_log_result(header) == text


def test_it_drops_a_utf8_sequence_cut_at_the_start():
    # "€" is E2 82 AC in UTF-8; the 4 KB cut kept only its last two bytes.
    raw = "€ price\n".encode()[1:] + b"END\n"

    assert decode_log_result(base64.b64encode(raw).decode("ascii")) == " price\nEND\n"


def test_it_rejects_a_header_that_is_not_base64():
    with pytest.raises(ValueError):
        decode_log_result("this is *not* base64!")


def test_a_real_4_kb_tail_cut_inside_a_character_decodes_and_parses():
    log = "".join(
        f"2026-11-26T10:00:00.000Z\t{REQUEST_ID}\tINFO\tpanier n°{i} — total 12,50 €\n"
        for i in range(200)
    ) + text_tail(COLD_TEXT_REPORT)
    encoded = log.encode("utf-8")
    # Find a 4096-byte tail whose first byte is a UTF-8 continuation byte.
    start = len(encoded) - 4096
    while not 0x80 <= encoded[start] <= 0xBF:
        start -= 1
    header = base64.b64encode(encoded[start:]).decode("ascii")

    text = decode_log_result(header)

    assert "\ufffd" not in text
    assert log.endswith(text)
    assert parse_report(text).init_duration_ms == 180.12
