"""Power Tuning's state machine input (the JSON a team already keeps for each function) as
Tuneboard sweep parameters, with a note for every key that maps to something different or to
nothing. The values are raw: ``tuning.params.SweepParams.parse`` checks them like any other
input, so a bad value gets the same message as in the form or the API.

Keys as documented in Power Tuning's README-INPUT-OUTPUT.md (4.x)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

#: Power Tuning's deploy-time default ``PowerValues``, used when the input names none.
DEFAULT_POWER_VALUES = [128, 256, 512, 1024, 1536, 3008]

#: Keys that mean the same thing in both tools: Power Tuning key -> SweepParams field.
SAME_MEANING = {
    "lambdaARN": "function",
    "num": "invocations_per_size",
    "payloadS3": "payload_s3",
    "strategy": "strategy",
    "balancedWeight": "balanced_weight",
    "dryRun": "dry_run",
    "preProcessorARN": "pre_processor",
    "postProcessorARN": "post_processor",
    "discardTopBottom": "discard_fraction",
    "sleepBetweenRunsMs": "sleep_between_ms",
    "onlyColdStarts": "cold_starts_only",
    "allowedExceptions": "allowed_exceptions",
}

#: Keys with nothing to set here, and why.
NOT_NEEDED = {
    "disablePayloadLogs": "Tuneboard never logs payloads.",
    "includeOutputResults": "every size's average cost and duration are always on the run "
    "page, in the API and in the exports (function outputs are never stored).",
}

#: Keys read together with others below.
HANDLED = {"powerValues", "payload", "parallelInvocation", "autoOptimize", "autoOptimizeAlias"}


class NotAnInput(ValueError):
    """The text is not a Power Tuning input object; str() is for users."""


@dataclass
class Translation:
    """Sweep parameter values (raw, unchecked) and what the user should know about them."""

    values: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def parse_input_text(text: str) -> Translation:
    """A pasted Power Tuning input (JSON text) as sweep parameters."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise NotAnInput("The input is nested too deeply to be a Power Tuning input.") from None
    except ValueError as exc:
        raise NotAnInput(f"This is not JSON: {exc}.") from None
    return translate(data)


def translate(data) -> Translation:
    """A Power Tuning input object as sweep parameters (see the module docstring)."""
    if not isinstance(data, dict):
        raise NotAnInput(
            'A Power Tuning input is a JSON object such as {"lambdaARN": "…", "num": 10}.'
        )
    if "lambdaARN" not in data:
        raise NotAnInput("The input has no lambdaARN: which function should be tuned?")
    out = Translation()
    for key, name in SAME_MEANING.items():
        if key in data:
            out.values[name] = data[key]
    _power_values(data, out)
    _payload(data, out)
    _parallel(data, out)
    _auto_optimize(data, out)
    for key, why in NOT_NEEDED.items():
        if data.get(key):
            out.notes.append(f"{key}: not needed — {why}")
    unknown = sorted(set(data) - set(SAME_MEANING) - set(NOT_NEEDED) - HANDLED)
    if unknown:
        shown = ", ".join(str(key)[:40] for key in unknown[:5])
        out.notes.append(f"Ignored (not Power Tuning input keys): {shown}.")
    return out


def _power_values(data: dict, out: Translation) -> None:
    if "powerValues" in data:
        out.values["memory_sizes"] = data["powerValues"]  # a list, or "ALL"
    else:
        out.values["memory_sizes"] = DEFAULT_POWER_VALUES
        out.notes.append(
            "powerValues: not given, so Power Tuning's default sizes are filled in "
            f"({', '.join(map(str, DEFAULT_POWER_VALUES))} MB)."
        )


def _payload(data: dict, out: Translation) -> None:
    """Power Tuning sends a string that is JSON as that JSON, any other string as a JSON
    string, and a list as weighted payloads."""
    if "payload" not in data:
        return
    payload = data["payload"]
    if isinstance(payload, list):
        out.values["weighted_payloads"] = payload
        return
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except (ValueError, RecursionError):
            pass  # sent as a JSON string, as Power Tuning does
    out.values["payload"] = payload


def _parallel(data: dict, out: Translation) -> None:
    """Power Tuning's parallelInvocation starts all ``num`` invocations of a size at once."""
    parallel = data.get("parallelInvocation")
    if not isinstance(parallel, bool):
        if parallel is not None:
            out.values["parallel"] = parallel  # SweepParams names the bad value
        return
    out.values["parallel"] = parallel
    num = data.get("num")
    if parallel and isinstance(num, int) and not isinstance(num, bool) and num > 0:
        out.values["concurrency"] = num
        out.notes.append(
            f"parallelInvocation: all {num} invocations of a size at once, as Power Tuning "
            "does (concurrency cap = num); lower the cap to protect downstream systems."
        )


def _auto_optimize(data: dict, out: Translation) -> None:
    alias = data.get("autoOptimizeAlias")
    if data.get("autoOptimize") is True:
        out.values["auto_apply_target"] = alias if alias else "$LATEST"
    elif alias:
        out.notes.append(
            f"autoOptimizeAlias {str(alias)[:64]!r} is ignored: autoOptimize is not true "
            "(as in Power Tuning)."
        )
