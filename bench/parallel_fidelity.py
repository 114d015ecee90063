"""Do parallel invocations in the sandbox measure the function, as on Lambda?

Starts its own sandbox (seeded functions) and invokes ``tuneboard-cpu`` through boto3:

1. at 512 MB and at 1769 MB, ``--calls`` invocations one after another, then the same number
   5 at a time: on Lambda each environment has its own CPU share, so the medians should agree;
2. short (~50 ms at a full vCPU) and long (~500 ms) work at 128 MB and 1769 MB, serially: the
   128:1769 ratio should be close to 1769/128 = 13.8.

Prints the REPORT Duration medians side by side and their ratios; asserts nothing (timings are
never asserted). Usage: ``.venv/bin/python bench/parallel_fidelity.py [--calls 10]``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from sweep_overhead import start_sandbox, stop

FUNCTION = "tuneboard-cpu"
DURATION_RE = re.compile(r"REPORT RequestId: \S+\s+Duration: ([\d.]+) ms")
SHORT, LONG = {"iterations": 140_000}, {"iterations": 1_400_000}  # ~50 ms / ~500 ms at 1 vCPU


def publish(client, memory_mb: int) -> str:
    client.update_function_configuration(FunctionName=FUNCTION, MemorySize=memory_mb)
    client.get_waiter("function_updated_v2").wait(
        FunctionName=FUNCTION, WaiterConfig={"Delay": 0.1}
    )
    return client.publish_version(FunctionName=FUNCTION)["Version"]


def duration(client, version: str, payload: dict) -> float:
    answer = client.invoke(
        FunctionName=FUNCTION,
        Qualifier=version,
        LogType="Tail",
        Payload=json.dumps(payload).encode(),
    )
    log = base64.b64decode(answer["LogResult"]).decode()
    return float(DURATION_RE.search(log).group(1))


def median(client, version: str, payload: dict, calls: int, at_once: int = 1) -> float:
    duration(client, version, payload)  # warm
    with ThreadPoolExecutor(max_workers=at_once) as pool:
        return statistics.median(
            pool.map(lambda _: duration(client, version, payload), range(calls))
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=10)
    args = parser.parse_args()
    proc, exports = start_sandbox()
    os.environ.update(exports)
    import boto3
    from botocore.config import Config

    client = boto3.client("lambda", config=Config(read_timeout=120, retries={"mode": "standard"}))
    started = time.perf_counter()
    try:
        original = client.get_function_configuration(FunctionName=FUNCTION)["MemorySize"]
        versions = {mb: publish(client, mb) for mb in (128, 512, 1769)}
        client.update_function_configuration(FunctionName=FUNCTION, MemorySize=original)
        print(f"{'size':>8} {'serial ms':>10} {'5 at once ms':>13} {'ratio':>6}")
        for mb in (512, 1769):
            serial = median(client, versions[mb], SHORT, args.calls)
            parallel = median(client, versions[mb], SHORT, args.calls, at_once=5)
            print(f"{mb:>5} MB {serial:>10.1f} {parallel:>13.1f} {parallel / serial:>6.2f}")
        print(f"\n{'work':>6} {'128 MB ms':>10} {'1769 MB ms':>11} {'ratio':>6} (Lambda: 13.8)")
        for label, payload in (("short", SHORT), ("long", LONG)):
            slow = median(client, versions[128], payload, max(3, args.calls // 3))
            fast = median(client, versions[1769], payload, args.calls)
            print(f"{label:>6} {slow:>10.1f} {fast:>11.1f} {slow / fast:>6.1f}")
        print(f"\n{time.perf_counter() - started:.0f} s")
    finally:
        stop(proc)


if __name__ == "__main__":
    main()
