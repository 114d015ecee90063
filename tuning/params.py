"""Every sweep parameter and limit, declared once.

``SweepParams`` is what a sweep is asked to do. Each of its fields carries a ``Param`` (label,
help text, limits, command-line flag), and everything that takes or shows sweep parameters is
built from those: the web form (``tuning.forms.SweepForm``), the JSON API body, the
``manage.py sweep`` options, the run's JSON (``tuning.serializers``), "re-run" and the form
values of "re-run with changes". A new field added here reaches all of them.

``SweepParams.parse(values)`` validates raw values (JSON values from the API, text from the
form and the command line) and raises ``InvalidSweep`` naming every bad field: wrong types,
non-finite or out-of-range numbers, control characters in names, and payloads that are too
large or too deeply nested (``MAX_PAYLOAD_BYTES``, ``MAX_PAYLOAD_DEPTH``). The request body as
a whole is limited by Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (dashboard/settings.py).
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from aws.models import allowed_function_patterns, concurrency_cap, function_allowed
from tuning import analysis, regions

MIN_MEMORY_MB = 128
MAX_MEMORY_MB = 10240
MAX_INVOCATIONS_PER_SIZE = 1000
MAX_TOTAL_INVOCATIONS = 20000
MAX_CONCURRENCY = 1000
MAX_SLEEP_BETWEEN_MS = 60_000
DEFAULT_CONCURRENCY = 5
#: Sizes one sweep (or one imported result) may have.
MAX_MEMORY_SIZES = 100
#: Error types a sweep may allow (Invocation.error_type holds at most 200 characters).
MAX_ALLOWED_EXCEPTIONS = 50
MAX_ERROR_TYPE_CHARS = 200
#: Power Tuning's ``powerValues: "ALL"``: 128 to 3008 MB in steps of 64 (its utils.js).
ALL_MEMORY_SIZES = tuple(range(128, 3008 + 1, 64))
_RANGE = re.compile(r"(\d{1,6})\s*-\s*(\d{1,6})\s*/\s*(\d{1,6})")
#: JSON of the payload, and of all weighted payloads together (UTF-8 bytes): what Power Tuning
#: can carry too, its payloads travel through Step Functions (256 KiB per state).
MAX_PAYLOAD_BYTES = 256 * 1024
#: Levels of objects and lists inside one payload (real events have fewer than ten).
MAX_PAYLOAD_DEPTH = 32
#: A payload weight is a relative share; beyond this the sums of weights lose meaning.
MAX_PAYLOAD_WEIGHT = 1_000_000
#: Names, ARNs, aliases, regions, account names: far longer than any real one.
MAX_TEXT_CHARS = 2048

_NAME = r"[A-Za-z0-9_-]{1,64}"
_QUALIFIER = r"\$LATEST|[A-Za-z0-9_-]{1,128}"
FUNCTION_ARN_RE = re.compile(
    rf"^arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[a-z]{{2}}(?:-[a-z]+)+-\d):"
    rf"(?P<account>\d{{12}}):function:(?P<name>{_NAME})(?::(?P<qualifier>{_QUALIFIER}))?$"
)
_PARTIAL_ARN_RE = re.compile(
    rf"^(?P<account>\d{{12}}):function:(?P<name>{_NAME})(?::(?P<qualifier>{_QUALIFIER}))?$"
)
_NAME_RE = re.compile(rf"^(?P<name>{_NAME})(?::(?P<qualifier>{_QUALIFIER}))?$")
#: An alias name: not only digits (that would be a version number).
ALIAS_RE = re.compile(r"^(?!\d+$)[A-Za-z0-9_-]{1,128}$")
#: Aliases named like this belong to Tuneboard's own sweeps.
OWN_ALIAS_PREFIX = "tb-"


class InvalidSweep(ValueError):
    """Sweep parameters are invalid. ``errors`` maps each bad field to a message a user can act
    on; ``field`` is the first of them, ``str()`` all of the messages."""

    def __init__(self, errors: dict[str, str] | str, field: str = ""):
        if isinstance(errors, str):
            errors = {field: errors}
        self.errors = dict(errors)
        self.field = next(iter(self.errors), "")
        super().__init__(" ".join(self.errors.values()))


@dataclass(frozen=True)
class FunctionRef:
    """A function as a user named it: name, optional qualifier, region/account from an ARN."""

    text: str
    name: str
    qualifier: str = ""
    region: str = ""
    account_id: str = ""
    partition: str = ""

    @property
    def unqualified_arn(self) -> str:
        """The function's ARN without qualifier, when the user gave a full ARN (else "")."""
        if not (self.partition and self.region and self.account_id):
            return ""
        return f"arn:{self.partition}:lambda:{self.region}:{self.account_id}:function:{self.name}"


def not_allowed_message(account, name: str) -> str:
    whose = f"account {account.name!r}" if account is not None else "the workers' own credentials"
    where = (
        "the account's list in the admin" if account is not None else "TUNEBOARD_ALLOWED_FUNCTIONS"
    )
    return (
        f"{name} is not among the functions {whose} may sweep "
        f"({', '.join(allowed_function_patterns(account))}); an administrator can change "
        f"{where}."
    )


def parse_function(text) -> FunctionRef:
    """A name, ``name:qualifier``, a partial ARN (``123456789012:function:name``) or a full
    ARN, optionally qualified. InvalidSweep on anything else."""
    text = str(text or "").strip()
    for pattern in (FUNCTION_ARN_RE, _PARTIAL_ARN_RE, _NAME_RE):
        match = pattern.match(text)
        if match:
            parts = match.groupdict()
            return FunctionRef(
                text=text,
                name=parts["name"],
                qualifier=parts.get("qualifier") or "",
                region=parts.get("region") or "",
                account_id=parts.get("account") or "",
                partition=parts.get("partition") or "",
            )
    if text.startswith("arn:"):
        message = (
            "This ARN is not a Lambda function ARN. Expected "
            "arn:aws:lambda:REGION:ACCOUNT_ID:function:NAME[:VERSION_OR_ALIAS]."
        )
    else:
        message = (
            f"{shown(text)} is not a Lambda function name or ARN: enter a name (letters, digits, "
            "- and _, at most 64 characters), optionally with :VERSION or :ALIAS, or a function "
            "ARN."
        )
    raise InvalidSweep(message, "function")


# --------------------------------------------------------------------------- value parsers
# Each takes a raw value (``text=True``: as typed in a form or a terminal) and returns the
# clean value or raises ValueError with a message for users.


def clip(text: str, limit: int = 60) -> str:
    """Text for an error message, shortened: users may send megabytes."""
    return text if len(text) <= limit else f"{text[:limit]}…"


def shown(value) -> str:
    """repr() of a value for an error message, shortened."""
    try:
        return clip(repr(value))
    except ValueError:  # an int too long to convert to text
        return "a number too long to show"


# Characters no name, alias, region or account name has; PostgreSQL cannot store U+0000, and
# an unpaired surrogate is not valid Unicode (it cannot even be encoded to be stored).
_FORBIDDEN_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")


def check_text(text: str, label: str, max_chars: int = MAX_TEXT_CHARS) -> str:
    """``text`` unchanged, or ValueError when it is too long or has a control character."""
    if len(text) > max_chars:
        raise ValueError(f"{label} must be at most {max_chars:,} characters, got {len(text):,}.")
    bad = _FORBIDDEN_CHARS.search(text)
    if bad:
        raise ValueError(
            f"{label} must not contain the character U+{ord(bad.group()):04X} (control "
            "characters and unpaired surrogates are refused)."
        )
    return text


def parse_json_text(text: str, what: str):
    """JSON text -> value; a syntax error names its line and column. NaN and Infinity parse
    (Python's json accepts them): ``check_json`` refuses them with the field's name."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        lines = text.splitlines() or [""]
        line = lines[error.lineno - 1] if 0 < error.lineno <= len(lines) else ""
        raise ValueError(
            f"{what} is not valid JSON: line {error.lineno}, column {error.colno}: {error.msg}."
            + (f" The line reads: {line.strip()[:80]}" if line.strip() else "")
        ) from None
    except RecursionError:
        raise ValueError(
            f"{what} is nested too deeply: at most {MAX_PAYLOAD_DEPTH} levels of objects and "
            "lists are allowed."
        ) from None
    except ValueError as error:  # e.g. an integer of more than 4300 digits
        raise ValueError(f"{what} is not valid JSON: {error}") from None


def check_json(value, label: str, max_bytes: int | None = MAX_PAYLOAD_BYTES) -> int:
    """The size in bytes of ``value`` as JSON, or ValueError naming ``label`` and the limit when
    it is not JSON a function can receive and the database can store: only finite numbers, at
    most MAX_PAYLOAD_DEPTH levels deep, at most ``max_bytes`` (None: not measured, 0 returned),
    no U+0000 or unpaired surrogate in strings."""
    stack = [(value, 0)]  # iterative: a recursive walk would fail on the deep values it refuses
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            depth += 1
            if depth > MAX_PAYLOAD_DEPTH:
                raise ValueError(
                    f"{label} is nested more than {MAX_PAYLOAD_DEPTH} levels deep (objects and "
                    f"lists); at most {MAX_PAYLOAD_DEPTH} are allowed."
                )
            if isinstance(item, dict):
                stack.extend((key, depth) for key in item)
                stack.extend((child, depth) for child in item.values())
            else:
                stack.extend((child, depth) for child in item)
        elif isinstance(item, str):
            if "\x00" in item or _SURROGATES.search(item):
                raise ValueError(
                    f"{label} must not contain U+0000 or unpaired surrogates in its strings "
                    "(they cannot be stored)."
                )
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise ValueError(
                    f"{label} must not contain NaN or Infinity (JSON has no such numbers); use a "
                    "finite number or null."
                )
        elif not (item is None or isinstance(item, bool | int)):
            raise ValueError(f"{label} must be JSON: {shown(item)} is not a JSON value.")
    if max_bytes is None:
        return 0
    try:
        size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    except (TypeError, ValueError) as exc:  # e.g. a key that is not a string
        raise ValueError(f"{label} must be JSON: {exc}") from None
    if size > max_bytes:
        raise ValueError(
            f"{label} takes {size:,} bytes as JSON; at most {max_bytes:,} bytes "
            f"({max_bytes // 1024} KiB) are allowed."
        )
    return size


def parse_memory_size(item) -> int:
    """One memory size (128, "512", "1024MB", 2048.0) -> MB within Lambda's limits."""
    text = str(item).lower().removesuffix("mb").strip()
    if isinstance(item, bool) or not re.fullmatch(r"-?\d+(\.0*)?", text):
        raise ValueError(f"“{clip(str(item))}” is not a whole number of MB.")
    whole = text.split(".")[0]
    if len(whole) > 18:  # out of range; not converted, int() refuses 4,300+ digits
        side = "below Lambda's minimum" if whole.startswith("-") else "above Lambda's maximum"
        limit = MIN_MEMORY_MB if whole.startswith("-") else MAX_MEMORY_MB
        raise ValueError(f"{clip(whole)} MB is {side} of {limit} MB.")
    size = int(whole)
    if size < MIN_MEMORY_MB:
        raise ValueError(f"{size} MB is below Lambda's minimum of {MIN_MEMORY_MB} MB.")
    if size > MAX_MEMORY_MB:
        raise ValueError(f"{size} MB is above Lambda's maximum of {MAX_MEMORY_MB} MB.")
    return size


def _memory_range(text: str) -> list[int]:
    """ "FROM-TO/STEP" (e.g. "128-1024/64") -> the sizes from FROM to TO (included) by STEP."""
    first, last, step = (int(part) for part in _RANGE.fullmatch(text).groups())
    if step < 1 or first > last:
        raise ValueError(f"“{text}” is not a range: write FROM-TO/STEP, e.g. 128-1024/64.")
    count = (last - first) // step + 1
    if count > MAX_MEMORY_SIZES:
        raise ValueError(f"“{text}” holds {count} sizes; at most {MAX_MEMORY_SIZES} per sweep.")
    return [parse_memory_size(size) for size in range(first, last + 1, step)]


def parse_memory_sizes(value) -> list[int]:
    """'128, 512 1024MB', [128, 512], "ALL" (Power Tuning's 128–3008 MB every 64 MB) or
    ranges "FROM-TO/STEP" -> sorted unique sizes, each within Lambda's limits."""
    if isinstance(value, str) and value.strip().upper() == "ALL":
        return list(ALL_MEMORY_SIZES)
    if isinstance(value, list | tuple):
        items = list(value)
    elif isinstance(value, str | int | float) and not isinstance(value, bool):
        text = re.sub(r"\s*([-/])\s*(?=\d)", r"\1", str(value).strip())  # "128 - 512 / 64"
        items = [item for item in re.split(r"[\s,;]+", text) if item]
    else:
        raise ValueError("Memory sizes must be a list of whole numbers of MB, e.g. [128, 512].")
    if not items:
        raise ValueError("Enter at least one memory size in MB, e.g. 128, 512, 1024.")
    errors, sizes = [], set()
    for item in items:
        try:
            if isinstance(item, str) and _RANGE.fullmatch(item):
                sizes.update(_memory_range(item))
            else:
                sizes.add(parse_memory_size(item))
        except ValueError as invalid:
            errors.append(str(invalid))
    if errors:
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        raise ValueError(" ".join(errors[:3]) + more)
    if len(sizes) > MAX_MEMORY_SIZES:
        raise ValueError(f"At most {MAX_MEMORY_SIZES} memory sizes per sweep, got {len(sizes)}.")
    return sorted(sizes)


def _whole(value, label: str, low: int, high: int) -> int:
    is_int = isinstance(value, int) and not isinstance(value, bool)
    is_whole_float = isinstance(value, float) and value.is_integer()
    is_digits = isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,18}\s*", value)
    if not (is_int or is_whole_float or is_digits):
        raise ValueError(f"{label} must be a whole number, got {shown(value)}.")
    number = int(value)
    if not low <= number <= high:
        raise ValueError(f"{label} must be between {low} and {high}, got {shown(number)}.")
    return number


def _number(value, label: str, low: float, high: float) -> float:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if not (is_number or isinstance(value, str) and value.strip()):
        raise ValueError(f"{label} must be a number, got {shown(value)}.")
    try:
        number = float(value)
    except (ValueError, OverflowError):  # OverflowError: an int beyond a float's range
        raise ValueError(f"{label} must be a number, got {shown(value)}.") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise ValueError(f"{label} must be between {low:g} and {high:g}, got {shown(value)}.")
    return number


def _flag(value, label: str, text: bool) -> bool:
    if isinstance(value, bool):
        return value
    if text and str(value).lower() in ("on", "true", "1", "yes"):
        return True
    if text and str(value).lower() in ("", "off", "false", "0", "no"):
        return False
    raise ValueError(f"{label} must be true or false.")


def _json_value(value, label: str, text: bool):
    if text and isinstance(value, str):
        value = parse_json_text(value, label) if value.strip() else {}
    check_json(value, label)
    return value


def _weighted(value, label: str, text: bool) -> list[dict]:
    if text and isinstance(value, str):
        value = parse_json_text(value, label) if value.strip() else []
    if not value:
        return []
    if not isinstance(value, list):
        raise ValueError(f'{label} must be a JSON list: [{{"payload": {{...}}, "weight": 3}}, …].')
    out, total = [], 0
    for index, item in enumerate(value, start=1):
        if not isinstance(item, dict) or "payload" not in item:
            raise ValueError(f'Weighted payload #{index} needs a "payload" key.')
        weight = item.get("weight", 1)
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise ValueError(f'Weighted payload #{index}: "weight" must be a number.')
        # The bounds first: math.isfinite raises OverflowError on an int beyond a float's range.
        if not (0 < weight <= MAX_PAYLOAD_WEIGHT and math.isfinite(weight)):
            raise ValueError(
                f'Weighted payload #{index}: "weight" must be greater than 0 and at most '
                f"{MAX_PAYLOAD_WEIGHT:,}, got {shown(weight)}."
            )
        total += check_json(item["payload"], f"Weighted payload #{index}")
        out.append({"payload": item["payload"], "weight": weight})
    if total > MAX_PAYLOAD_BYTES:
        raise ValueError(
            f"{label} take {total:,} bytes as JSON together; at most {MAX_PAYLOAD_BYTES:,} bytes "
            f"({MAX_PAYLOAD_BYTES // 1024} KiB) are allowed."
        )
    return out


def _account(value):
    """An AwsAccount, its name, or nothing (the workers' own credentials)."""
    from aws.models import AwsAccount

    if value in (None, ""):
        return None
    if isinstance(value, AwsAccount):
        return value
    if not isinstance(value, str):
        raise ValueError(f"Account must be an account's name, got {shown(value)}.")
    account = AwsAccount.objects.filter(name=value).first()
    if account is None:
        known = ", ".join(AwsAccount.objects.values_list("name", flat=True)) or "none"
        raise ValueError(f"No account named {shown(value)} (known: {known}).")
    return account


# Bucket names: 3–63 lowercase letters, digits, dots and hyphens (S3's naming rules).
_URI_RE = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.+)$")


def parse_s3_uri(text: str) -> tuple[str, str]:
    """(bucket, key) of ``s3://bucket/key``; ValueError with a user message otherwise."""
    match = _URI_RE.match(text)
    if not match or len(match["key"].encode()) > 1024:
        raise ValueError(
            f"Payload from S3 must look like s3://bucket/key (got {text[:80]!r}); bucket names "
            "are 3–63 lowercase letters, digits, dots and hyphens."
        )
    return match["bucket"], match["key"]


def parse_region(value) -> str:
    """A region where Lambda runs ("" for none given); prices need not be known."""
    region = str(value or "").strip()
    if region and not regions.is_lambda_region(region):
        raise ValueError(regions.invalid_region_message(region))
    return region


def _strategy(value) -> str:
    if value not in analysis.STRATEGIES:
        raise ValueError(
            f"Unknown strategy {value!r}: choose one of {', '.join(analysis.STRATEGIES)}."
        )
    return value


def _names(value, label: str) -> list[str]:
    """ "A, B" or ["A", "B"] -> error type names (as a function's errorType reports them)."""
    items = re.split(r"[\s,;]+", value.strip()) if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
        raise ValueError(f"{label} must be a list of error type names, got {shown(value)}.")
    names = list(dict.fromkeys(item.strip() for item in items if item.strip()))
    if len(names) > MAX_ALLOWED_EXCEPTIONS:
        raise ValueError(f"{label}: at most {MAX_ALLOWED_EXCEPTIONS} names, got {len(names)}.")
    for name in names:
        check_text(name, label)
        if len(name) > MAX_ERROR_TYPE_CHARS:
            raise ValueError(f"{label}: {clip(name)} is longer than {MAX_ERROR_TYPE_CHARS}.")
    return names


def _processor(value: str, label: str) -> str:
    """A processor function's name or ARN ("" = none)."""
    if not value.strip():
        return ""
    try:
        return parse_function(value).text
    except InvalidSweep as invalid:
        raise ValueError(f"{label}: {invalid}") from None


def _target(value) -> str:
    target = str(value or "").strip()
    if target and target != "$LATEST" and not ALIAS_RE.match(target):
        raise ValueError(
            f"Auto-apply target {target!r} must be $LATEST or an alias name (letters, digits, "
            "- and _; not only digits)."
        )
    if target.startswith(OWN_ALIAS_PREFIX):
        raise ValueError("Aliases starting with 'tb-' belong to Tuneboard's own sweeps.")
    return target


# --------------------------------------------------------------------------- declarations


@dataclass(frozen=True)
class Param:
    """How one sweep parameter is asked for, checked and shown."""

    # function|sizes|int|float|bool|json|weighted|strategy|account|region|target|names|
    # processor|s3uri
    kind: str
    label: str
    help: str = ""
    low: float | None = None
    high: float | None = None
    cli: str = ""  # the manage.py sweep option

    def parse(self, value, *, text: bool = False):
        kind, label = self.kind, self.label
        if kind in ("function", "target", "region", "strategy", "account", "processor"):
            if kind == "account" and not isinstance(value, str):
                return _account(value)  # an AwsAccount (forms, re-runs) or an error
            if not isinstance(value, str):
                raise ValueError(f"{label} must be a string, got {shown(value)}.")
            check_text(value.strip(), label)  # surrounding whitespace is stripped later
        if kind == "function":
            return parse_function(value).text
        if kind == "sizes":
            return parse_memory_sizes(value)
        if kind == "int":
            return _whole(value, label, int(self.low), int(self.high))
        if kind == "float":
            return _number(value, label, self.low, self.high)
        if kind == "bool":
            return _flag(value, label, text)
        if kind == "json":
            return _json_value(value, label, text)
        if kind == "weighted":
            return _weighted(value, label, text)
        if kind == "strategy":
            return _strategy(value)
        if kind == "account":
            return _account(value)
        if kind == "region":
            return parse_region(value)
        if kind == "target":
            return _target(value)
        if kind == "names":
            return _names(value, label)
        if kind == "processor":
            return _processor(value, label)
        if kind == "s3uri":
            if not isinstance(value, str):
                raise ValueError(f"{label} must be a string, got {shown(value)}.")
            text = check_text(value.strip(), label)
            return parse_s3_uri(text) and text if text else ""
        raise AssertionError(f"unknown parameter kind {kind}")

    def to_json(self, value):
        if self.kind == "account":
            return value.name if value is not None else None
        return value

    def to_text(self, value) -> str:
        """The value as typed into the form (for "re-run with changes")."""
        if self.kind in ("sizes", "names"):
            return ", ".join(str(item) for item in value)
        if self.kind in ("json", "weighted"):
            return json.dumps(value, indent=2) if value else ("{}" if self.kind == "json" else "")
        if self.kind == "account":
            return value.pk if value is not None else ""
        return value


def param(default, **spec):
    factory = {"default_factory": default} if callable(default) else {"default": default}
    return field(metadata={"param": Param(**spec)}, **factory)


@dataclass(frozen=True)
class SweepParams:
    """What a sweep is asked to do (the TuningRun fields of the same names)."""

    function: str = param(
        "",
        kind="function",
        label="Function",
        help="A name, name:ALIAS, name:VERSION or function ARN (in the AWS account of the "
        "sweep's credentials). Lambda publishes versions only from $LATEST, so the sweep's test "
        "versions are always $LATEST at each memory size: with a qualifier the sweep runs only "
        "when that version (or each version the alias routes to) has $LATEST's code and "
        "configuration apart from memory, and is refused otherwise, naming what differs.",
    )
    memory_sizes: list = param(
        list,
        kind="sizes",
        label="Memory sizes",
        help=f"MB, separated by commas; each {MIN_MEMORY_MB}–{MAX_MEMORY_MB}. Ranges as "
        "FROM-TO/STEP (e.g. 128-1024/64); ALL is Power Tuning's 128–3008 MB every 64 MB. "
        "Duplicates are removed and the sizes sorted.",
        cli="--power",
    )
    invocations_per_size: int = param(
        10,
        kind="int",
        label="Invocations per size",
        help=f"1–{MAX_INVOCATIONS_PER_SIZE}; 10 or more recommended. More invocations, "
        "narrower confidence intervals.",
        low=1,
        high=MAX_INVOCATIONS_PER_SIZE,
        cli="--num",
    )
    account: Any = param(
        None,
        kind="account",
        label="Account",
        help="Cross-account access goes through the account's IAM role; empty = the workers' "
        "own credentials.",
    )
    region: str = param(
        "",
        kind="region",
        label="Region",
        help="Where the function is (an ARN says it itself).",
    )
    payload: Any = param(
        dict, kind="json", label="Payload", help="JSON sent as the event of every invocation."
    )
    weighted_payloads: list = param(
        list,
        kind="weighted",
        label="Weighted payloads",
        help='Optional, instead of one payload: [{"payload": {...}, "weight": 3}, …] — each '
        "payload gets its weight's share of the invocations.",
    )
    # Power Tuning's payloadS3: only the URI is stored; the worker reads the object.
    payload_s3: str = param(
        "",
        kind="s3uri",
        label="Payload from S3",
        help="Optional, instead of the payload: s3://bucket/key of a JSON event (up to 6 MB), "
        "read by the worker with the sweep's credentials.",
    )
    parallel: bool = param(False, kind="bool", label="Invoke in parallel")
    concurrency: int = param(
        DEFAULT_CONCURRENCY,
        kind="int",
        label="Concurrency cap",
        help="At most this many invocations at once (protects downstream systems).",
        low=1,
        high=MAX_CONCURRENCY,
    )
    strategy: str = param(
        "cost",
        kind="strategy",
        label="Strategy",
        help="Which size to recommend: lowest cost, fastest, or a balance of both.",
    )
    balanced_weight: float = param(
        0.5,
        kind="float",
        label="Balanced weight",
        help="0 = speed only, 1 = cost only.",
        low=0,
        high=1,
        cli="--weight",
    )
    discard_fraction: float = param(
        0.2,
        kind="float",
        label="Discard fraction",
        help="Share of the slowest and of the fastest invocations left out of the trimmed mean "
        f"(0–{analysis.MAX_DISCARD:g}, as in Power Tuning).",
        low=0,
        high=analysis.MAX_DISCARD,
        cli="--discard",
    )
    cold_starts_only: bool = param(
        False,
        kind="bool",
        label="Cold starts only",
        help="Every measured invocation is a cold start (slower: one version per invocation); "
        "durations then include Init Duration (or SnapStart Restore Duration).",
    )
    dry_run: bool = param(
        False,
        kind="bool",
        label="Dry run",
        help="One invocation per size that checks permissions and configuration (Power "
        "Tuning's dryRun): nothing is measured, recommended or applied.",
    )
    # Beyond Power Tuning: the same code measured on both architectures, through a temporary
    # copy of the function with the other one (tuning.engine.copy), deleted afterwards.
    compare_architectures: bool = param(
        False,
        kind="bool",
        label="Compare x86_64 and arm64",
        help="Also measure the other architecture (Graviton arm64 or x86_64) side by side: a "
        "temporary copy of the function is created from the same code package and "
        "configuration, swept in a companion run and deleted afterwards; one recommendation "
        "across both. Zip packages only.",
    )
    sleep_between_ms: int = param(
        0,
        kind="int",
        label="Sleep between invocations (ms)",
        help="Pause between serial invocations, e.g. to let a downstream system recover.",
        low=0,
        high=MAX_SLEEP_BETWEEN_MS,
        cli="--sleep-ms",
    )
    max_error_share: float = param(
        0.2,
        kind="float",
        label="Maximum error share",
        help="A size fails when more than this share of its invocations errors (0–1).",
        low=0,
        high=1,
    )
    allowed_exceptions: list = param(
        list,
        kind="names",
        label="Allowed exceptions",
        help="Error types (as the function's errorType reports them, e.g. ValidationError) that "
        "do not fail a size: such invocations are measured and shown as allowed errors. Out of "
        "memory and timeouts always fail a size.",
    )
    # Power Tuning's preProcessorARN / postProcessorARN: other functions invoked around each
    # measured invocation, never measured, published or reconfigured (tuning.engine.execute).
    pre_processor: str = param(
        "",
        kind="processor",
        label="Pre-processor function",
        help="Optional: a function (name or ARN, same account and region) invoked before each "
        "measured invocation with its payload; what it returns (unless null) is sent instead. "
        "Not measured.",
    )
    post_processor: str = param(
        "",
        kind="processor",
        label="Post-processor function",
        help="Optional: a function (name or ARN, same account and region) invoked after each "
        "measured invocation with the function's output, e.g. to undo its side effects. Not "
        "measured.",
    )
    auto_apply_target: str = param(
        "",
        kind="target",
        label="Apply the winner automatically to",
        help='Empty = don\'t; "$LATEST" or an alias name (pointed at a new version with the '
        "winning size; created if it does not exist, as Power Tuning's autoOptimizeAlias).",
        cli="--auto-apply",
    )

    # ------------------------------------------------------------------ declarations

    @classmethod
    def declared(cls) -> dict[str, Param]:
        """Every parameter, in order: {field name: Param}."""
        return {f.name: f.metadata["param"] for f in dataclasses.fields(cls)}

    @classmethod
    def default(cls, name: str):
        f = next(f for f in dataclasses.fields(cls) if f.name == name)
        return f.default_factory() if f.default is dataclasses.MISSING else f.default

    # ------------------------------------------------------------------ building

    @classmethod
    def parse(cls, values: dict, *, text: bool = False) -> SweepParams:
        """Validated parameters from raw values (missing ones take their defaults).

        ``text=True`` for values typed as text (form, terminal): JSON fields are then parsed.
        Raises InvalidSweep with a message per bad field.
        """
        clean = cls.parse_fields(values, text=text)
        if clean.get("parallel") and values.get("concurrency", 0) is None:
            raise InvalidSweep({"concurrency": "Parallel mode needs a cap: how many at once?"})
        params = cls(**clean)
        if params.dry_run:  # one call per size, whatever was asked for
            params = dataclasses.replace(params, invocations_per_size=1)
        errors = params._conflicts()
        if errors:
            raise InvalidSweep(errors)
        return params.with_defaults()

    @classmethod
    def parse_fields(cls, values: dict, *, text: bool = False) -> dict:
        """Each given value checked on its own (None = not given): {name: clean value}.
        Raises InvalidSweep with a message per bad or unknown field."""
        declared = cls.declared()
        unknown = sorted(set(values) - set(declared))
        if unknown:  # the first few: a body may hold thousands
            raise InvalidSweep({name: f"Unknown field {shown(name)}." for name in unknown[:5]})
        clean, errors = {}, {}
        for name, spec in declared.items():
            if values.get(name) is None:
                continue  # missing: the default
            try:
                clean[name] = spec.parse(values[name], text=text)
            except ValueError as invalid:  # InvalidSweep is a ValueError too
                errors[name] = str(invalid)
        if errors:
            raise InvalidSweep(errors)
        return clean

    def _conflicts(self) -> dict[str, str]:
        """Checks across fields."""
        errors = {}
        if not self.function:
            errors["function"] = "Enter the function to tune."
        if not self.memory_sizes:
            errors["memory_sizes"] = "Enter at least one memory size in MB, e.g. 128, 512, 1024."
        total = len(self.memory_sizes) * self.invocations_per_size
        if total > MAX_TOTAL_INVOCATIONS:
            errors["invocations_per_size"] = (
                f"{len(self.memory_sizes)} sizes × {self.invocations_per_size} invocations = "
                f"{total:,} invocations; keep a sweep under {MAX_TOTAL_INVOCATIONS:,}."
            )
        weighted = self.weighted_payloads
        if weighted and self.payload not in (None, {}):
            errors["weighted_payloads"] = (
                "Give either one payload or weighted payloads, not both "
                "(empty the payload field or this one)."
            )
        elif len(weighted) > 1 and self.dry_run:
            errors["weighted_payloads"] = (
                "A dry run invokes each size once: give one payload, not weighted payloads."
            )
        elif len(weighted) > self.invocations_per_size:
            errors["weighted_payloads"] = (
                f"{len(weighted)} weighted payloads need at least {len(weighted)} invocations per "
                f"size (one per payload); got {self.invocations_per_size}."
            )
        if self.payload_s3 and (self.weighted_payloads or self.payload not in (None, {})):
            errors["payload_s3"] = (
                "Give the payload inline or from S3, not both "
                "(empty the payload fields or this one)."
            )
        if self.function:
            ref = self.target
            if ref.region and self.region and ref.region != self.region:
                errors["region"] = f"The ARN is in region {ref.region}, not {self.region}."
            account = self.account
            if not function_allowed(account, ref.name):
                errors["function"] = not_allowed_message(account, ref.name)
            cap = concurrency_cap(account)
            if self.parallel and self.concurrency > cap:
                whose = f"account {account.name!r}" if account is not None else "this Tuneboard"
                errors["concurrency"] = (
                    f"At most {cap} invocations at once for a sweep in {whose} (a cap an "
                    "administrator sets: Lambda's concurrency is shared by the whole account)."
                )
            known_id = account.account_id if account is not None else ""
            if ref.account_id and known_id and ref.account_id != known_id:
                errors["account"] = (
                    f"The ARN is in account {ref.account_id} but account {account.name!r} "
                    f"is {known_id}."
                )
        if self.dry_run and self.auto_apply_target:
            errors["auto_apply_target"] = (
                "A dry run measures nothing, so it has no winner to apply: empty this field."
            )
        if self.compare_architectures and self.dry_run:
            errors["compare_architectures"] = (
                "A dry run measures nothing, so there is nothing to compare: untick one of them."
            )
        errors.update(self._processor_conflicts())
        versions = len(self.memory_sizes) * self.invocations_per_size
        cap = settings.TUNEBOARD_MAX_COLD_START_VERSIONS
        if self.cold_starts_only and versions > cap:
            errors["invocations_per_size"] = (
                f"Cold-starts mode publishes one version per invocation: {len(self.memory_sizes)} "
                f"sizes × {self.invocations_per_size} = {versions:,} versions, more than the "
                f"{cap:,} a run may publish (TUNEBOARD_MAX_COLD_START_VERSIONS). Use fewer sizes "
                "or invocations."
            )
        return errors

    def _processor_conflicts(self) -> dict[str, str]:
        """Processors are other functions of the sweep's account and region that the account
        allows (a sweep touches only what it may)."""
        errors = {}
        target = self.target if self.function else None
        known_id = self.account.account_id if self.account is not None else ""
        for name in ("pre_processor", "post_processor"):
            if not getattr(self, name):
                continue
            ref, label = parse_function(getattr(self, name)), self.declared()[name].label
            account_id = (target.account_id if target else "") or known_id
            if target and ref.name == target.name:
                errors[name] = f"{label} must be another function than the one tuned."
            elif not function_allowed(self.account, ref.name):
                errors[name] = f"{label}: {not_allowed_message(self.account, ref.name)}"
            elif ref.account_id and account_id and ref.account_id != account_id:
                errors[name] = f"{label} is in account {ref.account_id}, the sweep in {account_id}."
        return errors

    def with_defaults(self) -> SweepParams:
        """The region the sweep runs in, and a concurrency of 1 when it is serial."""
        region = (
            self.target.region
            or self.region
            or (self.account.default_region if self.account is not None else "")
            or settings.TUNEBOARD_DEFAULT_REGION
        )
        try:
            region = parse_region(region)
        except ValueError as invalid:
            field = "function" if self.target.region else "region"  # the ARN named it
            raise InvalidSweep(str(invalid), field) from None
        partition = self.target.partition
        if partition and partition != regions.partition(region):
            raise InvalidSweep(
                f"The ARN's partition {partition!r} does not match region {region} (its "
                f"partition is {regions.partition(region)!r}).",
                "function",
            )
        for name in ("pre_processor", "post_processor"):  # invoked in the sweep's region
            ref = parse_function(getattr(self, name)) if getattr(self, name) else None
            if ref and ref.region and ref.region != region:
                label = self.declared()[name].label
                raise InvalidSweep(
                    f"{label} is in region {ref.region}, the sweep in {region}.", name
                )
        return dataclasses.replace(
            self, region=region, concurrency=self.concurrency if self.parallel else 1
        )

    @property
    def target(self) -> FunctionRef:
        return parse_function(self.function)

    # ------------------------------------------------------------------ runs

    @classmethod
    def from_run(cls, run) -> SweepParams:
        """The parameters a run was started with (for re-runs)."""
        values = _run_values(run)
        if not run.parallel:
            values["concurrency"] = DEFAULT_CONCURRENCY  # what the form offers when ticked
        return cls.parse(values)

    def run_fields(self) -> dict:
        """The TuningRun fields these parameters set."""
        ref = self.target
        fields = {name: getattr(self, name) for name in self.declared()}
        fields.pop("function")
        fields.update(
            function_arn=ref.text,
            function_name=ref.name,
            qualifier=ref.qualifier,
            invocations_total=len(self.memory_sizes) * self.invocations_per_size,
            payload=self.payload if not self.weighted_payloads else {},
        )
        return fields

    def form_initial(self) -> dict:
        """Form values that repeat these parameters ("re-run with changes")."""
        return {name: spec.to_text(getattr(self, name)) for name, spec in self.declared().items()}


def _run_values(run) -> dict:
    """The parameter values stored on a run (the TuningRun fields of the same names)."""
    values = {name: getattr(run, name) for name in SweepParams.declared() if name != "function"}
    return {**values, "function": run.function_arn}


def run_params_json(run) -> dict:
    """A run's parameters as JSON (the keys of the API body that would start it again)."""
    values = _run_values(run)
    return {name: spec.to_json(values[name]) for name, spec in SweepParams.declared().items()}
