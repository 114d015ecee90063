"""Deploy the demo functions (``sandbox/functions/<name>/``) through the Lambda API.

All of them in us-east-1, and a couple in each of ``OTHER_REGIONS`` (a function there is
only visible to clients of that region, as on AWS).

Idempotent: a function that already exists (e.g. reloaded from ``--state-dir``) is
left alone when its code and configuration match, and updated otherwise. Zips are
built deterministically (fixed timestamps, sorted entries) so ``CodeSha256`` is
stable across runs.
"""

from __future__ import annotations

import base64
import hashlib
import io
import time
import zipfile
from pathlib import Path

FUNCTIONS_DIR = Path(__file__).parent / "functions"
ROLE = "arn:aws:iam::123456789012:role/tuneboard-sandbox-lambda"
RUNTIME = "python3.11"

FUNCTIONS: dict[str, dict] = {
    "tuneboard-cpu": {
        "Description": "CPU-bound: fixed hashing work, ~200 ms at 1769 MB",
        "MemorySize": 128,
        "Timeout": 60,
    },
    "tuneboard-io": {
        "Description": "I/O-bound: waits ~100 ms at any memory size",
        "MemorySize": 128,
        "Timeout": 10,
    },
    "tuneboard-memory": {
        "Description": "Allocates ~200 MB: out of memory at 128 MB, fine from 256 MB",
        "MemorySize": 128,
        "Timeout": 30,
    },
    "tuneboard-flaky": {
        "Description": "Raises on about 10% of calls",
        "MemorySize": 128,
        "Timeout": 10,
    },
    "tuneboard-init": {
        "Description": "Slow init: ~1 s to load the module, ~10 ms per call",
        "MemorySize": 128,
        "Timeout": 10,
    },
    "tuneboard-powertools": {
        "Description": "Powertools Logger + Metrics, boto3 client at init, JSON logs",
        "MemorySize": 256,
        "Timeout": 15,
        "Environment": {
            "Variables": {
                "POWERTOOLS_SERVICE_NAME": "tuneboard-demo",
                "POWERTOOLS_METRICS_NAMESPACE": "Tuneboard",
            }
        },
        "LoggingConfig": {"LogFormat": "JSON"},
    },
}


#: Regions besides us-east-1 that get a few demo functions (sweeps in other regions).
OTHER_REGIONS: dict[str, tuple[str, ...]] = {
    "eu-west-2": ("tuneboard-cpu", "tuneboard-io"),
    "ap-southeast-2": ("tuneboard-cpu", "tuneboard-io"),
}


def build_zip(name: str) -> bytes:
    """Deterministic zip of ``sandbox/functions/<name>/`` (same bytes every time)."""
    source = FUNCTIONS_DIR / name
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(source.rglob("*")):
            if path.is_dir() or "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), (1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def _desired(name: str) -> dict:
    spec = FUNCTIONS[name]
    return {
        "Runtime": RUNTIME,
        "Role": ROLE,
        "Handler": "handler.handler",
        "Description": spec["Description"],
        "MemorySize": spec["MemorySize"],
        "Timeout": spec["Timeout"],
        "Environment": spec.get("Environment", {"Variables": {}}),
        "LoggingConfig": spec.get("LoggingConfig", {"LogFormat": "Text"}),
    }


def _differs(current: dict, desired: dict) -> bool:
    for key, value in desired.items():
        if key == "Environment":
            if (current.get("Environment") or {}).get("Variables", {}) != value["Variables"]:
                return True
        elif key == "LoggingConfig":
            if (current.get("LoggingConfig") or {}).get("LogFormat") != value["LogFormat"]:
                return True
        elif current.get(key) != value:
            return True
    return False


def _wait_updated(client, name: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while client.get_function_configuration(FunctionName=name)["LastUpdateStatus"] == (
        "InProgress"
    ):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} still InProgress after {timeout_s} s")
        time.sleep(0.05)


def seed_all_regions(endpoint_url: str) -> dict[str, dict[str, str]]:
    """Every demo function in us-east-1, and ``OTHER_REGIONS``' in theirs:
    {region: {name: created|updated|unchanged}}."""
    summary = {"us-east-1": seed_functions(endpoint_url, "us-east-1")}
    for region, names in OTHER_REGIONS.items():
        summary[region] = seed_functions(endpoint_url, region, names=names)
    return summary


def seed_functions(
    endpoint_url: str | None = None, region: str = "us-east-1", client=None, names=None
) -> dict[str, str]:
    """Create or update the demo functions (``names``, default all) in ``region``;
    returns {name: created|updated|unchanged}."""
    if client is None:
        import boto3

        client = boto3.client(
            "lambda",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - the sandbox's fixed credentials
        )
    summary = {}
    for name in names or FUNCTIONS:
        code = build_zip(name)
        desired = _desired(name)
        try:
            current = client.get_function_configuration(FunctionName=name)
        except client.exceptions.ResourceNotFoundException:
            client.create_function(FunctionName=name, Code={"ZipFile": code}, **desired)
            summary[name] = "created"
            continue
        changed = False
        _wait_updated(client, name)
        if current["CodeSha256"] != base64.b64encode(hashlib.sha256(code).digest()).decode():
            client.update_function_code(FunctionName=name, ZipFile=code)
            _wait_updated(client, name)
            changed = True
        if _differs(current, desired):
            client.update_function_configuration(FunctionName=name, **desired)
            _wait_updated(client, name)
            changed = True
        summary[name] = "updated" if changed else "unchanged"
    return summary
