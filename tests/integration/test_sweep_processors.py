"""Pre-/post-processor functions (Power Tuning's preProcessorARN / postProcessorARN) in real
sweeps: a Celery worker, Redis, PostgreSQL and the sandbox Lambda running every handler."""

import base64
import http.client
import re
import threading
import urllib.parse
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command

from dashboard.templatetags.units import format_usd
from tests.integration.test_sweep import function_state, leftovers_of, wait_finished
from tests.tuning.runfactory import start_run
from tuning import spend
from tuning.models import Invocation, ResultStatus, RunStatus

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Sleeps ~1 s (never measured), then rewrites the payload: tuneboard-io waits "wait_s".
PRE = """
import time

def handler(event, context):
    time.sleep(event["pre_sleep_s"])
    return {"wait_s": event["then_wait_s"]}
"""
# Needs the measured function's output; sleeps ~1 s (never measured).
POST = """
import time

def handler(event, context):
    if "waited_ms" not in (event or {}):
        raise ValueError("not the function's output: %r" % (event,))
    time.sleep(1.0)
"""
FAILING = """
def handler(event, context):
    raise RuntimeError("cannot prepare the test data")
"""


@pytest.fixture
def worker(sandbox, start_celery_worker):
    return start_celery_worker(concurrency=2)


def invokes(sandbox) -> int:
    return sandbox.stats()["calls_by_operation"].get("Invoke", 0)


def test_processors_run_around_every_invocation_and_are_not_measured(
    sandbox, worker, lambda_client, make_function
):
    name = make_function(seeded="tuneboard-io", Timeout=10)
    pre, post = make_function(PRE, Timeout=10), make_function(POST, Timeout=10)
    before = {f: function_state(lambda_client, f) for f in (name, pre, post)}
    calls = invokes(sandbox)

    run = start_run(
        function=name,
        memory_sizes=[128, 256],
        invocations_per_size=2,
        # Without the pre-processor the function would wait 2 s per call.
        payload={"wait_s": 2.0, "pre_sleep_s": 1.0, "then_wait_s": 0.01},
        pre_processor=pre,
        post_processor=f"arn:aws:lambda:us-east-1:123456789012:function:{post}",
    )
    run = wait_finished(run, worker=worker)

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    measured = list(Invocation.objects.filter(run=run))
    assert len(measured) == 4 and all(not i.error_type for i in measured)
    # The rewritten payload was measured (~10 ms, not 2 s) and neither processor's second of
    # sleep is in any duration.
    assert all(i.duration_ms < 1000 for i in measured)
    assert all(r.avg_duration_ms < 1000 for r in run.results.all())
    # Each measured invocation had its pre- and post-processor call: 3 Invoke calls each.
    assert invokes(sandbox) - calls == 3 * 4
    # Processors are only invoked: never published, aliased or reconfigured.
    assert {f: function_state(lambda_client, f) for f in (name, pre, post)} == before
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}


def test_a_failing_pre_processor_fails_the_invocations_naming_it(
    sandbox, worker, lambda_client, make_function
):
    name = make_function(seeded="tuneboard-io", Timeout=10)
    pre = make_function(FAILING, Timeout=10)
    before = {f: function_state(lambda_client, f) for f in (name, pre)}
    calls = invokes(sandbox)

    run = wait_finished(
        start_run(function=name, memory_sizes=[128], invocations_per_size=2, pre_processor=pre),
        worker=worker,
    )

    assert run.status == RunStatus.FAILED
    result = run.results.get()
    assert result.status == ResultStatus.FAILED and result.errors >= 1
    assert "PreProcessorError" in result.error_message
    failed = list(Invocation.objects.filter(run=run))
    assert failed and all(i.error_type == "PreProcessorError" for i in failed)
    assert all(i.duration_ms is None for i in failed)
    assert all(
        i.error_message == f"Pre-processor {pre} failed: RuntimeError: cannot prepare the test data"
        for i in failed
    )
    # Only the pre-processor was invoked: the function never ran with an unprepared payload.
    assert invokes(sandbox) - calls == len(failed)
    assert {f: function_state(lambda_client, f) for f in (name, pre)} == before
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}


def test_a_missing_processor_is_refused_before_anything_changes(
    sandbox, worker, lambda_client, make_function
):
    name = make_function(seeded="tuneboard-io", Timeout=10)
    before = function_state(lambda_client, name)
    calls = invokes(sandbox)

    run = wait_finished(
        start_run(
            function=name,
            memory_sizes=[128],
            invocations_per_size=2,
            payload={"wait_s": 0.01},
            post_processor="test-no-such-cleanup",
        ),
        worker=worker,
    )

    assert run.status == RunStatus.FAILED
    assert run.error_message.startswith(
        "Post-processor test-no-such-cleanup does not exist in us-east-1: nothing was changed."
    ), run.error_message
    assert not Invocation.objects.filter(run=run).exists()
    assert invokes(sandbox) == calls
    assert function_state(lambda_client, name) == before
    assert leftovers_of(run, lambda_client) == {"aliases": [], "versions": []}


def test_a_processor_of_another_account_is_refused_before_anything_changes(
    sandbox, worker, lambda_client, make_function
):
    name = make_function(seeded="tuneboard-io", Timeout=10)
    before = function_state(lambda_client, name)
    calls = invokes(sandbox)
    # Named by name, the function's account is known only to the worker (STS).
    other = "arn:aws:lambda:us-east-1:210987654321:function:cleanup"

    run = wait_finished(
        start_run(function=name, memory_sizes=[128], invocations_per_size=2, post_processor=other),
        worker=worker,
    )

    assert run.status == RunStatus.FAILED
    assert run.error_message.startswith(
        f"Post-processor {other} is in AWS account 210987654321, but the sweep's credentials "
        "act in account 123456789012: nothing was changed."
    ), run.error_message
    assert not Invocation.objects.filter(run=run).exists()
    assert invokes(sandbox) == calls
    assert function_state(lambda_client, name) == before


# --------------------------------------------------------------------------- what they cost

#: us-east-1's prices (offline table and the sandbox's Price List alike).
PER_GB_SECOND = {"x86_64": Decimal("0.0000166667"), "arm64": Decimal("0.0000133334")}
REQUEST_FEE = Decimal("0.0000002")
REPORT = re.compile(r"REPORT RequestId: .*?Billed Duration: (\d+) ms\s+Memory Size: (\d+) MB")
SLEEPS = """
import time

def handler(event, context):
    time.sleep(0.05)
    return event
"""


class ReportRecorder:
    """Stands between the worker and the sandbox's Lambda endpoint, passing every request on
    unchanged, and keeps the REPORT line of each Invoke answer by the function it named: what
    Lambda billed, read off the wire rather than from what Tuneboard stored."""

    def __init__(self, upstream: str):
        self.reports: dict[str, list[tuple[int, int]]] = {}  # function -> [(billed ms, MB)]
        self._lock = threading.Lock()
        host, port = urllib.parse.urlsplit(upstream).netloc.split(":")
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                upstream = http.client.HTTPConnection(host, int(port), timeout=120)
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                upstream.close()
                recorder.keep(self.path, answer.getheader("X-Amz-Log-Result"))
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = forward

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def keep(self, path: str, log_result: str | None) -> None:
        called = re.fullmatch(r"/2015-03-31/functions/([^/]+)/invocations(\?.*)?", path)
        if not called or not log_result:
            return
        function = urllib.parse.unquote(called.group(1)).split(":function:")[-1].split(":")[0]
        tail = base64.b64decode(log_result).decode(errors="replace")
        with self._lock:
            self.reports.setdefault(function, []).extend(
                (int(billed), int(mb)) for billed, mb in REPORT.findall(tail)
            )

    def cost(self, function: str, architecture: str) -> Decimal:
        """What every call of ``function`` cost by its REPORT lines: GB-seconds at the
        architecture's price, plus one request fee each."""
        return sum(
            (
                Decimal(billed) * mb / 1024 / 1000 * PER_GB_SECOND[architecture] + REQUEST_FEE
                for billed, mb in self.reports.get(function, [])
            ),
            Decimal(0),
        )

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def recorder(sandbox):
    proxy = ReportRecorder(sandbox.lambda_client().meta.endpoint_url)
    yield proxy
    proxy.stop()


def test_the_sweep_cost_holds_the_processor_calls_at_their_own_memory_and_architecture(
    sandbox, start_celery_worker, recorder, make_function, capsys, client, django_user_model
):
    worker = start_celery_worker(concurrency=2, env={"AWS_ENDPOINT_URL_LAMBDA": recorder.url})
    name = make_function(seeded="tuneboard-io", Timeout=10)
    # Each processor is billed at its own size and architecture, not the function's.
    pre = make_function(SLEEPS, Timeout=10, MemorySize=1024, Architectures=["arm64"])
    post = make_function(SLEEPS, Timeout=10, MemorySize=512)

    run = start_run(
        function=name,
        memory_sizes=[128, 256],
        invocations_per_size=3,
        payload={"wait_s": 0.01},
        pre_processor=pre,
        post_processor=f"arn:aws:lambda:us-east-1:123456789012:function:{post}",
    )
    run = wait_finished(run, worker=worker)
    assert run.status == RunStatus.SUCCEEDED, run.error_message

    assert len(recorder.reports[pre]) == len(recorder.reports[post]) == 6
    assert {mb for _billed, mb in recorder.reports[pre]} == {1024}
    helpers = recorder.cost(pre, "arm64") + recorder.cost(post, "x86_64")
    measured = recorder.cost(name, "x86_64")
    # Each cost is stored to 12 decimals (the measured calls' one by one, the processors' at
    # each store of a batch's calls).
    recorded = sum(i.cost_usd for i in Invocation.objects.filter(run=run))
    assert abs(recorded - measured) <= 6 * Decimal("1e-12")
    spent = run.sweep_cost
    assert spent["processors"]["invocations"] == 12 and spent["processors"]["unpriced"] == 0
    assert abs(Decimal(spent["processors"]["usd"]) - helpers) <= 12 * Decimal("1e-12")
    assert abs(Decimal(spent["usd"]) - (measured + helpers)) <= 12 * Decimal("1e-12")
    assert spent["invocations"] == 6  # the function's own calls, counted as before

    sentence = spend.sentence(spent, format_usd)
    assert f"{format_usd(Decimal(spent['processors']['usd']))} for 12 processor calls" in sentence
    call_command("show_run", str(run.id))
    assert sentence in capsys.readouterr().out
    client.force_login(django_user_model.objects.create_user("viewer"))
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert f'<dd id="sweep-cost">{sentence}</dd>' in page
    assert client.get(f"/api/runs/{run.id}/").json()["sweep_cost"] == spent


def test_a_processor_whose_configuration_cannot_be_read_counts_its_request_fees(
    sandbox, worker, make_function
):
    name = make_function(seeded="tuneboard-io", Timeout=10)
    pre = make_function(SLEEPS, Timeout=10)
    # Allowed to invoke it, not to read it: the sweep runs; the calls' duration cannot be priced.
    sandbox.inject_fault(
        "GetFunctionConfiguration", function=pre, times=0, error="AccessDeniedException"
    )

    run = wait_finished(
        start_run(
            function=name,
            memory_sizes=[128],
            invocations_per_size=3,
            payload={"wait_s": 0.01},
            pre_processor=pre,
        ),
        worker=worker,
    )

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    helpers = run.sweep_cost["processors"]
    assert (helpers["invocations"], helpers["unpriced"]) == (3, 3)
    assert Decimal(helpers["usd"]) == 3 * REQUEST_FEE
    measured = sum(i.cost_usd for i in Invocation.objects.filter(run=run))
    assert Decimal(run.sweep_cost["usd"]) == measured + 3 * REQUEST_FEE
    assert "3 processor calls returned no REPORT line or the processor's configuration could " in (
        spend.sentence(run.sweep_cost, format_usd)
    )
