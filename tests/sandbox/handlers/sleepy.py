"""IO-bound handler: waits without using CPU."""

import time


def handler(event, context):
    time.sleep(float(event.get("seconds", 0.2)))
    return {"slept": event.get("seconds", 0.2)}
