"""Slow-to-initialise demo function: loading the module takes ~1 s (a stand-in for heavy
imports, SDK clients and configuration fetched at init), the handler itself ~10 ms. Its cost
and latency are dominated by cold starts, which is what cold-starts-only sweeps measure."""

import os
import time

INIT_S = float(os.environ.get("INIT_SECONDS", "1.0"))
time.sleep(INIT_S)  # the init cost: reported as Init Duration (or, with SnapStart, restored)


def handler(event, context):
    started = time.perf_counter()
    time.sleep(float((event or {}).get("wait_s", 0.01)))
    return {"handler_ms": round((time.perf_counter() - started) * 1000, 1), "init_s": INIT_S}
