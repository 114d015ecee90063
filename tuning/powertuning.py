"""Interop with AWS Lambda Power Tuning.

* Its visualizer reads results from the URL hash:
  ``https://lambda-power-tuning.show/#<powers>;<durations>;<costs>`` where each part is the
  standard base64 of a little-endian array — Int16 memory sizes (MB), Float32 average
  durations (ms), Float32 average costs (USD) — sorted by memory (lambda/utils.js,
  ``buildVisualizationURL``). Its durations are average *billed* durations and its costs
  ``ceil(duration) × price per ms`` at the size: no request fee, no ephemeral storage.
* The visualizer compares two runs with an 8-part hash: ``<powers1>;<durations1>;<costs1>;
  <powers2>;<durations2>;<costs2>;<legend1>;<legend2>``, the legends percent-encoded
  (``encodeURIComponent``; aws-lambda-power-tuning-ui, src/app.js ``compare``). Its sample
  single link ends with a stray ``;``, which it tolerates, and so do we.
* Its state machine's output (the analyzer's result) looks like
  ``{"power": 512, "cost": 1.2e-6, "duration": 10.4, "stateMachine": {"executionCost": …,
  "lambdaCost": …, "visualization": "https://lambda-power-tuning.show/#…"}, "stats": [...]}``,
  sometimes wrapped in ``{"results": …}``; ``stats`` (when ``includeOutputResults`` is on)
  holds ``{"value"|"power", "averagePrice"|"cost", "averageDuration"|"duration"}`` per size.

Imported figures are held to the limits of Tuneboard's own runs before anything is stored:
Lambda's memory sizes, finite non-negative durations (at most Lambda's 15-minute timeout) and
costs, at most ``MAX_MEMORY_SIZES`` sizes, JSON at most ``MAX_PAYLOAD_DEPTH`` levels deep.
"""

from __future__ import annotations

import base64
import binascii
import math
import struct
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote, unquote, urlsplit

from tuning import pricing
from tuning.params import (
    MAX_MEMORY_SIZES,
    check_json,
    check_text,
    clip,
    parse_json_text,
    parse_memory_size,
)

VISUALIZER_URL = "https://lambda-power-tuning.show/"
IMPORTED_FROM = "power-tuning"

#: What may be pasted: Power Tuning's output passes through Step Functions (256 KiB per state).
MAX_SOURCE_CHARS = 256 * 1024
#: Lambda's longest timeout (15 minutes): no average duration can be longer.
MAX_DURATION_MS = 900_000.0
#: Hundreds of times what one invocation can cost (10,240 MB for 15 minutes is about $0.15),
#: well within what a result stores.
MAX_INVOCATION_COST_USD = 100.0


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
    name: str = ""  # the legend of one side of a comparison link


#: Parts of a visualizer hash: one run, or two runs and their legends.
SINGLE_PARTS, COMPARISON_PARTS = 3, 8
#: What encodeURIComponent leaves as it is.
_URI_COMPONENT_SAFE = "-_.!~*'()"


def _b64(values, fmt: str) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}{fmt}", *values)).decode("ascii")


def _hash(points) -> str:
    """``<powers>;<durations>;<costs>`` of ``(memory_mb, avg_duration_ms, avg_cost_usd)``."""
    ordered = sorted(points, key=lambda p: p[0])
    powers = [int(p[0]) for p in ordered]
    if any(not -32768 <= power <= 32767 for power in powers):
        raise ValueError("memory sizes must fit in an Int16")
    durations = [float(p[1]) for p in ordered]
    costs = [float(p[2]) for p in ordered]
    return f"{_b64(powers, 'h')};{_b64(durations, 'f')};{_b64(costs, 'f')}"


def encode_visualizer_url(points, base_url: str = VISUALIZER_URL) -> str:
    """Visualizer link for ``(memory_mb, avg_duration_ms, avg_cost_usd)`` triples."""
    return f"{base_url}#{_hash(points)}"


def encode_comparison_url(first, second, names, base_url: str = VISUALIZER_URL) -> str:
    """The visualizer's two-run comparison link: two runs' triples and their two names."""
    legends = [quote(str(name), safe=_URI_COMPONENT_SAFE) for name in names]
    return f"{base_url}#{_hash(first)};{_hash(second)};{legends[0]};{legends[1]}"


def _unb64(part: str, fmt: str, size: int, what: str = "The visualizer link") -> list:
    part = part.strip()
    part += "=" * (-len(part) % 4)
    try:
        raw = base64.b64decode(part, validate=True)
    except (binascii.Error, ValueError):
        raise ImportProblem(f"{what}'s data is not valid base64.") from None
    if len(raw) % size:
        raise ImportProblem(f"{what}'s data has a truncated value.")
    return list(struct.unpack(f"<{len(raw) // size}{fmt}", raw))


def _hash_parts(url: str) -> list[str]:
    """The ';'-separated parts after '#': 3 (one run) or 8 (a comparison of two runs)."""
    url = url.strip()
    fragment = urlsplit(url).fragment if "#" in url else ""
    if not fragment:
        raise ImportProblem(
            "A visualizer link ends with #<sizes>;<durations>;<costs>; this one has no '#' part."
        )
    parts = fragment.split(";")
    if len(parts) == SINGLE_PARTS + 1 and not parts[-1].strip():
        parts = parts[:SINGLE_PARTS]  # the visualizer's own sample link ends with ';'
    if len(parts) not in (SINGLE_PARTS, COMPARISON_PARTS):
        raise ImportProblem(
            f"A visualizer link has 3 parts after '#' separated by ';' (8 for a comparison of "
            f"two runs), this one has {len(parts)}."
        )
    return parts


def _points(parts: list[str], what: str) -> list[Point]:
    """One run's points from its three hash parts (values are Float32: ~7 digits)."""
    powers = _unb64(parts[0], "h", 2, what)
    durations = _unb64(parts[1], "f", 4, what)
    costs = _unb64(parts[2], "f", 4, what)
    if not (len(powers) == len(durations) == len(costs)) or not powers:
        raise ImportProblem(
            f"{what} holds {len(powers)} sizes, {len(durations)} durations and "
            f"{len(costs)} costs; they must be as many, and at least one."
        )
    _check_count(len(powers), what)
    return [
        _point(m, d, c, f"{what}'s size #{index}")
        for index, (m, d, c) in enumerate(zip(powers, durations, costs, strict=True), start=1)
    ]


#: A legend names a run on pages: a line of text.
MAX_LEGEND_CHARS = 200


def _legend(text: str, what: str) -> str:
    """A comparison link's legend, percent-decoded and held to the limits of a name."""
    try:
        name = unquote(text.strip(), errors="strict")
        return check_text(name, what, max_chars=MAX_LEGEND_CHARS).strip()
    except UnicodeDecodeError:
        raise ImportProblem(f"{what} of the comparison link is not valid UTF-8.") from None
    except ValueError as invalid:
        raise ImportProblem(str(invalid)) from None


def decode_visualizer_links(url: str) -> list[tuple[str, list[Point]]]:
    """``[(name, points)]`` of a visualizer link: one run (name ""), or the two runs of a
    comparison link with their legends."""
    parts = _hash_parts(url)
    if len(parts) == SINGLE_PARTS:
        return [("", _points(parts, "The visualizer link"))]
    names = [_legend(parts[6], "The first legend"), _legend(parts[7], "The second legend")]
    return [
        (names[0], _points(parts[0:3], "The link's first run")),
        (names[1], _points(parts[3:6], "The link's second run")),
    ]


def decode_visualizer_url(url: str) -> list[Point]:
    """Points of a single-run visualizer link (values are Float32, so ~7 significant
    digits); a comparison link is refused (:func:`decode_visualizer_links` reads both)."""
    runs = decode_visualizer_links(url)
    if len(runs) != 1:
        raise ImportProblem("This is a comparison link of two runs, where one run was expected.")
    return runs[0][1]


def _visualizer_link(url, what: str) -> str:
    if not isinstance(url, str):
        raise ImportProblem(f"{what} must be a link (text), got {clip(repr(url))}.")
    url = url.strip()
    try:
        check_text(url, what)
    except ValueError as invalid:
        raise ImportProblem(str(invalid)) from None
    if urlsplit(url).scheme not in ("https", "http"):
        raise ImportProblem(f"{what} must start with https:// (got {clip(url)}).")
    return url


def _check_count(count: int, what: str) -> None:
    if count > MAX_MEMORY_SIZES:
        raise ImportProblem(
            f"{what} holds {count} sizes; at most {MAX_MEMORY_SIZES} can be imported."
        )


def _number(value, what: str, high: float | None = None) -> float:
    """A finite number from 0 to ``high`` (ImportProblem naming ``what`` otherwise)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ImportProblem(f"{what} is not a number: {clip(repr(value))}.")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise ImportProblem(f"{what} is not a number: {clip(repr(value))}.") from None
    if not math.isfinite(number) or number < 0 or (high is not None and number > high):
        limits = f"from 0 to {high:g}" if high is not None else "of 0 or more"
        raise ImportProblem(f"{what} must be a finite number {limits}, got {number:g}.")
    return number


def _memory(value, what: str) -> int:
    try:
        return parse_memory_size(value)
    except ValueError as invalid:
        raise ImportProblem(f"{what}: {invalid}") from None


def _point(memory, duration, cost, where: str) -> Point:
    """One size's figures, held to the limits of Tuneboard's own runs."""
    return Point(
        _memory(memory, where),
        _number(duration, f"{where}: the average duration (ms)", MAX_DURATION_MS),
        _number(cost, f"{where}: the average cost (USD)", MAX_INVOCATION_COST_USD),
    )


def _points_from_stats(stats) -> list[Point]:
    if not isinstance(stats, list):
        raise ImportProblem("stats must be a list, one item per memory size.")
    _check_count(len(stats), "stats")
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
        points.append(_point(power, duration, cost, f"stats item {index}"))
    return points


def parse_output(data) -> Imported:
    """Power Tuning's state machine output (a dict, possibly under "results")."""
    if isinstance(data, dict) and isinstance(data.get("results"), dict):
        data = data["results"]
    if not isinstance(data, dict):
        raise ImportProblem("Power Tuning's output is a JSON object with power, cost, duration.")
    machine = data.get("stateMachine") or {}
    url = machine.get("visualization") if isinstance(machine, dict) else None
    if url is not None:
        url = _visualizer_link(url, "stateMachine.visualization")
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
        optimal_power=_memory(optimal, "power") if optimal is not None else None,
        lambda_cost_usd=_number(lambda_cost, "lambdaCost") if lambda_cost is not None else None,
        visualization_url=url or "",
    )


def parse_sources(text: str) -> list[Imported]:
    """A pasted output JSON or visualizer link: one run; a comparison link: its two runs."""
    text = (text or "").strip()
    if text and not text.startswith(("{", "[")) and "#" in text:
        url = _visualizer_link(text, "The link")
        return [
            Imported(
                points=tuple(sorted(points, key=lambda p: p.memory_mb)),
                visualization_url=url if not name else "",
                name=name,
            )
            for name, points in decode_visualizer_links(url)
        ]
    return [parse_source(text)]


def parse_source(text: str) -> Imported:
    """A pasted output JSON or single-run visualizer URL."""
    text = (text or "").strip()
    if not text:
        raise ImportProblem("Paste Power Tuning's output JSON or a visualizer link.")
    if len(text) > MAX_SOURCE_CHARS:
        raise ImportProblem(
            f"This text has {len(text):,} characters; Power Tuning's output is at most "
            f"{MAX_SOURCE_CHARS:,} ({MAX_SOURCE_CHARS // 1024} KiB, Step Functions' limit)."
        )
    if text.startswith(("{", "[")):
        try:
            data = parse_json_text(text, "The output")
        except ValueError as error:
            raise ImportProblem(str(error)) from None
        imported = parse_output(data)  # checks each figure it keeps, naming it
        try:
            # The same limits as a payload (its size is already limited as text).
            check_json(data, "The output", max_bytes=None)
        except ValueError as invalid:
            raise ImportProblem(str(invalid)) from None
        return imported
    if "#" in text:
        url = _visualizer_link(text, "The link")
        points = decode_visualizer_url(url)
        return Imported(
            points=tuple(sorted(points, key=lambda p: p.memory_mb)), visualization_url=url
        )
    raise ImportProblem(
        "That is neither JSON (it should start with '{') nor a visualizer link (…show/#…)."
    )


def visualizer_points(results) -> list[tuple]:
    """``(memory_mb, avg_duration_ms, avg_cost_usd)`` of the sizes with figures."""
    return [
        (r.memory_mb, r.avg_duration_ms, r.avg_cost_usd)
        for r in results
        if r.avg_duration_ms is not None and r.avg_cost_usd is not None and r.status != "FAILED"
    ]


def run_visualizer_url(results) -> str | None:
    """Visualizer link of a run's successful sizes; None when no size has figures."""
    points = visualizer_points(results)
    return encode_visualizer_url(points) if points else None


def comparison_visualizer_url(first, second, names) -> str | None:
    """The visualizer's comparison link of two runs' results; None unless both have figures."""
    a, b = visualizer_points(first), visualizer_points(second)
    return encode_comparison_url(a, b, names) if a and b else None


#: How far an imported cost may be from Tuneboard's price for the architecture to be named.
ARCHITECTURE_TOLERANCE = 0.1


def infer_architecture(points, region: str) -> str | None:
    """The architecture whose price explains an imported run's costs: Power Tuning prices
    ``ceil(duration)`` at x86_64 or arm64 (arm64 is 20 % cheaper), without the request fee
    (links exported by Tuneboard include it, so both are tried). None when no price is known
    for the region, no size has a cost, or no architecture comes within 10 %."""
    usable = [p for p in points if p.cost_usd > 0 and p.duration_ms > 0]
    if not usable:
        return None
    try:
        fee = float(pricing.request_price(region))
        prices = {a: float(pricing.price_per_gb_second(a, region)) for a in pricing.ARCHITECTURES}
    except ValueError:
        return None

    def error(architecture: str, with_fee: bool) -> float:
        misses = sorted(
            abs(
                math.ceil(p.duration_ms) / 1000 * p.memory_mb / 1024 * prices[architecture]
                + (fee if with_fee else 0.0)
                - p.cost_usd
            )
            / p.cost_usd
            for p in usable
        )
        return misses[len(misses) // 2]  # the median size: one odd figure does not decide

    miss, architecture = min(
        (error(a, with_fee), a) for a in pricing.ARCHITECTURES for with_fee in (False, True)
    )
    return architecture if miss <= ARCHITECTURE_TOLERANCE else None


def imported_facts(run) -> dict:
    """What an imported run carries from its import: ``name`` (a comparison legend),
    ``architecture`` (inferred from its costs, or None)."""
    return (run.analysis or {}).get("imported") or {}


def imported_sweep_cost(run, format_usd) -> str:
    """What Power Tuning said its sweep cost in Lambda charges (its ``lambdaCost``: duration
    only, no request fees), for an imported run that carries it; else ""."""
    imported = (run.analysis or {}).get("imported") or {}
    cost = imported.get("lambda_cost_usd")
    if cost is None:
        return ""
    return (
        f"Power Tuning reported {format_usd(Decimal(repr(cost)))} in Lambda charges for its "
        "sweep (lambdaCost: duration only, without request fees)."
    )


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
    architecture = infer_architecture(imported.points, region)
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
            # Only what is known: the architecture its costs were priced at, when they tell.
            original_config={"Architectures": [architecture]} if architecture else {},
            analysis={
                "imported": {
                    "optimal_power": imported.optimal_power,
                    "lambda_cost_usd": imported.lambda_cost_usd,
                    "visualization_url": imported.visualization_url,
                    "name": imported.name,
                    "architecture": architecture,
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
