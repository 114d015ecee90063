"""Value types shared by the Lambda API server and the runtime pool."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FunctionSpec:
    """Everything needed to start an execution environment for one function revision.

    Environments are reused only for invocations carrying the same ``key``.
    """

    key: str
    function_name: str
    function_arn: str
    version: str
    code_dir: str
    handler: str
    memory_mb: int
    timeout_s: float
    environment: dict
    log_format: str = "Text"
    architecture: str = "x86_64"
    region: str = "us-east-1"
    # A published version of a SnapStart function: a new environment is "restored" (its
    # REPORT shows Restore Duration and Billed Restore Duration instead of Init Duration).
    snap_start: bool = False


@dataclass
class InvokeResult:
    """Outcome of one invocation, shaped like what Lambda returns and logs."""

    payload: bytes
    function_error: str | None
    log: str
    duration_ms: float
    billed_duration_ms: int
    init_duration_ms: float | None
    max_memory_used_mb: int
    cold_start: bool
    restore_duration_ms: float | None = None
    billed_restore_duration_ms: int | None = None
