"""Interop with AWS Lambda Power Tuning.

* Its visualizer reads results from the URL hash:
  ``https://lambda-power-tuning.show/#<powers>;<durations>;<costs>`` where each part is the
  standard base64 of a little-endian array — Int16 memory sizes (MB), Float32 average
  durations (ms), Float32 average costs (USD) — sorted by memory (lambda/utils.js,
  ``buildVisualizationURL``).
* Its state machine's output (the analyzer's result) looks like
  ``{"power": 512, "cost": 1.2e-6, "duration": 10.4, "stateMachine": {"executionCost": …,
  "lambdaCost": …, "visualization": "https://lambda-power-tuning.show/#…"}, "stats": [...]}``,
  sometimes wrapped in ``{"results": …}``; ``stats`` (when ``includeOutputResults`` is on)
  holds ``{"value"|"power", "averagePrice"|"cost", "averageDuration"|"duration"}`` per size.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

VISUALIZER_URL = "https://lambda-power-tuning.show/"
IMPORTED_FROM = "power-tuning"


class ImportProblem(ValueError):
    """The text is neither a Power Tuning output nor a visualizer URL; str() says why."""


@dataclass(frozen=True)
class Point:
    memory_mb: int
    duration_ms: float
    cost_usd: float


@dataclass(frozen=True)
class Imported:
    points: tuple[Point, ...]
    optimal_power: int | None = None
    strategy_hint: str | None = None
    lambda_cost_usd: float | None = None
    visualization_url: str = ""


def _b64(values, fmt: str) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}{fmt}", *values)).decode("ascii")


def encode_visualizer_url(points, base_url: str = VISUALIZER_URL) -> str:
    """Visualizer link for ``(memory_mb, avg_duration_ms, avg_cost_usd)`` triples."""
    ordered = sorted(points, key=lambda p: p[0])
    powers = [int(p[0]) for p in ordered]
    if any(not -32768 <= power <= 32767 for power in powers):
        raise ValueError("memory sizes must fit in an Int16")
    durations = [float(p[1]) for p in ordered]
    costs = [float(p[2]) for p in ordered]
    return f"{base_url}#{_b64(powers, 'h')};{_b64(durations, 'f')};{_b64(costs, 'f')}"


def _unb64(part: str, fmt: str, size: int) -> list:
    part = part.strip()
    part += "=" * (-len(part) % 4)
    try:
        raw = base64.b64decode(part, validate=True)
    except (binascii.Error, ValueError):
        raise ImportProblem("The visualizer link's data is not valid base64.") from None
    if len(raw) % size:
        raise ImportProblem("The visualizer link's data has a truncated value.")
    return list(struct.unpack(f"<{len(raw) // size}{fmt}", raw))


def decode_visualizer_url(url: str) -> list[Point]:
    """Points of a visualizer link (values are Float32, so ~7 significant digits)."""
    url = url.strip()
    fragment = urlsplit(url).fragment if "#" in url else ""
    if not fragment:
        raise ImportProblem(
            "A visualizer link ends with #<sizes>;<durations>;<costs>; this one has no '#' part."
        )
    parts = fragment.split(";")
    if len(parts) != 3:
        raise ImportProblem(
            f"A visualizer link has 3 parts after '#' separated by ';', this one has {len(parts)}."
        )
    powers = _unb64(parts[0], "h", 2)
    durations = _unb64(parts[1], "f", 4)
    costs = _unb64(parts[2], "f", 4)
    if not (len(powers) == len(durations) == len(costs)) or not powers:
        raise ImportProblem(
            f"The link holds {len(powers)} sizes, {len(durations)} durations and "
            f"{len(costs)} costs; they must be as many, and at least one."
        )
    return [
        Point(int(m), float(d), float(c)) for m, d, c in zip(powers, durations, costs, strict=True)
    ]


def _number(value, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ImportProblem(f"{what} is not a number: {value!r}.") from None
    return number


def _points_from_stats(stats) -> list[Point]:
    points = []
    for index, stat in enumerate(stats, start=1):
        if not isinstance(stat, dict):
            raise ImportProblem(f"stats item {index} is not an object.")
        power = stat.get("value", stat.get("power"))
        duration = stat.get("averageDuration", stat.get("duration"))
        cost = stat.get("averagePrice", stat.get("cost"))
        if power is None or duration is None or cost is None:
            raise ImportProblem(
                f"stats item {index} needs value/power, averageDuration/duration and "
                "averagePrice/cost."
            )
        points.append(
            Point(
                int(_number(power, "power")),
                _number(duration, "duration"),
                _number(cost, "cost"),
            )
        )
    return points


def parse_output(data) -> Imported:
    """Power Tuning's state machine output (a dict, possibly under "results")."""
    if isinstance(data, dict) and isinstance(data.get("results"), dict):
        data = data["results"]
    if not isinstance(data, dict):
        raise ImportProblem("Power Tuning's output is a JSON object with power, cost, duration.")
    machine = data.get("stateMachine") or {}
    url = machine.get("visualization") if isinstance(machine, dict) else None
    if data.get("stats"):
        points = _points_from_stats(data["stats"])
    elif url:
        points = decode_visualizer_url(url)
    else:
        raise ImportProblem(
            "This output has neither stats nor stateMachine.visualization: nothing to import."
        )
    optimal = data.get("power")
    lambda_cost = machine.get("lambdaCost") if isinstance(machine, dict) else None
    return Imported(
        points=tuple(sorted(points, key=lambda p: p.memory_mb)),
        optimal_power=int(_number(optimal, "power")) if optimal is not None else None,
        lambda_cost_usd=_number(lambda_cost, "lambdaCost") if lambda_cost is not None else None,
        visualization_url=url or "",
    )


def parse_source(text: str) -> Imported:
    """A pasted output JSON or visualizer URL."""
    text = (text or "").strip()
    if not text:
        raise ImportProblem("Paste Power Tuning's output JSON or a visualizer link.")
    if text.startswith(("{", "[")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ImportProblem(
                f"The output is not valid JSON: line {error.lineno}, column {error.colno}: "
                f"{error.msg}."
            ) from None
        return parse_output(data)
    if "#" in text:
        points = decode_visualizer_url(text)
        return Imported(
            points=tuple(sorted(points, key=lambda p: p.memory_mb)), visualization_url=text
        )
    raise ImportProblem(
        "That is neither JSON (it should start with '{') nor a visualizer link (…show/#…)."
    )


def run_visualizer_url(results) -> str | None:
    """Visualizer link of a run's successful sizes; None when no size has figures."""
    points = [
        (r.memory_mb, r.avg_duration_ms, r.avg_cost_usd)
        for r in results
        if r.avg_duration_ms is not None and r.avg_cost_usd is not None and r.status != "FAILED"
    ]
    return encode_visualizer_url(points) if points else None


def import_run(
    imported: Imported, *, function, region: str, account=None, strategy="cost", user=None
):
    """Store an imported Power Tuning result as a finished run (marked imported), analysed like
    a run Tuneboard measured. ``function`` is a ``tuning.params.FunctionRef``."""
    from django.db import transaction
    from django.utils import timezone

    from tuning.models import PowerResult, ResultStatus, RunStatus, TuningRun

    now = timezone.now()
    sizes = sorted({p.memory_mb for p in imported.points})
    with transaction.atomic():
        run = TuningRun.objects.create(
            function_arn=function.text,
            function_name=function.name,
            qualifier=function.qualifier,
            region=region,
            function_key=f"{account.pk if account else '-'}:{region}:{function.name}",
            account=account,
            memory_sizes=sizes,
            invocations_per_size=0,
            strategy=strategy,
            status=RunStatus.SUCCEEDED,
            phase="imported",
            imported_from=IMPORTED_FROM,
            created_by=user,
            started_at=now,
            finished_at=now,
            analysis={
                "imported": {
                    "optimal_power": imported.optimal_power,
                    "lambda_cost_usd": imported.lambda_cost_usd,
                    "visualization_url": imported.visualization_url,
                }
            },
        )
        PowerResult.objects.bulk_create(
            PowerResult(
                run=run,
                memory_mb=point.memory_mb,
                status=ResultStatus.SUCCEEDED,
                avg_duration_ms=point.duration_ms,
                mean_duration_ms=point.duration_ms,
                avg_cost_usd=Decimal(repr(point.cost_usd)),
                finished_at=now,
            )
            for point in {p.memory_mb: p for p in imported.points}.values()
        )
        run.store_analysis()
    return run
