"""``python -m sandbox`` as a process: its output, --state-dir persistence, SIGTERM."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.sandbox import REPO_ROOT, start_sandbox, wait_until_updated, zip_source

HANDLER = (
    "def handler(event, context):\n"
    "    return {'ok': True, 'memory': int(context.memory_limit_in_mb)}\n"
)
SLEEPER = "import time\n\ndef handler(event, context):\n    time.sleep(60)\n"


def test_it_prints_only_export_lines_and_a_ready_comment_on_stdout(sandbox):
    lines = sandbox.stdout.splitlines()
    assert [line.split("=")[0] for line in lines[:-1]] == [
        "export AWS_ENDPOINT_URL_LAMBDA",
        "export AWS_ENDPOINT_URL_CLOUDWATCH",
        "export AWS_ENDPOINT_URL_DAX",
        "export AWS_ENDPOINT_URL_DYNAMODB",
        "export AWS_ENDPOINT_URL_STS",
        "export AWS_ENDPOINT_URL_S3",
        "export AWS_ENDPOINT_URL_PRICING",
        "export AWS_DEFAULT_REGION",
        "export AWS_ACCESS_KEY_ID",
        "export AWS_SECRET_ACCESS_KEY",
    ]
    assert lines[-1].startswith("# sandbox ready (cpu limits: ")
    assert sandbox.lambda_url.startswith("http://127.0.0.1:")
    assert sandbox.env["AWS_ENDPOINT_URL_STS"] == sandbox.aws_url
    assert sandbox.env["AWS_ENDPOINT_URL_S3"] == sandbox.aws_url
    assert sandbox.env["AWS_DEFAULT_REGION"] == "us-east-1"


def test_the_session_environment_points_plain_boto3_clients_at_the_sandbox(sandbox):
    import boto3

    names = {f["FunctionName"] for f in boto3.client("lambda").list_functions()["Functions"]}
    assert {
        "tuneboard-cpu",
        "tuneboard-io",
        "tuneboard-memory",
        "tuneboard-flaky",
        "tuneboard-powertools",
        "tuneboard-init",
    } <= names
    assert boto3.client("sts").get_caller_identity()["Account"] == "123456789012"


def test_the_help_says_moto_state_is_not_persisted():
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "--state-dir" in result.stdout
    assert "is NOT persisted" in result.stdout


def test_lambda_state_survives_a_restart_with_the_same_state_dir(tmp_path):
    first = start_sandbox(state_dir=tmp_path, seed_parts="functions")
    try:
        client = first.lambda_client()
        client.create_function(
            FunctionName="kept",
            Runtime="python3.11",
            Handler="h.handler",
            Role="arn:aws:iam::123456789012:role/test",
            Code={"ZipFile": zip_source(HANDLER, "h.py")},
        )
        client.update_function_configuration(FunctionName="kept", MemorySize=512)
        wait_until_updated(client, "kept")
        version = client.publish_version(FunctionName="kept")["Version"]
        client.create_alias(FunctionName="kept", Name="live", FunctionVersion=version)
        client.put_function_concurrency(FunctionName="kept", ReservedConcurrentExecutions=3)
        before = client.get_function(FunctionName="kept", Qualifier="live")["Configuration"]
    finally:
        assert first.stop() == []

    second = start_sandbox(state_dir=tmp_path, seed_parts="functions")
    try:
        client = second.lambda_client()
        after = client.get_function(FunctionName="kept", Qualifier="live")["Configuration"]
        assert after["Version"] == before["Version"] == "1"
        assert after["CodeSha256"] == before["CodeSha256"]
        assert after["RevisionId"] == before["RevisionId"]
        assert after["MemorySize"] == 512
        assert (
            client.get_function_concurrency(FunctionName="kept")["ReservedConcurrentExecutions"]
            == 3
        )
        response = client.invoke(FunctionName="kept", Qualifier="live")
        assert response["ExecutedVersion"] == "1"
        assert response["Payload"].read() == b'{"ok": true, "memory": 512}'
        # the next version continues the numbering
        client.update_function_configuration(FunctionName="kept", MemorySize=256)
        wait_until_updated(client, "kept")
        assert client.publish_version(FunctionName="kept")["Version"] == "2"
        # re-seeding found the demo functions already there and left them alone
        assert "tuneboard-cpu" in {f["FunctionName"] for f in client.list_functions()["Functions"]}
    finally:
        assert second.stop() == []


def test_without_a_state_dir_nothing_survives_a_restart():
    first = start_sandbox(seed_parts=None)
    try:
        first.lambda_client().create_function(
            FunctionName="ephemeral",
            Runtime="python3.11",
            Handler="handler.handler",
            Role="arn:aws:iam::123456789012:role/test",
            Code={"ZipFile": zip_source(HANDLER)},
        )
    finally:
        assert first.stop() == []
    second = start_sandbox(seed_parts=None)
    try:
        with pytest.raises(ClientError) as excinfo:
            second.lambda_client().get_function(FunctionName="ephemeral")
        assert excinfo.value.response["Error"]["Code"] == "ResourceNotFoundException"
    finally:
        assert second.stop() == []


def test_sigterm_stops_it_with_exit_code_zero_and_leaves_no_process_behind(tmp_path):
    sandbox = start_sandbox(state_dir=tmp_path, seed_parts="functions")
    try:
        client = sandbox.lambda_client(read_timeout=120, retries={"total_max_attempts": 1})
        client.invoke(FunctionName="tuneboard-io")  # leaves a warm environment
        client.create_function(
            FunctionName="sleeper",
            Runtime="python3.11",
            Handler="handler.handler",
            Timeout=120,
            Role="arn:aws:iam::123456789012:role/test",
            Code={"ZipFile": zip_source(SLEEPER)},
        )

        def invoke_until_the_connection_drops():
            with contextlib.suppress(Exception):  # the sandbox goes away under it
                client.invoke(FunctionName="sleeper")

        in_flight = threading.Thread(target=invoke_until_the_connection_drops, daemon=True)
        in_flight.start()  # an invocation still running when SIGTERM arrives
        stats = sandbox.stats()
        while stats["in_flight"] == 0 or len(stats["environments"]) < 2:
            assert in_flight.is_alive(), "the sleeper invocation ended early"
            time.sleep(0.05)
            stats = sandbox.stats()
    finally:
        left_behind = sandbox.stop()
    assert left_behind == []
    assert sandbox.process.returncode == 0
    assert "stopped" in sandbox.stderr()
