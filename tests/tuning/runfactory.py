"""Runs written straight into the database, shaped like the engine leaves them."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from tuning import pricing
from tuning.models import Invocation, PowerResult, TuningRun

# A CPU-bound function: durations fall with memory until ~1 vCPU (1769 MB).
CPU_DURATIONS = {128: 1600.0, 256: 800.0, 512: 400.0, 1024: 150.0, 1769: 88.0, 3008: 86.0}


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
    invocations=True,
    **fields,
):
    durations = durations or CPU_DURATIONS
    now = timezone.now()
    run = TuningRun.objects.create(
        function_arn=function,
        function_name=function.split(":")[-1] if not function.startswith("arn:") else function,
        region=region,
        function_key=f"{region}:{function}",
        account=account,
        memory_sizes=list(sizes),
        invocations_per_size=num,
        status=status,
        phase="done" if status == "SUCCEEDED" else "invoking",
        strategy=strategy,
        balanced_weight=weight,
        created_by=user,
        started_at=now - timedelta(seconds=42),
        finished_at=now if status in ("SUCCEEDED", "FAILED", "CANCELLED") else None,
        invocations_total=num * len(sizes),
        invocations_done=num * len(sizes) if status == "SUCCEEDED" else 0,
        original_config={"MemorySize": original_memory, "Architectures": ["x86_64"]},
        **{"payload": {"n": 25}, **fields},
    )
    if created_at is not None:
        TuningRun.objects.filter(pk=run.pk).update(created_at=created_at)
        run.refresh_from_db()
    if status not in ("SUCCEEDED", "FAILED"):
        for size in sizes:
            PowerResult.objects.create(run=run, memory_mb=size, status="PENDING")
        return run
    for size in sizes:
        failed = size in failed_sizes
        base = durations.get(size, 100.0)
        values = [base * (1 + 0.02 * ((i % 5) - 2)) for i in range(num)]
        billed = [float(int(v) + 1) for v in values]
        avg_billed = sum(billed) / num
        cost = pricing.invocation_cost(size, Decimal(str(avg_billed)))
        result = PowerResult.objects.create(
            run=run,
            memory_mb=size,
            status="FAILED" if failed else "SUCCEEDED",
            invocations_done=num,
            errors=num if failed else 0,
            cold_starts=1,
            error_message="Runtime.OutOfMemory: signal: killed" if failed else "",
            avg_duration_ms=None if failed else base,
            mean_duration_ms=None if failed else base,
            p50_duration_ms=None if failed else base,
            p95_duration_ms=None if failed else base * 1.04,
            p99_duration_ms=None if failed else base * 1.04,
            ci95_low_ms=None if failed else base * 0.98,
            ci95_high_ms=None if failed else base * 1.02,
            avg_billed_duration_ms=None if failed else avg_billed,
            avg_cost_usd=None if failed else cost,
            max_memory_used_mb=min(size, 90),
            finished_at=now,
        )
        if invocations:
            Invocation.objects.bulk_create(
                Invocation(
                    result=result,
                    run=run,
                    memory_mb=size,
                    sequence=i,
                    request_id=f"req-{size}-{i}",
                    duration_ms=value,
                    billed_duration_ms=billed[i],
                    init_duration_ms=180.0 if i == 0 else None,
                    max_memory_used_mb=min(size, 90),
                    cold_start=i == 0,
                    cost_usd=pricing.invocation_cost(size, Decimal(str(billed[i]))),
                    error_type="Runtime.OutOfMemory" if failed else "",
                )
                for i, value in enumerate(values)
            )
    return run
