"""Runs built through the code paths a real sweep takes — start_run, the executor's recording of
each invocation, the size statistics, the stored analysis, the status transitions — with only
the AWS side (invoking, publishing, cleanup) left out: invocations get made-up REPORTs."""

from datetime import timedelta

from django.utils import timezone

from tuning import runs
from tuning.aws import InvokeOutcome
from tuning.engine.finish import finalize_size
from tuning.engine.recording import record_invocation
from tuning.models import Phase, RunStatus, TuningRun
from tuning.params import SweepParams
from tuning.reports import Report

#: The account id of the sandbox (and of moto's STS): what the workers' credentials resolve to.
SANDBOX_ACCOUNT = "123456789012"
# A CPU-bound function: durations fall with memory until ~1 vCPU (1769 MB).
CPU_DURATIONS = {128: 1600.0, 256: 800.0, 512: 400.0, 1024: 150.0, 1769: 88.0, 3008: 86.0}


OUT_OF_MEMORY = ("Runtime.OutOfMemory", "signal: killed")


def _outcome(
    size: int, duration: float, sequence: int, failure: tuple[str, str] | None
) -> InvokeOutcome:
    report = Report(
        duration_ms=duration,
        billed_duration_ms=float(int(duration) + 1),
        init_duration_ms=180.0 if sequence == 0 else None,
        restore_duration_ms=None,
        billed_restore_duration_ms=None,
        memory_size_mb=size,
        max_memory_used_mb=size if failure == OUT_OF_MEMORY else min(size, 90),
        request_id=f"req-{size}-{sequence}",
    )
    return InvokeOutcome(
        report=report,
        error_type=failure[0] if failure else "",
        error_message=failure[1] if failure else "",
        executed_version="1",
        log_tail="",
    )


def make_run(
    function="tuneboard-cpu",
    sizes=(128, 512, 1024),
    num=10,
    status="SUCCEEDED",
    durations=None,
    user=None,
    account=None,
    region="us-east-1",
    strategy="cost",
    weight=0.5,
    failed_sizes=(),
    created_at=None,
    original_memory=128,
    error_message="",
    payload=None,
    failure=OUT_OF_MEMORY,
    ephemeral_storage=512,
    architecture="x86_64",
):
    """A run in ``status``; a finished one has ``num`` invocations per size (durations spread
    ±4 % around ``durations[size]``) and every invocation of a size in ``failed_sizes`` failed
    with ``failure`` (error type, message): by default it ran out of memory."""
    durations = durations or CPU_DURATIONS
    params = SweepParams.parse(
        {
            "function": function,
            "memory_sizes": list(sizes),
            "invocations_per_size": num,
            "account": account,
            "region": region,
            "strategy": strategy,
            "balanced_weight": weight,
            "payload": {"n": 25} if payload is None else payload,
        }
    )
    run = runs.start_run(params, created_by=user)
    if created_at is not None:
        TuningRun.objects.filter(pk=run.pk).update(created_at=created_at)
    if status == RunStatus.CANCELLED:
        run.cancel_pending()
        TuningRun.objects.filter(pk=run.pk).update(error_message=error_message)
    if status in (RunStatus.PENDING, RunStatus.CANCELLED):
        run.refresh_from_db()
        return run
    run.claim_start()
    # What resolve_and_own does once STS has answered (the sandbox's account).
    run.take_ownership(f"arn:aws:lambda:{region}:{SANDBOX_ACCOUNT}:function:{function}")
    # What record_original stores (it reads it from AWS).
    run.original_config = {
        "MemorySize": original_memory,
        "Architectures": [architecture],
        "EphemeralStorage": {"Size": ephemeral_storage},
    }
    run.save(update_fields=["original_config"])
    if status == RunStatus.RUNNING:
        return run
    for result in run.results.all():
        size, failed = result.memory_mb, result.memory_mb in failed_sizes
        base = durations.get(size, 100.0)
        result.batches_total = 1
        result.save(update_fields=["batches_total"])
        for sequence in range(num):
            duration = base * (1 + 0.02 * ((sequence % 5) - 2))
            outcome = _outcome(size, duration, sequence, failure if failed else None)
            record_invocation(run, result, sequence, 0, outcome)
        if failed and failure == OUT_OF_MEMORY:
            # What the executor records when a size runs out of memory; other errors fail the
            # size in finalize_size (more errors than allowed).
            result.mark_failing(f"Out of memory at {size} MB (Runtime.OutOfMemory: signal: killed)")
        result.complete_batch(0)
        finalize_size(run, result)
    run.mark_published()
    assert run.claim_finish()
    run.store_analysis()
    run.claim_cleanup(from_phases=[Phase.ANALYSING])
    run.store_sweep_cost()
    run.finish(status, error_message)
    started = created_at or timezone.now() - timedelta(seconds=42)
    TuningRun.objects.filter(pk=run.pk).update(
        started_at=started, finished_at=started + timedelta(seconds=42)
    )
    run.refresh_from_db()
    return run


def start_run(created_by=None, **values):
    """``runs.start_run`` with parameters given as the API would send them."""
    return runs.start_run(SweepParams.parse(values), created_by=created_by)


def make_comparison(
    function="orders", status="SUCCEEDED", copy_status="SUCCEEDED", copy_durations=None, **options
):
    """A finished architecture comparison: the run on ``function`` (x86_64) and its companion
    run, which measured a temporary arm64 copy (at arm64 prices; ``copy_durations``, by default
    the same durations): (run, copy)."""
    copy_options = {**options, "durations": copy_durations or options.get("durations")}
    copy = make_run(function=function, status=copy_status, architecture="arm64", **copy_options)
    run = make_run(function=function, status=status, **options)
    TuningRun.objects.filter(pk=run.pk).update(compare_architectures=True)
    TuningRun.objects.filter(pk=copy.pk).update(
        copy_of=run, copy_function=f"tuneboard-{copy.id.hex[:8]}-arm64-{function}"
    )
    run.refresh_from_db()
    copy.refresh_from_db()
    return run, copy
