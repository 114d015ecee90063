"""EnvironmentPool behaviour through its public API, with real child processes."""

import json
import os
import re
import threading
import time
import uuid
from pathlib import Path

import pytest

from sandbox.runtime import EnvironmentPool, FunctionSpec, environment

HANDLERS = str(Path(__file__).parent / "handlers")
ARN = "arn:aws:lambda:us-east-1:123456789012:function:{}"

REPORT_RE = re.compile(
    r"^REPORT RequestId: (?P<id>[\w-]+)\tDuration: (?P<duration>\d+\.\d{2}) ms\t"
    r"Billed Duration: (?P<billed>\d+) ms\tMemory Size: (?P<memory>\d+) MB\t"
    r"Max Memory Used: (?P<used>\d+) MB\t(?:Init Duration: (?P<init>\d+\.\d{2}) ms\t)?$"
)
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def make_spec(handler="app.handler", memory_mb=256, timeout_s=10.0, **overrides):
    name = overrides.pop("function_name", "fn-" + handler.split(".")[0])
    fields = {
        "key": overrides.pop("key", f"{name}:{memory_mb}:{uuid.uuid4().hex}"),
        "function_name": name,
        "function_arn": ARN.format(name),
        "version": "$LATEST",
        "code_dir": HANDLERS,
        "handler": handler,
        "memory_mb": memory_mb,
        "timeout_s": timeout_s,
        "environment": {"STAGE": "test"},
    }
    fields.update(overrides)
    return FunctionSpec(**fields)


def call(pool, spec, event=None, request_id=None):
    request_id = request_id or str(uuid.uuid4())
    return pool.invoke(spec, json.dumps(event or {}).encode(), request_id), request_id


def pid_exists(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_for(predicate, limit_s=20.0):
    """Poll until predicate() is true; the limit only stops a hung test."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.fixture(scope="module")
def pool():
    pool = EnvironmentPool(idle_timeout_s=300)
    yield pool
    pool.shutdown()


def report_line(log):
    return [line for line in log.splitlines() if line.startswith("REPORT ")][-1] + "\n"


# --------------------------------------------------------------------------- cold / warm


def test_it_reports_init_duration_only_on_cold_start(pool):
    spec = make_spec()
    first, first_id = call(pool, spec, {"action": "echo"})
    second, second_id = call(pool, spec, {"action": "echo"})

    assert first.cold_start and not second.cold_start
    assert first.init_duration_ms > 0
    assert second.init_duration_ms is None
    assert json.loads(first.payload)["pid"] == json.loads(second.payload)["pid"]
    cold_report = REPORT_RE.match(report_line(first.log))
    warm_report = REPORT_RE.match(report_line(second.log))
    assert cold_report and warm_report
    assert cold_report["id"] == first_id and warm_report["id"] == second_id
    assert float(cold_report["init"]) == first.init_duration_ms
    assert warm_report["init"] is None
    assert "Init Duration" not in second.log


def test_it_bills_init_on_cold_starts_and_rounds_up_warm_durations(pool):
    spec = make_spec()
    cold, _ = call(pool, spec, {"action": "sleep", "seconds": 0.01})
    warm, _ = call(pool, spec, {"action": "sleep", "seconds": 0.01})

    expected_cold = max(1, -(-round((cold.duration_ms + cold.init_duration_ms) * 100) // 100))
    assert cold.billed_duration_ms == expected_cold
    assert warm.billed_duration_ms == max(1, -(-round(warm.duration_ms * 100) // 100))
    for result in (cold, warm):
        report = REPORT_RE.match(report_line(result.log))
        assert int(report["billed"]) == result.billed_duration_ms
        assert float(report["duration"]) == result.duration_ms
        assert int(report["used"]) == result.max_memory_used_mb


def test_max_memory_used_counts_the_whole_environment_runtime_included(pool):
    """Like Lambda's figure: the interpreter and its imports count, not only what the handler
    allocated (a cgroup's peak misses pages charged before the process moved into it)."""
    spec = make_spec(memory_mb=1024, key=f"whole-env-{uuid.uuid4().hex}")
    call(pool, spec, {"action": "echo"})
    warm, _ = call(pool, spec, {"action": "echo"})
    [env] = [e for e in pool.environments() if e["key"] == spec.key]
    status = Path(f"/proc/{env['pid']}/status").read_text()
    resident_kb = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))
    assert warm.max_memory_used_mb >= resident_kb // 1024 >= 5


def test_it_writes_start_output_end_and_report_in_text_format(pool):
    spec = make_spec(memory_mb=128)
    result, rid = call(pool, spec, {"action": "log"})
    lines = result.log.splitlines()

    assert lines[0].startswith("INIT_START Runtime Version: ")
    assert f"START RequestId: {rid} Version: $LATEST" in lines
    start = lines.index(f"START RequestId: {rid} Version: $LATEST")
    body = lines[start + 1 : lines.index(f"END RequestId: {rid}")]
    assert body[0] == "plain print line"
    assert "to stderr" in body
    assert re.fullmatch(rf"\[INFO\]\t{ISO}\t{rid}\thello from logging", body[-2])
    assert re.fullmatch(rf"\[WARNING\]\t{ISO}\t{rid}\tcareful", body[-1])
    assert REPORT_RE.match(report_line(result.log))["memory"] == "128"
    assert result.log.endswith("\t\n")


def test_it_writes_aws_json_records_in_json_format(pool):
    spec = make_spec(log_format="JSON")
    cold, rid = call(pool, spec, {"action": "log"})
    warm, _ = call(pool, spec, {"action": "echo"})

    lines = cold.log.splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    by_type = {r.get("type"): r for r in records if "type" in r}
    assert by_type["platform.start"]["record"] == {"requestId": rid, "version": "$LATEST"}
    done = by_type["platform.runtimeDone"]["record"]
    assert done["status"] == "success" and done["requestId"] == rid
    assert set(done["metrics"]) == {"durationMs", "producedBytes"}
    report = by_type["platform.report"]
    assert re.fullmatch(ISO, report["time"])
    assert report["record"]["status"] == "success"
    metrics = report["record"]["metrics"]
    assert metrics["durationMs"] == cold.duration_ms
    assert metrics["billedDurationMs"] == cold.billed_duration_ms
    assert metrics["memorySizeMB"] == 256
    assert metrics["maxMemoryUsedMB"] == cold.max_memory_used_mb
    assert metrics["initDurationMs"] == cold.init_duration_ms
    app = [r for r in records if r.get("logger") == "app"]
    assert [r["message"] for r in app] == ["hello from logging", "careful"]
    assert app[0]["level"] == "INFO" and app[0]["requestId"] == rid
    assert set(app[0]) == {"timestamp", "level", "message", "logger", "requestId"}
    assert "plain print line" in lines

    warm_report = json.loads(warm.log.splitlines()[-1])
    assert warm_report["type"] == "platform.report"
    assert "initDurationMs" not in warm_report["record"]["metrics"]


# --------------------------------------------------------------------------- what the handler sees


def test_it_gives_the_handler_an_aws_like_context_and_environment(pool, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "sandbox-key")
    monkeypatch.setenv("TUNEBOARD_PARENT_ONLY", "must-not-leak")
    spec = make_spec(memory_mb=512, timeout_s=7, function_name="ctx-fn", version="3")
    result, rid = call(pool, spec, {"action": "context"})
    seen = json.loads(result.payload)

    assert result.function_error is None
    assert seen["function_name"] == "ctx-fn"
    assert seen["function_version"] == "3"
    assert seen["invoked_function_arn"] == ARN.format("ctx-fn")
    assert seen["memory_limit_in_mb"] == "512"
    assert seen["aws_request_id"] == rid
    assert seen["log_group_name"] == "/aws/lambda/ctx-fn"
    assert 0 < seen["remaining_ms"] <= 7000
    assert seen["cwd"] == HANDLERS and seen["sys_path_0"] == HANDLERS
    env = seen["environ"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "ctx-fn"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "3"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/ctx-fn"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == seen["log_stream_name"]
    assert "[3]" in env["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert env["AWS_LAMBDA_LOG_FORMAT"] == "Text"
    assert env["_HANDLER"] == "app.handler"
    assert env["LAMBDA_TASK_ROOT"] == HANDLERS
    assert os.path.isdir(env["LAMBDA_RUNTIME_DIR"])
    assert env["STAGE"] == "test"
    assert env["AWS_ENDPOINT_URL_LAMBDA"] == "http://127.0.0.1:9"
    assert env["AWS_ACCESS_KEY_ID"] == "sandbox-key"
    assert "TUNEBOARD_PARENT_ONLY" not in env


# --------------------------------------------------------------------------- failures


def test_it_returns_aws_error_shape_when_the_handler_raises_and_stays_warm(pool):
    spec = make_spec()
    before, _ = call(pool, spec, {"action": "echo"})
    failed, rid = call(pool, spec, {"action": "raise", "message": "bad input"})
    after, _ = call(pool, spec, {"action": "echo"})

    error = json.loads(failed.payload)
    assert failed.function_error == "Unhandled"
    assert set(error) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert error["errorMessage"] == "bad input"
    assert error["errorType"] == "ValueError"
    assert error["requestId"] == rid
    assert error["stackTrace"], "the handler's frame must be listed"
    assert all(frame.startswith('  File "') for frame in error["stackTrace"])
    assert "in handler\n    raise ValueError" in error["stackTrace"][-1]
    assert not any("bootstrap.py" in frame for frame in error["stackTrace"])
    assert "[ERROR] ValueError: bad input\nTraceback (most recent call last):\n" in failed.log
    assert REPORT_RE.match(report_line(failed.log))
    assert not after.cold_start
    assert json.loads(after.payload)["pid"] == json.loads(before.payload)["pid"]


def test_it_logs_handler_errors_as_a_json_record_in_json_format(pool):
    spec = make_spec(log_format="JSON")
    failed, rid = call(pool, spec, {"action": "raise", "message": "json boom"})
    records = [json.loads(line) for line in failed.log.splitlines() if line.startswith("{")]
    error = next(r for r in records if r.get("level") == "ERROR")

    assert error["errorType"] == "ValueError" and error["errorMessage"] == "json boom"
    assert error["requestId"] == rid and error["stackTrace"]
    done = next(r for r in records if r.get("type") == "platform.runtimeDone")
    assert done["record"]["status"] == "error"


def test_it_times_out_kills_the_environment_and_reports_the_timeout(pool):
    spec = make_spec(timeout_s=0.5)
    warm, _ = call(pool, spec, {"action": "echo"})
    pid = json.loads(warm.payload)["pid"]
    result, rid = call(pool, spec, {"action": "sleep", "seconds": 30})

    assert result.function_error == "Unhandled"
    assert json.loads(result.payload) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {rid} Error: Task timed out after 0.50 seconds",
    }
    assert re.search(rf"^{ISO} {rid} Task timed out after 0\.50 seconds$", result.log, re.M)
    assert result.duration_ms == 500.0
    assert result.billed_duration_ms == 500
    assert "Duration: 500.00 ms\tBilled Duration: 500 ms" in result.log
    assert not pid_exists(pid)
    again, _ = call(pool, spec, {"action": "echo"})
    assert again.cold_start


def test_it_reports_runtime_exit_error_when_the_process_dies(pool):
    spec = make_spec()
    call(pool, spec, {"action": "echo"})
    result, rid = call(pool, spec, {"action": "exit", "code": 3})

    assert result.function_error == "Unhandled"
    assert json.loads(result.payload) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: exit status 3",
    }
    assert call(pool, spec, {"action": "echo"})[0].cold_start


def test_it_reports_an_import_error_like_aws(pool):
    result, rid = call(pool, make_spec(handler="no_such_module.handler"))
    error = json.loads(result.payload)

    assert result.function_error == "Unhandled"
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"] == (
        "Unable to import module 'no_such_module': No module named 'no_such_module'"
    )
    assert error["requestId"] == rid
    assert "[ERROR] Runtime.ImportModuleError: Unable to import module" in result.log
    assert "Error Type: Runtime.ImportModuleError" in report_line(result.log)


def test_it_reports_a_missing_handler_function_like_aws(pool):
    result, _ = call(pool, make_spec(handler="app.no_such_function"))
    error = json.loads(result.payload)

    assert error["errorType"] == "Runtime.HandlerNotFound"
    assert error["errorMessage"] == "Handler 'no_such_function' missing on module 'app'"


def test_it_reports_syntax_and_module_level_errors_in_user_code(pool, tmp_path):
    (tmp_path / "broken.py").write_text("def handler(event, context)\n    return 1\n")
    (tmp_path / "explodes.py").write_text("raise RuntimeError('no config')\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mod.py").write_text("def fn(event, context):\n    return 'nested'\n")

    broken, _ = call(pool, make_spec(handler="broken.handler", code_dir=str(tmp_path)))
    explodes, _ = call(pool, make_spec(handler="explodes.handler", code_dir=str(tmp_path)))
    nested, _ = call(pool, make_spec(handler="pkg/mod.fn", code_dir=str(tmp_path)))

    assert json.loads(broken.payload)["errorType"] == "Runtime.UserCodeSyntaxError"
    assert json.loads(broken.payload)["errorMessage"].startswith("Syntax error in module 'broken'")
    assert json.loads(explodes.payload)["errorType"] == "RuntimeError"
    assert json.loads(explodes.payload)["errorMessage"] == "no config"
    assert nested.function_error is None and json.loads(nested.payload) == "nested"


# --------------------------------------------------------------------------- pool management


def test_an_init_that_never_answers_times_out_and_says_where_it_was_stuck(
    pool, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(environment, "INIT_TIMEOUT_S", 1.0)
    (tmp_path / "stuck.py").write_text(
        "import time\ntime.sleep(30)\n\ndef handler(event, context):\n    return 1\n"
    )
    spec = make_spec(handler="stuck.handler", code_dir=str(tmp_path), memory_mb=128)

    result, _ = call(pool, spec)

    assert result.function_error == "Unhandled"
    assert "Init Duration: 1000.00 ms" in result.log
    report = [line for line in capsys.readouterr().err.splitlines() if "init timeout" in line]
    assert len(report) == 1
    assert report[0].startswith("sandbox: init timeout after 1 s: fn-stuck:$LATEST at 128 MB")
    assert "bootstrap.py" in report[0]  # Python had started: stuck in the handler's import
    assert re.search(r"state [SR]", report[0]) and "load average" in report[0]


def test_it_starts_a_second_environment_for_concurrent_invocations_of_one_key(pool):
    spec = make_spec()
    results = []

    def invoke():
        results.append(call(pool, spec, {"action": "sleep", "seconds": 1.0})[0])

    threads = [threading.Thread(target=invoke) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    third, _ = call(pool, spec, {"action": "sleep", "seconds": 0})

    assert [r.cold_start for r in results] == [True, True]
    pids = {json.loads(r.payload)["pid"] for r in results}
    assert len(pids) == 2
    assert not third.cold_start and json.loads(third.payload)["pid"] in pids
    assert len([e for e in pool.environments() if e["key"] == spec.key]) == 2


def test_it_never_shares_an_environment_between_keys(pool):
    first, _ = call(pool, make_spec(key="shared-name:v1"), {"action": "echo"})
    second, _ = call(pool, make_spec(key="shared-name:v2"), {"action": "echo"})

    assert first.cold_start and second.cold_start
    assert json.loads(first.payload)["pid"] != json.loads(second.payload)["pid"]


def test_it_reaps_idle_environments_and_their_cgroups():
    pool = EnvironmentPool(idle_timeout_s=0.3)
    try:
        spec = make_spec()
        call(pool, spec, {"action": "echo"})
        [env] = pool.environments()

        assert wait_for(lambda: not pool.environments())
        assert not pid_exists(env["pid"])
        assert not any(os.path.exists(path) for path in env["cgroups"])
        assert call(pool, spec, {"action": "echo"})[0].cold_start
    finally:
        pool.shutdown()


def test_it_leaves_no_process_and_no_cgroup_behind_after_shutdown():
    pool = EnvironmentPool(idle_timeout_s=300)
    busy_result = []
    call(pool, make_spec(), {"action": "echo"})
    call(pool, make_spec(memory_mb=1024), {"action": "echo"})
    long_sleep = {"action": "sleep", "seconds": 30}
    busy = threading.Thread(target=lambda: busy_result.append(call(pool, make_spec(), long_sleep)))
    busy.start()
    assert wait_for(lambda: sum(e["busy"] for e in pool.environments()) == 1)
    assert wait_for(lambda: all(e["pid"] for e in pool.environments()))
    envs = pool.environments()
    pool_dirs = pool.cgroup_dirs()

    pool.shutdown()
    busy.join(timeout=30)
    pool.shutdown()  # idempotent

    assert len(envs) == 3
    assert not any(pid_exists(e["pid"]) for e in envs)
    assert not any(os.path.exists(path) for e in envs for path in e["cgroups"])
    assert not any(os.path.exists(path) for path in pool_dirs)
    assert busy_result and busy_result[0][0].function_error == "Unhandled"
    with pytest.raises(RuntimeError):
        call(pool, make_spec())


def test_it_keeps_pools_apart_when_several_exist():
    first, second = EnvironmentPool(), EnvironmentPool()
    try:
        assert set(first.cgroup_dirs()).isdisjoint(second.cgroup_dirs())
        spec = make_spec()
        call(first, spec, {"action": "echo"})
        call(second, spec, {"action": "echo"})
        first.shutdown()
        result, _ = call(second, spec, {"action": "echo"})
        assert result.function_error is None and not result.cold_start
    finally:
        first.shutdown()
        second.shutdown()


def test_retiring_a_deleted_version_closes_its_environments_and_only_those():
    pool = EnvironmentPool(idle_timeout_s=300)
    try:
        deleted = make_spec(function_name="fn-retire", version="1", key="fn-retire:1")
        kept = make_spec(function_name="fn-retire", version="2", key="fn-retire:2")
        call(pool, deleted, {"action": "echo"})
        call(pool, kept, {"action": "echo"})
        [gone] = [e for e in pool.environments() if e["key"] == deleted.key]

        pool.retire("fn-retire", "1")

        assert [e["key"] for e in pool.environments()] == [kept.key]
        assert not pid_exists(gone["pid"])
        assert not any(os.path.exists(path) for path in gone["cgroups"])
        assert not call(pool, kept, {"action": "echo"})[0].cold_start
    finally:
        pool.shutdown()


def test_an_environment_retired_while_busy_closes_when_its_invocation_ends():
    pool = EnvironmentPool(idle_timeout_s=300)
    try:
        spec = make_spec(function_name="fn-busy", version="3", key="fn-busy:3")
        worker = threading.Thread(target=call, args=(pool, spec, {"action": "sleep", "seconds": 1}))
        worker.start()
        assert wait_for(lambda: any(e["busy"] for e in pool.environments()))

        pool.retire("fn-busy")
        worker.join()

        assert wait_for(lambda: not pool.environments())
    finally:
        pool.shutdown()
