"""CPU and memory limits of execution environments: the curves power tuning measures.

Assertions are ratios with wide margins (theory: 128 MB gets 1/13.8 of the CPU of
1769 MB), so a loaded 2-core machine does not make them flaky.
"""

import json
import uuid
from pathlib import Path

import pytest

from sandbox.runtime import EnvironmentPool, FunctionSpec
from sandbox.runtime.isolation import cpu_share

HANDLERS = str(Path(__file__).parent / "handlers")
CPU_WORK = {"n": 1_000_000}
OOM_PAYLOAD_KEYS = {"errorType", "errorMessage"}


def make_spec(handler, memory_mb):
    name = handler.split(".")[0]
    return FunctionSpec(
        key=f"{name}:{memory_mb}:{uuid.uuid4().hex}",
        function_name=name,
        function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        version="$LATEST",
        code_dir=HANDLERS,
        handler=handler,
        memory_mb=memory_mb,
        timeout_s=60.0,
        environment={},
    )


def invoke(pool, spec, event):
    request_id = str(uuid.uuid4())
    return pool.invoke(spec, json.dumps(event).encode(), request_id), request_id


def durations(pool, handler, memory_mb, event, runs):
    spec = make_spec(handler, memory_mb)
    results = [invoke(pool, spec, event)[0] for _ in range(runs)]
    assert all(r.function_error is None for r in results)
    return [r.duration_ms for r in results]


# "auto" uses cgroups when this machine allows it; "fallback" forces what a non-root
# user gets (SIGSTOP/SIGCONT duty cycle + RLIMIT_AS), so both paths are exercised.
@pytest.fixture(scope="module", params=["auto", "fallback"])
def pool(request):
    pool = EnvironmentPool(isolation=request.param)
    yield pool
    pool.shutdown()


def test_it_shares_cpu_in_proportion_to_memory_up_to_the_machine():
    assert cpu_share(1769, cpu_count=2) == 1.0
    assert cpu_share(128, cpu_count=2) == pytest.approx(128 / 1769)
    assert cpu_share(10240, cpu_count=2) == 2.0


def test_it_says_how_cpu_is_limited(pool):
    assert pool.cpu_method.startswith(
        ("cgroup v1 cpu quota", "cgroup v2 cpu.max", "SIGSTOP/SIGCONT duty cycle")
    )
    assert pool.memory_method.startswith(("cgroup v1", "cgroup v2", "RLIMIT_AS"))
    if pool.cpu_method.startswith("SIGSTOP"):
        assert pool.cgroup_dirs() == [] or not pool.memory_method.startswith("RLIMIT_AS")


def test_it_runs_a_cpu_bound_handler_much_slower_at_128_mb_than_at_1769_mb(pool):
    # Warm minimum at 1769 MB; one run at 128 MB (that is the slow, expensive one).
    fast = min(durations(pool, "cpu.handler", 1769, CPU_WORK, runs=2))
    slow = durations(pool, "cpu.handler", 128, CPU_WORK, runs=1)[0]

    assert slow / fast >= 4


def test_it_barely_changes_the_duration_of_an_io_bound_handler(pool):
    sleep = {"seconds": 0.3}
    slow = durations(pool, "sleepy.handler", 128, sleep, runs=2)[-1]
    fast = durations(pool, "sleepy.handler", 1769, sleep, runs=2)[-1]

    assert 1 / 1.5 < slow / fast < 1.5


def test_it_kills_a_handler_that_needs_more_memory_than_configured(pool):
    spec = make_spec("memory_hog.handler", 128)
    result, rid = invoke(pool, spec, {"mb": 200})

    assert result.function_error == "Unhandled"
    assert json.loads(result.payload) == {
        "errorType": "Runtime.OutOfMemory",
        "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: signal: killed",
    }
    assert result.max_memory_used_mb == 128
    assert "Max Memory Used: 128 MB" in result.log
    assert "Error Type: Runtime.OutOfMemory" in result.log
    # The environment is discarded: the next invocation starts a new one.
    assert invoke(pool, spec, {"mb": 1})[0].cold_start


def test_it_runs_the_same_handler_with_enough_memory_and_measures_its_peak(pool):
    spec = make_spec("memory_hog.handler", 512)
    result, _ = invoke(pool, spec, {"mb": 200})
    small, _ = invoke(pool, spec, {"mb": 1})

    assert result.function_error is None
    assert json.loads(result.payload) == {"allocated_mb": 200}
    assert 200 <= result.max_memory_used_mb < 512
    assert f"Max Memory Used: {result.max_memory_used_mb} MB" in result.log
    # Peaks are per invocation: a small warm invocation reports less than the big one.
    assert small.max_memory_used_mb < result.max_memory_used_mb
