"""I/O-bound demo function: mostly waiting (~100 ms), so memory size barely matters."""

import time

WAIT_S = 0.1


def handler(event, context):
    started = time.perf_counter()
    time.sleep(float((event or {}).get("wait_s", WAIT_S)))
    return {"waited_ms": round((time.perf_counter() - started) * 1000, 1)}
