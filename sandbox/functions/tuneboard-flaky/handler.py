"""Flaky demo function: raises on about 10% of calls."""

import random

FAILURE_RATE = 0.1


class FlakyError(Exception):
    pass


def handler(event, context):
    rate = float((event or {}).get("failure_rate", FAILURE_RATE))
    if random.random() < rate:
        raise FlakyError("simulated intermittent failure")
    return {"ok": True}
