"""``python manage.py sweep FUNCTION --power 128,512,1024 --num 10 ...``: start a sweep from a
terminal or CI; with ``--wait``, follow it (progress on stderr) and exit 0 only on SUCCEEDED.

Exit codes: 0 queued (without --wait) or SUCCEEDED; 1 FAILED; 2 invalid arguments;
3 refused (the function already has an active sweep); 4 CANCELLED; 5 --timeout reached;
130 interrupted (the sweep is cancelled and cleaned up).
"""

import json
import sys
import time

from django.core.checks import Tags
from django.core.management.base import BaseCommand, CommandError

from dashboard.checks import CONFIGURATION
from tuning import sweep
from tuning.analysis import STRATEGIES
from tuning.models import AwsAccount, RunStatus, TuningRun
from tuning.serializers import run_to_dict

EXIT_FAILED, EXIT_INVALID, EXIT_REFUSED, EXIT_CANCELLED, EXIT_TIMEOUT = 1, 2, 3, 4, 5
POLL_S = 0.05


def _sizes(text: str) -> list[int]:
    try:
        return [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise CommandError(
            f"--power must be comma-separated MB values like 128,512,1024; got {text!r}.",
            returncode=EXIT_INVALID,
        ) from None


class Command(BaseCommand):
    help = "Start a Lambda power-tuning sweep (optionally wait for it and print the result)."
    # CI pipelines call this on every deploy: the URL checks would add 0.2 s each time.
    requires_system_checks = [CONFIGURATION, Tags.models]

    def add_arguments(self, parser):
        parser.add_argument("function", help="function name, name:alias, or ARN")
        parser.add_argument("--power", required=True, help="memory sizes, e.g. 128,512,1024")
        parser.add_argument("--num", type=int, default=10, help="invocations per size")
        parser.add_argument("--parallel", action="store_true", help="invoke in parallel")
        parser.add_argument(
            "--concurrency", type=int, default=None, help="cap on parallel invocations"
        )
        parser.add_argument("--strategy", choices=STRATEGIES, default="cost")
        parser.add_argument("--weight", type=float, default=0.5, help="balanced weight 0..1")
        parser.add_argument("--payload", default=None, help="JSON payload")
        parser.add_argument(
            "--weighted-payloads", default=None, help='JSON [{"payload": ..., "weight": n}]'
        )
        parser.add_argument("--account", default=None, help="AWS account name in Tuneboard")
        parser.add_argument("--region", default=None)
        parser.add_argument("--discard", type=float, default=0.2, help="trimmed share per end")
        parser.add_argument("--cold-starts-only", action="store_true")
        parser.add_argument("--sleep-ms", type=int, default=0, help="pause between serial calls")
        parser.add_argument("--max-error-share", type=float, default=0.2)
        parser.add_argument("--auto-apply", default="", metavar="TARGET", help="$LATEST or alias")
        parser.add_argument("--wait", action="store_true", help="wait until the sweep ends")
        parser.add_argument("--timeout", type=float, default=None, help="seconds to wait at most")
        parser.add_argument("--json", action="store_true", help="print the run as JSON")

    def _json_arg(self, text, option):
        if text is None:
            return None
        try:
            return json.loads(text)
        except ValueError as exc:
            raise CommandError(f"{option} is not JSON: {exc}", returncode=EXIT_INVALID) from None

    def handle(self, *args, **options):
        account = None
        if options["account"]:
            account = AwsAccount.objects.filter(name=options["account"]).first()
            if account is None:
                known = ", ".join(AwsAccount.objects.values_list("name", flat=True)) or "none"
                raise CommandError(
                    f"No account named {options['account']!r} (known: {known}).",
                    returncode=EXIT_INVALID,
                )
        parallel = options["parallel"] or options["concurrency"] is not None
        try:
            run = sweep.start_run(
                function=options["function"],
                memory_sizes=_sizes(options["power"]),
                invocations_per_size=options["num"],
                account=account,
                region=options["region"],
                payload=self._json_arg(options["payload"], "--payload"),
                weighted_payloads=self._json_arg(
                    options["weighted_payloads"], "--weighted-payloads"
                ),
                parallel=parallel,
                concurrency=options["concurrency"] or (10 if parallel else 1),
                strategy=options["strategy"],
                balanced_weight=options["weight"],
                discard_fraction=options["discard"],
                cold_starts_only=options["cold_starts_only"],
                sleep_between_ms=options["sleep_ms"],
                max_error_share=options["max_error_share"],
                auto_apply_target=options["auto_apply"],
            )
        except sweep.SweepRefused as refusal:
            raise CommandError(str(refusal), returncode=EXIT_REFUSED) from None
        except ValueError as invalid:
            raise CommandError(str(invalid), returncode=EXIT_INVALID) from None
        self.stderr.write(
            f"sweep {run.id} queued: {run.function_name} at {run.memory_sizes} MB, "
            f"{run.invocations_per_size} invocations each"
        )
        if not options["wait"]:
            self._print(run, options["json"])
            return
        try:
            run = self._follow(run, options["timeout"])
        except KeyboardInterrupt:
            self.stderr.write("interrupted: cancelling the sweep (it cleans up after itself)")
            sweep.request_cancel(TuningRun.objects.get(pk=run.pk))
            sys.exit(130)
        self._print(run, options["json"])
        if run.status != RunStatus.SUCCEEDED:
            code = EXIT_CANCELLED if run.status == RunStatus.CANCELLED else EXIT_FAILED
            if run.status in (RunStatus.PENDING, RunStatus.RUNNING):
                code = EXIT_TIMEOUT
            self.stderr.write(f"sweep {run.status.lower()}: {run.error_message}".rstrip(": "))
            sys.exit(code)

    def _follow(self, run, timeout):
        started = time.monotonic()
        last = None
        hinted = False
        while True:
            run.refresh_from_db()
            progress = run.progress
            line = (
                f"{run.status.lower()} {run.phase}: {progress['done']}/{progress['total']} "
                f"invocations ({progress['percent']}%)"
            )
            if line != last:
                self.stderr.write(line)
                last = line
            if run.status not in (RunStatus.PENDING, RunStatus.RUNNING):
                return run
            waited = time.monotonic() - started
            if run.status == RunStatus.PENDING and waited > 30 and not hinted:
                self.stderr.write(
                    "still pending: is a Celery worker running (`celery -A dashboard worker`)?"
                )
                hinted = True
            if timeout is not None and waited > timeout:
                self.stderr.write(f"gave up waiting after {timeout:g} s; the sweep goes on")
                return run
            time.sleep(POLL_S)

    def _print(self, run, as_json: bool):
        run = TuningRun.objects.select_related("account", "created_by").get(pk=run.pk)
        if as_json:
            self.stdout.write(json.dumps(run_to_dict(run), indent=2))
            return
        self.stdout.write(f"run {run.id}: {run.status}")
        if run.status in (RunStatus.PENDING, RunStatus.RUNNING):
            return
        self.stdout.write(
            f"{'MB':>6}  {'status':<10} {'avg ms':>10} {'p95 ms':>10} {'USD/inv':>16}"
        )
        for result in run.results.order_by("memory_mb"):
            avg = f"{result.avg_duration_ms:.1f}" if result.avg_duration_ms is not None else "-"
            p95 = f"{result.p95_duration_ms:.1f}" if result.p95_duration_ms is not None else "-"
            cost = format(result.avg_cost_usd, "f") if result.avg_cost_usd is not None else "-"
            self.stdout.write(
                f"{result.memory_mb:>6}  {result.status:<10} {avg:>10} {p95:>10} {cost:>16}"
                + (f"  {result.error_message}" if result.error_message else "")
            )
        for strategy in STRATEGIES:
            rec = run.recommendation(strategy)
            if rec:
                self.stdout.write(
                    f"{strategy:>8}: {rec['memory_mb']} MB "
                    f"({rec['avg_duration_ms']:.1f} ms, ${rec['avg_cost_usd']} per invocation)"
                )
