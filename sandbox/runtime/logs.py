"""Platform log lines (START/END/REPORT, JSON platform.* records) and error payloads.

Pure functions: the pool stitches these around the handler's own output.
"""

from __future__ import annotations

import json
import time

RUNTIME_VERSION = "python:3.11.sandbox"


def iso_time(ts: float | None = None) -> str:
    """UTC timestamp with milliseconds, like Lambda's ``2025-08-01T12:00:00.123Z``."""
    ts = time.time() if ts is None else ts
    millis = int(ts * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{millis:03d}Z"


def _record(kind: str, record: dict, ts: float | None = None) -> str:
    return json.dumps({"time": iso_time(ts), "type": kind, "record": record}) + "\n"


def init_start(log_format: str, function_name: str, version: str, region: str) -> str:
    arn = f"arn:aws:lambda:{region}::runtime:sandbox"
    if log_format == "JSON":
        return _record(
            "platform.initStart",
            {
                "initializationType": "on-demand",
                "phase": "init",
                "runtimeVersion": RUNTIME_VERSION,
                "runtimeVersionArn": arn,
                "functionName": function_name,
                "functionVersion": version,
            },
        )
    return f"INIT_START Runtime Version: {RUNTIME_VERSION}\tRuntime Version ARN: {arn}\n"


def restore_start(log_format: str, function_name: str, version: str, region: str) -> str:
    """First line of a SnapStart environment restored from its snapshot (instead of INIT_START)."""
    arn = f"arn:aws:lambda:{region}::runtime:sandbox"
    if log_format == "JSON":
        return _record(
            "platform.restoreStart",
            {
                "runtimeVersion": RUNTIME_VERSION,
                "runtimeVersionArn": arn,
                "functionName": function_name,
                "functionVersion": version,
            },
        )
    return f"RESTORE_START Runtime Version: {RUNTIME_VERSION}\tRuntime Version ARN: {arn}\n"


def restore_report(log_format: str, restore_ms: float) -> str:
    """End of the restore phase (RESTORE_REPORT / platform.restoreReport, whose metrics hold
    only durationMs in AWS's Telemetry API schema: the billed figure is on the REPORT)."""
    if log_format == "JSON":
        return _record(
            "platform.restoreReport",
            {"status": "success", "metrics": {"durationMs": round(restore_ms, 2)}},
        )
    return f"RESTORE_REPORT Restore Duration: {restore_ms:.2f} ms\n"


def start(log_format: str, request_id: str, version: str, ts: float | None = None) -> str:
    if log_format == "JSON":
        return _record("platform.start", {"requestId": request_id, "version": version}, ts)
    return f"START RequestId: {request_id} Version: {version}\n"


def timeout_line(request_id: str, timeout_s: float) -> str:
    return f"{iso_time()} {request_id} Task timed out after {timeout_s:.2f} seconds\n"


def runtime_exit_line(request_id: str, reason: str, error_type: str) -> str:
    return f"RequestId: {request_id} Error: Runtime exited with error: {reason}\n{error_type}\n"


def runtime_done(
    log_format: str,
    request_id: str,
    status: str,
    duration_ms: float,
    produced: int,
    error_type: str | None = None,
) -> str:
    """``platform.runtimeDone`` (JSON format only; Text format has no such line)."""
    if log_format != "JSON":
        return ""
    record = {
        "requestId": request_id,
        "status": status,
        "metrics": {"durationMs": round(duration_ms, 2), "producedBytes": produced},
    }
    if error_type:
        record["errorType"] = error_type
    return _record("platform.runtimeDone", record)


def end(log_format: str, request_id: str) -> str:
    return "" if log_format == "JSON" else f"END RequestId: {request_id}\n"


def report(
    log_format: str,
    request_id: str,
    duration_ms: float,
    billed_ms: int,
    memory_mb: int,
    max_used_mb: int,
    init_ms: float | None,
    status: str = "success",
    error_type: str | None = None,
    restore: tuple[float, int] | None = None,
) -> str:
    """The REPORT line / platform.report record.

    ``status`` is success, error or timeout. As on AWS, the Text REPORT line shows
    ``Status``/``Error Type`` only when the runtime failed (timeout, crash, OOM, init
    error), not when the handler raised (pass ``error_type=None`` then). ``restore`` is
    (Restore Duration, Billed Restore Duration) on the first invocation of a SnapStart
    environment, which reports no Init Duration (AWS's "Monitoring for Lambda SnapStart").
    """
    if log_format == "JSON":
        metrics = {
            "durationMs": round(duration_ms, 2),
            "billedDurationMs": billed_ms,
            "memorySizeMB": memory_mb,
            "maxMemoryUsedMB": max_used_mb,
        }
        if init_ms is not None:
            metrics["initDurationMs"] = round(init_ms, 2)
        if restore is not None:
            metrics["restoreDurationMs"] = round(restore[0], 2)
            metrics["billedRestoreDurationMs"] = restore[1]
        record = {"requestId": request_id, "metrics": metrics, "status": status}
        if error_type:
            record["errorType"] = error_type
        return _record("platform.report", record)
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {billed_ms} ms\tMemory Size: {memory_mb} MB\t"
        f"Max Memory Used: {max_used_mb} MB\t"
    )
    if init_ms is not None:
        line += f"Init Duration: {init_ms:.2f} ms\t"
    if restore is not None:
        line += f"Restore Duration: {restore[0]:.2f} ms\tBilled Restore Duration: {restore[1]} ms\t"
    if status == "timeout":
        line += "Status: timeout\t"
    elif error_type:
        line += f"Status: error\tError Type: {error_type}\t"
    return line + "\n"


def error_payload(error_type: str, message: str) -> bytes:
    """Payload of a runtime-level failure (timeout, OOM, crash)."""
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode("utf-8")
