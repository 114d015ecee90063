"""``python manage.py show_run RUN_ID [--json]``: a run's results and recommendations in a
terminal (what ``manage.py sweep --wait`` prints at the end), e.g. for a run started from the
web or imported from Power Tuning."""

import json
import uuid

from django.core.management.base import BaseCommand, CommandError

from dashboard.templatetags.units import format_usd
from tuning import price_table, spend
from tuning.analysis import STRATEGIES
from tuning.costing import PRICE_UNKNOWN
from tuning.models import RunStatus, TuningRun
from tuning.serializers import run_to_dict


def print_run(out, run, *, as_json: bool) -> None:
    """The run as JSON (``GET /api/runs/<uuid>/``) or as a table with its recommendations."""
    run = TuningRun.objects.select_related("account", "created_by").get(pk=run.pk)
    if as_json:
        out.write(json.dumps(run_to_dict(run), indent=2))
        return
    out.write(f"run {run.id}: {run.status}")
    if run.status in (RunStatus.PENDING, RunStatus.RUNNING):
        return
    if run.dry_run:
        out.write(run.error_message or "dry run: one invocation per size, nothing measured")
    if run.cold_starts_only:
        out.write(
            "cold starts only: durations include Init Duration (or SnapStart Restore Duration)"
        )
    out.write(f"{'MB':>6}  {'status':<10} {'avg ms':>10} {'p95 ms':>10} {'USD/inv':>16}")
    for result in run.results.order_by("memory_mb"):
        avg = f"{result.avg_duration_ms:.1f}" if result.avg_duration_ms is not None else "-"
        p95 = f"{result.p95_duration_ms:.1f}" if result.p95_duration_ms is not None else "-"
        cost = format(result.avg_cost_usd, "f") if result.avg_cost_usd is not None else "-"
        if result.price_unknown:
            cost = PRICE_UNKNOWN
        out.write(
            f"{result.memory_mb:>6}  {result.status:<10} {avg:>10} {p95:>10} {cost:>16}"
            + (f"  {result.error_message}" if result.error_message else "")
        )
    recorded = price_table.recorded(run)
    if recorded is not None:
        out.write(f"costs at the {recorded.label}")
    for strategy in STRATEGIES:
        rec = run.recommendation(strategy)
        if rec:
            cost = f"${rec['avg_cost_usd']}" if rec.get("avg_cost_usd") else PRICE_UNKNOWN
            out.write(
                f"{strategy:>8}: {rec['memory_mb']} MB "
                f"({rec['avg_duration_ms']:.1f} ms, {cost} per invocation)"
            )
    if run.price_unknown:
        out.write(f"price unknown: {run.price_unknown}")
    cost = spend.sentence(run.sweep_cost, format_usd)
    if cost:
        out.write(cost)
    comparison = run.architecture_comparison()
    if comparison:
        print_architectures(out, run, comparison)


def print_architectures(out, run, comparison: dict) -> None:
    """The architecture comparison's runs and its one recommendation across both."""
    out.write("Architecture comparison:")
    for item in comparison["runs"]:
        role = "temporary copy" if item["copy"] else "the function"
        out.write(
            f"  run {item['id']} ({role}): {item['architecture'] or 'architecture not known'}, "
            f"{item['status'].lower()}"
        )
    if run.is_architecture_copy:
        out.write(f"  this run measured the copy {run.copy_function or '(never created)'}")
    if not comparison["ready"]:
        out.write(f"  no recommendation across both: {comparison['reason']}")
        return
    for strategy, pick in comparison["recommendation"].items():
        if pick is None:
            out.write(f"{strategy:>8}: no pick (price unknown or no size succeeded)")
            continue
        cost = f"${pick['avg_cost_usd']}" if pick["avg_cost_usd"] else PRICE_UNKNOWN
        line = (
            f"{strategy:>8}: {pick['architecture']} at {pick['memory_mb']} MB "
            f"({pick['avg_duration_ms']:.1f} ms, {cost} per invocation)"
        )
        if pick["cost_change"] is not None:
            line += f"; cost {pick['cost_change']:+.1%} vs {pick['original']['architecture']}"
        if pick["duration_change"] is not None:
            line += f", duration {pick['duration_change']:+.1%}"
        out.write(line)
    if comparison["reason"]:
        out.write(f"  {comparison['reason']}")
    out.write("  apply sets memory only: switching architecture needs a code deploy")


class Command(BaseCommand):
    help = "Print a tuning run's results and recommendations."

    def add_arguments(self, parser):
        parser.add_argument("run_id", help="the run's id (as in its URL)")
        parser.add_argument("--json", action="store_true", help="print the run as JSON")

    def handle(self, *args, **options):
        try:
            run = TuningRun.objects.get(pk=uuid.UUID(options["run_id"]))
        except (ValueError, TuningRun.DoesNotExist):
            raise CommandError(f"No run with id {options['run_id']!r}.") from None
        print_run(self.stdout, run, as_json=options["json"])
