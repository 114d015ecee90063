"""The sandbox: our Lambda API + moto (CloudWatch, DAX, DynamoDB, STS, S3), in one process.

moto runs in server mode in-process (``moto.server.ThreadedMotoServer``) for
CloudWatch, DAX, DynamoDB and STS. Known differences from AWS that matter to us
(moto 5.2.5):

* CloudWatch ``GetMetricData``, ``GetMetricStatistics`` and ``ListMetrics`` answer
  from an index by exact dimensions (``sandbox.cloudwatch_index``, which lists what
  still differs from AWS); moto's own scan every datapoint per query.
* Metric math expressions in ``GetMetricData`` are not evaluated (empty values).
* ``ExtendedStatistics`` (p99 etc.) return nothing.
* DAX ``describe_parameter_groups`` is not implemented; clusters stay ``creating``
  until the 4th describe unless ``make_dax_immediate`` sets the state-manager
  transition to immediate (done at start).
* DynamoDB emits no AWS/DynamoDB CloudWatch metrics by itself.

moto's Lambda needs Docker, hence our own Lambda API (``sandbox.lambda_api``)
running functions in the execution environments of ``sandbox.runtime``. moto has no
Pricing service: the Lambda API's port also answers the Price List Query API
(``sandbox.pricelist``, a few regions of Lambda, DAX and DynamoDB prices).
"""

from __future__ import annotations

import logging
import os
import sys

from sandbox import cloudwatch_index
from sandbox.lambda_api import LambdaHTTPServer
from sandbox.lambda_state import REGION, LambdaState

HOST = "127.0.0.1"
SEED_PARTS = ("functions", "dax")


def log(message: str) -> None:
    print(f"sandbox: {message}", file=sys.stderr, flush=True)


class Sandbox:
    """Starts and stops moto, the runtime pool and the Lambda API server."""

    def __init__(
        self,
        lambda_port: int = 9001,
        aws_port: int = 9002,
        *,
        state_dir: str | None = None,
        update_delay_s: float = 0.5,
        snapstart_delay_s: float = 1.0,
        concurrency_limit: int = 1000,
        idle_timeout_s: float = 300.0,
        verbose: bool = False,
    ):
        self.lambda_port = lambda_port
        self.aws_port = aws_port
        self.state_dir = state_dir
        self.update_delay_s = update_delay_s
        self.snapstart_delay_s = snapstart_delay_s
        self.concurrency_limit = concurrency_limit
        self.idle_timeout_s = idle_timeout_s
        self.verbose = verbose
        self.moto = None
        self.pool = None
        self.state: LambdaState | None = None
        self.lambda_server: LambdaHTTPServer | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Sandbox:
        try:
            self._start_moto()
            self._start_lambda()
        except BaseException:
            self.stop()
            raise
        os.environ.update(self.env())  # our own boto3 clients (seeding) talk to ourselves
        return self

    def _start_moto(self) -> None:
        from moto.server import ThreadedMotoServer

        if not self.verbose:
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
        # moto scans every CloudWatch datapoint per query (minutes for a day of DAX metrics),
        # lists each metric once per datapoint and matches dimensions as a subset: answer
        # from an index by exact dimensions instead, as AWS does (sandbox.cloudwatch_index)
        cloudwatch_index.install()
        self.moto = ThreadedMotoServer(ip_address=HOST, port=self.aws_port, verbose=False)
        self.moto.start()
        self.aws_port = self.moto.get_host_and_port()[1]
        log(f"moto (CloudWatch, DAX, DynamoDB, STS) on {self.aws_url}")
        try:
            from sandbox.seed_dax import make_dax_immediate
        except ModuleNotFoundError as exc:
            if exc.name != "sandbox.seed_dax":
                raise
            log("sandbox.seed_dax not available: DAX clusters will start as 'creating'")
        else:
            make_dax_immediate(self.aws_url)

    def _start_lambda(self) -> None:
        from sandbox.runtime import EnvironmentPool

        self.state = LambdaState(
            self.state_dir,
            update_delay_s=self.update_delay_s,
            snapstart_delay_s=self.snapstart_delay_s,
            concurrency_limit=self.concurrency_limit,
        )
        if self.state.all_functions():
            count = len(self.state.all_functions())
            log(f"reloaded {count} Lambda function(s) from {self.state_dir}")
        self.pool = EnvironmentPool(idle_timeout_s=self.idle_timeout_s)
        self.lambda_server = LambdaHTTPServer(
            self.state, self.pool, HOST, self.lambda_port, verbose=self.verbose
        ).start()
        self.lambda_port = self.lambda_server.port
        log(f"Lambda API on {self.lambda_url} (cpu limits: {self.pool.cpu_method})")

    def seed(self, parts=SEED_PARTS) -> dict:
        summary = {}
        if "functions" in parts:
            from sandbox.seed_functions import seed_all_regions

            by_region = seed_all_regions(self.lambda_url)
            summary["functions"] = by_region[REGION]
            summary["functions_by_region"] = by_region
            log(f"seeded functions: {by_region}")
        if "dax" in parts:
            from sandbox.seed_dax import seed_dax

            dax = summary["dax"] = seed_dax(self.aws_url, region=REGION, moto_in_process=True)
            clusters = ", ".join(
                f"{name} ({', '.join(info['tables'])}; item hit ratio {info['item_hit_ratio']:.0%})"
                for name, info in dax["clusters"].items()
            )
            log(
                f"seeded DAX: {clusters}; {dax['minutes'] // 60} h of per-minute metrics, "
                f"{sum(dax['datapoints'].values())} datapoints in {dax['timings']['total_s']:.0f} s"
            )
        return summary

    def stop(self) -> None:
        """Stop everything we started; safe to call more than once."""
        if self.lambda_server is not None:
            self.lambda_server.stop()
            self.lambda_server = None
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None
        if self.moto is not None:
            self.moto.stop()
            self.moto = None
        if self.state is not None:
            self.state.close()
            self.state = None

    # ------------------------------------------------------------------ addresses

    @property
    def lambda_url(self) -> str:
        return f"http://{HOST}:{self.lambda_port}"

    @property
    def aws_url(self) -> str:
        return f"http://{HOST}:{self.aws_port}"

    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL_LAMBDA": self.lambda_url,
            "AWS_ENDPOINT_URL_CLOUDWATCH": self.aws_url,
            "AWS_ENDPOINT_URL_DAX": self.aws_url,
            "AWS_ENDPOINT_URL_DYNAMODB": self.aws_url,
            "AWS_ENDPOINT_URL_STS": self.aws_url,
            "AWS_ENDPOINT_URL_S3": self.aws_url,  # moto: payloadS3 objects
            "AWS_ENDPOINT_URL_PRICING": self.lambda_url,  # sandbox.pricelist
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }

    def export_lines(self) -> str:
        lines = [f"export {key}={value}" for key, value in self.env().items()]
        cpu_method = self.pool.cpu_method if self.pool is not None else "unknown"
        lines.append(f"# sandbox ready (cpu limits: {cpu_method})")
        return "\n".join(lines) + "\n"
