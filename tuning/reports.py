"""Parse the REPORT record Lambda writes at the end of every invocation log.

Pure functions, standard library only. The input is the log tail returned by
``Invoke(LogType=Tail)``: base64 in the ``X-Amz-Log-Result`` header (see
:func:`decode_log_result`), holding only the *last 4 KB* of the invocation's
log, so its first line may be cut anywhere, even inside a UTF-8 sequence.

Two log formats exist:

* text (the default): one tab-separated line::

    REPORT RequestId: <uuid>\\tDuration: 102.35 ms\\tBilled Duration: 103 ms\\t
    Memory Size: 128 MB\\tMax Memory Used: 41 MB\\tInit Duration: 180.12 ms\\t

  (SnapStart adds ``Restore Duration`` and ``Billed Restore Duration``; newer
  runtimes may add ``Status: timeout`` and similar non-numeric fields);
* JSON (``LoggingConfig.LogFormat=JSON``): one ``{"type": "platform.report",
  "record": {"metrics": {...}}}`` object among other JSON records and
  plain-text lines.

When the tail holds several reports, the last one wins.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass

__all__ = ["Report", "ReportNotFound", "decode_log_result", "parse_report"]


class ReportNotFound(ValueError):
    """The log text holds no complete Lambda REPORT record."""


@dataclass(frozen=True)
class Report:
    """Figures of one invocation, as reported by Lambda.

    Durations are in milliseconds, memory in MB. Fields Lambda did not report
    (no cold start, no SnapStart, ...) are ``None``.
    """

    duration_ms: float
    billed_duration_ms: float | int
    init_duration_ms: float | None
    restore_duration_ms: float | None
    billed_restore_duration_ms: float | int | None
    memory_size_mb: int
    max_memory_used_mb: int | None
    request_id: str | None = None
    status: str | None = None


# "REPORT RequestId: <id>" then tab-separated "Key: value unit" fields.
_TEXT_REPORT = re.compile(r"REPORT RequestId: (?P<request_id>[^\s]+)(?P<fields>[^\r\n]*)")
_TEXT_FIELD = re.compile(r"\t\s*(?P<key>[A-Za-z][A-Za-z ]*?)\s*:\s*(?P<value>[^\t\r\n]*)")
_NUMBER_WITH_UNIT = re.compile(r"^(?P<number>\d+(?:\.\d+)?)\s*(?:ms|MB)\s*$")

# text key -> (Report field, numeric kind)
_TEXT_KEYS = {
    "Duration": ("duration_ms", float),
    "Billed Duration": ("billed_duration_ms", None),
    "Memory Size": ("memory_size_mb", int),
    "Max Memory Used": ("max_memory_used_mb", int),
    "Init Duration": ("init_duration_ms", float),
    "Restore Duration": ("restore_duration_ms", float),
    "Billed Restore Duration": ("billed_restore_duration_ms", None),
}

# JSON metrics key -> (Report field, numeric kind)
_JSON_KEYS = {
    "durationMs": ("duration_ms", float),
    "billedDurationMs": ("billed_duration_ms", None),
    "memorySizeMB": ("memory_size_mb", int),
    "maxMemoryUsedMB": ("max_memory_used_mb", int),
    "initDurationMs": ("init_duration_ms", float),
    "restoreDurationMs": ("restore_duration_ms", float),
    "billedRestoreDurationMs": ("billed_restore_duration_ms", None),
}

_REQUIRED = ("duration_ms", "billed_duration_ms", "memory_size_mb")


def decode_log_result(header_value: str) -> str:
    """Decode the base64 ``X-Amz-Log-Result`` header into log text.

    The 4 KB cut Lambda makes is in bytes, so the first character may be a
    partial UTF-8 sequence: leading continuation bytes are dropped. Any other
    undecodable byte becomes U+FFFD rather than an error.

    Raises ``ValueError`` (``binascii.Error``) when the value is not base64.
    """
    if header_value is None:
        raise ValueError("no X-Amz-Log-Result value to decode (got None)")
    compact = "".join(header_value.split())
    try:
        raw = base64.b64decode(compact, validate=True)
    except binascii.Error as exc:
        raise binascii.Error(f"X-Amz-Log-Result is not valid base64: {exc}") from exc
    start = 0
    # A UTF-8 character is at most 4 bytes, so at most 3 orphaned continuation
    # bytes (0b10xxxxxx) can precede the first whole character.
    while start < len(raw) and start < 3 and 0x80 <= raw[start] <= 0xBF:
        start += 1
    return raw[start:].decode("utf-8", errors="replace")


def parse_report(log_text: str) -> Report:
    """Return the last REPORT record (text or JSON format) in ``log_text``.

    Raises :class:`ReportNotFound` when there is none.
    """
    if not isinstance(log_text, str):
        raise TypeError(f"log_text must be str, not {type(log_text).__name__}")
    candidates: list[tuple[int, Report]] = []
    candidates.extend(_text_reports(log_text))
    candidates.extend(_json_reports(log_text))
    if not candidates:
        raise ReportNotFound(
            "no Lambda REPORT record found in the log text: expected a line "
            "'REPORT RequestId: <id>\\tDuration: <n> ms\\tBilled Duration: <n> ms\\t"
            "Memory Size: <n> MB\\t...' (text log format) or a JSON record with "
            '"type": "platform.report" and record.metrics (JSON log format); '
            f"got {len(log_text)} characters"
        )
    return max(candidates, key=lambda item: item[0])[1]


def _number(text: str) -> int | float:
    return float(text) if "." in text else int(text)


def _coerce(value, kind):
    if kind is None:  # keep int when integral in the source, like Lambda writes it
        return value
    return kind(value)


def _build(values: dict, request_id: str | None, status: str | None) -> Report | None:
    if any(values.get(name) is None for name in _REQUIRED):
        return None
    optional = {name: None for name, _ in _TEXT_KEYS.values() if name not in values}
    return Report(**values, **optional, request_id=request_id, status=status)


def _text_reports(log_text: str):
    for match in _TEXT_REPORT.finditer(log_text):
        values: dict = {}
        status = None
        for field in _TEXT_FIELD.finditer(match.group("fields")):
            key, raw_value = field.group("key"), field.group("value").strip()
            if key == "Status":
                status = raw_value or None
                continue
            if key not in _TEXT_KEYS:
                continue
            number = _NUMBER_WITH_UNIT.match(raw_value)
            if number is None:
                continue
            name, kind = _TEXT_KEYS[key]
            values[name] = _coerce(_number(number.group("number")), kind)
        report = _build(values, match.group("request_id"), status)
        if report is not None:
            yield match.start(), report


def _json_reports(log_text: str):
    decoder = json.JSONDecoder()
    position = log_text.find("{")
    while position != -1:
        try:
            obj, end = decoder.raw_decode(log_text, position)
        except ValueError:
            # Not JSON from here (a cut record, a brace in a text line): try the next brace.
            position = log_text.find("{", position + 1)
            continue
        report = _report_from_json(obj)
        if report is not None:
            yield position, report
        position = log_text.find("{", end)


def _report_from_json(obj) -> Report | None:
    if not isinstance(obj, dict) or obj.get("type") != "platform.report":
        return None
    record = obj.get("record")
    if not isinstance(record, dict):
        return None
    metrics = record.get("metrics")
    if not isinstance(metrics, dict):
        return None
    values: dict = {}
    for key, (name, kind) in _JSON_KEYS.items():
        value = metrics.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        values[name] = _coerce(value, kind)
    request_id = record.get("requestId")
    status = record.get("status")
    return _build(
        values,
        request_id if isinstance(request_id, str) else None,
        status if isinstance(status, str) else None,
    )
