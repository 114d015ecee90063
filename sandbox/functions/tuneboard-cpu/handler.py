"""CPU-bound demo function: a fixed amount of hashing, about 200 ms on one full vCPU.

The work is fixed (not self-calibrating) so its duration scales with the CPU share
Lambda gives a memory size: ~14x longer at 128 MB than at 1769 MB.
"""

import hashlib

ITERATIONS = 560_000  # ~200 ms of one core on the sandbox machines (AMD EPYC, Python 3.11)


def handler(event, context):
    iterations = int((event or {}).get("iterations", ITERATIONS))
    digest = b"tuneboard"
    for _ in range(iterations):
        digest = hashlib.sha256(digest).digest()
    return {"iterations": iterations, "digest": digest.hex()}
