"""Invocations share this machine's cores only as far as their CPU shares fit: parallel
invocations measure the function, not the contention between them (on Lambda each
environment has its own share)."""

import json
import threading

import pytest

from sandbox.runtime import EnvironmentPool
from tests.sandbox.test_runtime_pool import call, make_spec


@pytest.fixture
def one_core_pool():
    pool = EnvironmentPool(idle_timeout_s=300, cpu_capacity=1.0)
    yield pool
    pool.shutdown()


def windows(pool, memory_mb: int, count: int) -> list[tuple[float, float]]:
    """(start, end) of the handler of ``count`` invocations sent at once."""
    out = []

    def invoke(index):
        spec = make_spec(memory_mb=memory_mb, key=f"window-{memory_mb}-{index}")
        result, _ = call(pool, spec, {"action": "window", "seconds": 1.0})
        payload = json.loads(result.payload)
        out.append((payload["start"], payload["end"]))

    threads = [threading.Thread(target=invoke, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(out)


def overlapping(spans) -> bool:
    return any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:], strict=False))


def test_invocations_whose_shares_do_not_fit_together_run_one_after_another(one_core_pool):
    spans = windows(one_core_pool, 1769, 3)  # a full vCPU each, one core for all
    assert not overlapping(spans), spans
    assert one_core_pool.peak_cpu_in_use == pytest.approx(1769 / 1769)


def test_invocations_whose_shares_fit_run_together(one_core_pool):
    spans = windows(one_core_pool, 512, 3)  # 0.29 vCPU each: 0.87 of the core together
    assert overlapping(spans), spans
    assert one_core_pool.peak_cpu_in_use > 512 / 1769


def test_one_invocation_larger_than_the_capacity_still_runs(one_core_pool):
    result, _ = call(one_core_pool, make_spec(memory_mb=3008), {"action": "echo"})
    assert result.function_error is None
