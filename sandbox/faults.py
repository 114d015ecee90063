"""Fault-injection rules for the sandbox Lambda API (test control, not AWS).

A rule makes the ``nth`` matching call from its creation on, and the ``times - 1``
matching calls after it, fail with an AWS error, hang up after a delay
(``"timeout"``), or just wait ``delay_s`` first. Every matching call counts, whether
or not another rule fails it, so rules never shift each other's counting. The HTTP
layer asks :meth:`FaultRules.check` before running a handler, so a failed call
changes nothing. No I/O here; one lock guards the rules and the call counters.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from collections.abc import Iterable

from sandbox.lambda_state import LambdaError, function_arn, parse_function_id

TIMEOUT = "timeout"
TIMEOUT_DELAY_S = 30.0

# The error codes a rule may answer, with the message AWS sends for them.
ERRORS = {
    "TooManyRequestsException": "Rate exceeded",
    "ServiceException": "An internal error occurred.",
    "AccessDeniedException": "User is not authorized to perform: lambda:{operation}",
    "ResourceConflictException": "The operation cannot be performed at this time. "
    "An update is in progress for resource: {function}",
    "ResourceNotFoundException": "Function not found: {function}",
    "InvalidParameterValueException": "Invalid parameter value for {operation}",
}
ERROR_ALIASES = {"ThrottlingException": "TooManyRequestsException"}
_FIELDS = {"operation", "nth", "times", "error", "delay_s", "function"}


def function_name(identifier: str | None) -> str | None:
    """The function name in a name, ARN or qualified ARN; None when there is none."""
    if not identifier:
        return None
    try:
        return parse_function_id(identifier)[0]
    except LambdaError:
        return None


@dataclasses.dataclass
class Rule:
    id: int
    operation: str
    nth: int
    times: int | None  # None: every matching call from the nth on
    error: str | None  # an ERRORS code, TIMEOUT, or None to only delay
    delay_s: float
    function: str | None
    seen: int = 0  # matching calls since the rule was added
    fired: int = 0

    def matches(self, operation: str, function: str | None) -> bool:
        return operation == self.operation and self.function in (None, function)

    def due(self) -> bool:
        """Whether the call just counted in ``seen`` is one this rule fails."""
        return self.seen >= self.nth and (self.times is None or self.seen < self.nth + self.times)


def injected_error(rule: Rule, function: str | None) -> LambdaError:
    """The error ``rule`` answers, shaped as Lambda's own (status from ERROR_STATUS)."""
    message = ERRORS[rule.error].format(
        operation=rule.operation, function=function_arn(function) if function else "*"
    )
    extra = (
        {"Reason": "CallerRateLimitExceeded"} if rule.error == "TooManyRequestsException" else None
    )
    return LambdaError(rule.error, f"{message} (sandbox fault {rule.id})", extra=extra)


def _number(key: str, value, *, minimum: int, integer: bool):
    kind = int if integer else int | float
    if isinstance(value, bool) or not isinstance(value, kind) or value < minimum:
        what = "an integer" if integer else "a number"
        raise ValueError(f"{key} must be {what} >= {minimum}, got {value!r}")
    return value


class FaultRules:
    def __init__(self, operations: Iterable[str]):
        self.operations = sorted(operations)
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._next_id = 1
        self._calls: Counter[str] = Counter()

    def add(self, spec: dict) -> dict:
        """Validate ``spec`` (the POST body) and add the rule; ValueError says what is wrong."""
        unknown = set(spec) - _FIELDS
        if unknown:
            raise ValueError(f"Unknown fields {sorted(unknown)}; valid: {sorted(_FIELDS)}")
        operation = spec.get("operation")
        if operation not in self.operations:
            raise ValueError(f"Unknown operation {operation!r}; valid: {self.operations}")
        error = spec.get("error", "ServiceException")
        if isinstance(error, str):
            error = ERROR_ALIASES.get(error, error)
        if not (error is None or error == TIMEOUT or (isinstance(error, str) and error in ERRORS)):
            valid = [*ERRORS, *ERROR_ALIASES, TIMEOUT]
            raise ValueError(f"Unknown error {error!r}; valid: {valid} or null")
        nth = _number("nth", spec.get("nth", 1), minimum=1, integer=True)
        times = spec.get("times", 1)
        if times is not None:
            times = _number("times", times, minimum=0, integer=True) or None
        delay = spec.get("delay_s")
        if delay is None:
            delay = TIMEOUT_DELAY_S if error == TIMEOUT else 0
        delay = _number("delay_s", delay, minimum=0, integer=False)
        if error is None and not delay:
            raise ValueError("A rule needs an error or a delay_s")
        given = spec.get("function")
        function = function_name(given) if isinstance(given, str) else None
        if given is not None and function is None:
            raise ValueError(f"function must be a function name or ARN, got {given!r}")
        with self._lock:
            rule = Rule(self._next_id, operation, nth, times, error, float(delay), function)
            self._next_id += 1
            self._rules.append(rule)
            return dataclasses.asdict(rule)

    def check(self, operation: str, function: str | None) -> Rule | None:
        """Count this call; return (a copy of) the first rule that fails it, if any."""
        with self._lock:
            self._calls[operation] += 1
            firing = None
            for rule in self._rules:
                if not rule.matches(operation, function):
                    continue
                rule.seen += 1
                if firing is None and rule.due():
                    rule.fired += 1
                    firing = dataclasses.replace(rule)
            return firing

    def rules(self) -> list[dict]:
        with self._lock:
            return [dataclasses.asdict(rule) for rule in self._rules]

    def clear(self) -> int:
        with self._lock:
            cleared = len(self._rules)
            self._rules.clear()
            return cleared

    def calls_by_operation(self) -> dict[str, int]:
        with self._lock:
            return dict(self._calls)
