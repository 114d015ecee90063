"""``python manage.py sweep FUNCTION --power 128,512,1024 --num 10 ...``: start a sweep from a
terminal or CI; with ``--wait``, follow it (progress on stderr) and exit 0 only on SUCCEEDED
(with ``--compare-architectures``: when the companion run on the copy succeeded too).

Exit codes: 0 queued (without --wait) or SUCCEEDED; 1 FAILED; 2 invalid arguments;
3 refused (the function already has an active sweep); 4 CANCELLED; 5 --timeout reached;
130 interrupted (the sweep is cancelled and cleaned up).
"""

import sys
import time
from pathlib import Path

from django.core.checks import Tags
from django.core.management.base import BaseCommand, CommandError

from dashboard.checks import CONFIGURATION
from tuning import powertuning_input, runs
from tuning.analysis import STRATEGIES
from tuning.management.commands.show_run import print_run
from tuning.models import RunStatus, SweepRefused, TuningRun
from tuning.params import InvalidSweep, SweepParams

EXIT_FAILED, EXIT_INVALID, EXIT_REFUSED, EXIT_CANCELLED, EXIT_TIMEOUT = 1, 2, 3, 4, 5
# How often --wait reads the run: the command ends at most this long after its run does. A
# read takes ~0.6 ms of CPU, so 50 a second cost about 3 % of a core.
POLL_S = 0.02


def _option(name: str, spec) -> str:
    return spec.cli or "--" + name.replace("_", "-")


class Command(BaseCommand):
    help = "Start a Lambda power-tuning sweep (optionally wait for it and print the result)."
    # CI pipelines call this on every deploy: the URL checks would add 0.2 s each time.
    requires_system_checks = [CONFIGURATION, Tags.models]

    def add_arguments(self, parser):
        # One option per sweep parameter (tuning.params), values checked by SweepParams.
        for name, spec in SweepParams.declared().items():
            help_text = f"{spec.label}: {spec.help}".replace("%", "%%")
            if name == "function":
                parser.add_argument("function", nargs="?", help="function name, name:alias, or ARN")
            elif spec.kind == "bool":
                parser.add_argument(
                    _option(name, spec), dest=name, action="store_true", default=None
                )
            elif spec.kind == "strategy":
                parser.add_argument(_option(name, spec), dest=name, choices=STRATEGIES)
            else:
                parser.add_argument(_option(name, spec), dest=name, help=help_text)
        parser.add_argument(
            "--powertuning-input",
            metavar="FILE",
            help="a Power Tuning state machine input (JSON file, - for stdin) to start from; "
            "options given here override its values",
        )
        parser.add_argument("--wait", action="store_true", help="wait until the sweep ends")
        parser.add_argument("--timeout", type=float, default=None, help="seconds to wait at most")
        parser.add_argument("--json", action="store_true", help="print the run as JSON")

    def handle(self, *args, **options):
        given = {name: options[name] for name in SweepParams.declared()}
        values = {name: value for name, value in given.items() if value is not None}
        if "concurrency" in values:
            values["parallel"] = True  # a cap only makes sense in parallel
        try:
            if options["powertuning_input"]:
                params = self._from_powertuning(options["powertuning_input"], values)
            else:
                params = SweepParams.parse(values, text=True)
            run = runs.start_run(params)
        except SweepRefused as refusal:
            raise CommandError(str(refusal), returncode=EXIT_REFUSED) from None
        except InvalidSweep as invalid:
            declared = SweepParams.declared()
            problems = "; ".join(
                f"{_option(name, declared[name])}: {message}" if name in declared else message
                for name, message in invalid.errors.items()
            )
            raise CommandError(problems, returncode=EXIT_INVALID) from None
        self.stderr.write(
            f"sweep {run.id} queued: {run.function_name} at {run.memory_sizes} MB, "
            f"{run.invocations_per_size} invocations each"
        )
        if not options["wait"]:
            print_run(self.stdout, run, as_json=options["json"])
            return
        copy = TuningRun.objects.filter(copy_of=run).first()
        try:
            run = self._follow(run, options["timeout"])
            if copy is not None and run.status not in (RunStatus.PENDING, RunStatus.RUNNING):
                copy = self._follow(copy, options["timeout"])
        except KeyboardInterrupt:
            self.stderr.write("interrupted: cancelling the sweep (it cleans up after itself)")
            runs.request_cancel(TuningRun.objects.get(pk=run.pk))
            sys.exit(130)
        print_run(self.stdout, run, as_json=options["json"])
        if copy is not None and run.status == RunStatus.SUCCEEDED:
            run = copy  # the comparison succeeds only when the copy's run does too
        if run.status != RunStatus.SUCCEEDED:
            code = EXIT_CANCELLED if run.status == RunStatus.CANCELLED else EXIT_FAILED
            if run.status in (RunStatus.PENDING, RunStatus.RUNNING):
                code = EXIT_TIMEOUT
            self.stderr.write(f"sweep {run.status.lower()}: {run.error_message}".rstrip(": "))
            sys.exit(code)

    def _from_powertuning(self, path: str, options: dict) -> SweepParams:
        """The file's values, overridden by the options given; its notes go to stderr."""
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text()
            translation = powertuning_input.parse_input_text(text)
        except (OSError, UnicodeDecodeError, powertuning_input.NotAnInput) as problem:
            raise CommandError(f"--powertuning-input: {problem}", returncode=EXIT_INVALID) from None
        for note in translation.notes:
            self.stderr.write(f"note: {note}")
        from_file = SweepParams.parse(translation.values)
        values = {name: getattr(from_file, name) for name in SweepParams.declared()}
        return SweepParams.parse({**values, **SweepParams.parse_fields(options, text=True)})

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
            stalled = run.stall_message()  # what the page and the API say too
            if stalled and not hinted:
                self.stderr.write(stalled)
            hinted = bool(stalled)
            if timeout is not None and waited > timeout:
                self.stderr.write(f"gave up waiting after {timeout:g} s; the sweep goes on")
                return run
            time.sleep(POLL_S)
