"""How the executor records and the finisher summarises cold starts: Init Duration and SnapStart
Restore Duration, in cold-starts-only and normal runs (made-up REPORTs, the real recording and
statistics code)."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from tests.tuning.runfactory import start_run
from tuning import pricing
from tuning.aws import InvokeOutcome
from tuning.engine.finish import finalize_size
from tuning.engine.recording import record_invocation
from tuning.models import Invocation, Phase, RunStatus, TuningRun
from tuning.reports import Report, parse_report

pytestmark = pytest.mark.django_db


def stored(cost: Decimal) -> Decimal:
    """A cost as the database keeps it (12 decimal places)."""
    return cost.quantize(Decimal("1e-12"))


def outcome(duration=10.0, billed=None, init=None, restore=None, billed_restore=None):
    report = Report(
        duration_ms=duration,
        billed_duration_ms=billed if billed is not None else int(duration + (init or 0)) + 1,
        init_duration_ms=init,
        restore_duration_ms=restore,
        billed_restore_duration_ms=billed_restore,
        memory_size_mb=128,
        max_memory_used_mb=40,
        request_id="req",
    )
    return InvokeOutcome(report, "", "", "1", "")


def measured_run(cold_starts_only: bool, outcomes) -> tuple[TuningRun, object]:
    run = start_run(
        function="tuneboard-init",
        memory_sizes=[128],
        invocations_per_size=len(outcomes),
        cold_starts_only=cold_starts_only,
        discard_fraction=0,
    )
    run.claim_start()
    result = run.results.get()
    for seq, item in enumerate(outcomes):
        record_invocation(run, result, seq, 0, item)
    finalize_size(run, result)
    result.refresh_from_db()
    return run, result


def test_cold_starts_only_averages_include_the_init_duration():
    # A 10 ms handler with a 1,000 ms init: a cold start makes its caller wait 1,010 ms.
    _, result = measured_run(True, [outcome(10.0, init=1000.0) for _ in range(3)])
    assert result.avg_duration_ms == pytest.approx(1010.0)
    assert result.p50_duration_ms == pytest.approx(1010.0)
    assert result.cold_starts == 3
    # Billed Duration already holds the init (billed since 2025-08-01): 1,011 ms each.
    assert result.avg_cost_usd == stored(pricing.invocation_cost(128, 1011))


def test_show_run_says_that_cold_start_durations_include_the_init():
    run, _ = measured_run(True, [outcome(10.0, init=1000.0)])
    run.mark_published()
    assert run.claim_finish()
    run.store_analysis()
    run.claim_cleanup(from_phases=[Phase.ANALYSING])
    run.finish(RunStatus.SUCCEEDED, "")
    out = io.StringIO()
    call_command("show_run", str(run.id), stdout=out)
    text = out.getvalue()
    assert "cold starts only: durations include Init Duration" in text
    assert "1010.0" in text  # the 128 MB row: 10 ms handler + 1,000 ms init


def test_normal_runs_keep_the_handler_duration():
    _, result = measured_run(False, [outcome(10.0, init=1000.0), outcome(10.0), outcome(10.0)])
    assert result.avg_duration_ms == pytest.approx(10.0)
    assert result.cold_starts == 1


def test_a_snapstart_restore_is_a_cold_start_counted_in_duration_and_costed():
    report = parse_report(
        "REPORT RequestId: 8c360c87-d4b7-4423-b5f3-af02be3c1763\tDuration: 10.00 ms\t"
        "Billed Duration: 10 ms\tMemory Size: 128 MB\tMax Memory Used: 41 MB\t"
        "Restore Duration: 398.97 ms\tBilled Restore Duration: 182 ms\t"
    )
    restored = InvokeOutcome(report, "", "", "1", "")
    run, result = measured_run(True, [restored, restored])
    row = Invocation.objects.filter(run=run).first()
    assert (row.cold_start, row.init_duration_ms) == (True, None)
    assert (row.restore_duration_ms, row.billed_restore_duration_ms) == (398.97, 182)
    assert result.cold_starts == 2
    assert result.avg_duration_ms == pytest.approx(408.97)
    expected = pricing.invocation_cost(128, 10) + pricing.restore_cost(128, 182)
    assert row.cost_usd == stored(expected)
    # What leaving the restore out got wrong: 10 ms of duration + the request fee only.
    assert expected > 5 * pricing.invocation_cost(128, 10)


def test_a_restore_costs_its_billed_restore_duration_plus_the_per_gb_restore_charge():
    # 1,024 MB, 182 ms billed restore: 0.182 GB-s at $0.0000166667 + 1 GB × $0.0001397998.
    cost = pricing.restore_cost(1024, 182)
    assert cost == Decimal("0.182") * Decimal("0.0000166667") + Decimal("0.0001397998")
    assert pricing.restore_cost(512, 0) == Decimal("0.0001397998") / 2
    arm = pricing.restore_cost(1024, 1000, architecture="arm64")
    assert arm == Decimal("0.0000133334") + Decimal("0.0001397998")
    with pytest.raises(pricing.UnknownRegion):
        pricing.restore_cost(128, 10, region="xx-nowhere-1")
