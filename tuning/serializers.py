"""JSON of runs: exactly what ``GET /api/runs/<uuid>/`` and ``manage.py sweep --wait --json``
return, and what public share pages may show (``private=False``).

``run_to_dict(run)``::

    {
      "id": "uuid", "function": "<name or ARN as given>", "function_name", "qualifier",
      "region", "account": "name" | null, "account_id": "123456789012" | "",
      "status": "PENDING|RUNNING|SUCCEEDED|FAILED|CANCELLED",
      "phase": "queued|publishing|invoking|analysing|cleaning up|done|imported",
      "error_message": "", "cleanup_pending": null | "2 versions, $LATEST memory (why)",
      "events": [{"at": "2026-…", "what": "…"}],
      "stalled": null | "No worker has started this sweep for 75 s. …",
      "memory_changes": [{"memory_mb", "to", "previous_mb", "state": "QUEUED|APPLYING|DONE|
                          FAILED", "message", "requested_at", "by"}],
      "cancel_requested": false,
      "memory_sizes": [128, ...], "invocations_per_size": 10, "parallel": false,
      "concurrency": 1, "strategy": "cost", "balanced_weight": 0.5, "discard_fraction": 0.2,
      "cold_starts_only": false, "sleep_between_ms": 0, "max_error_share": 0.2,
      "dry_run": false,  # one invocation per size, no statistics or recommendation; each
                         # size's status and error_message say whether it passed and why not
      "auto_apply_target": "", "payload": {...}, "weighted_payloads": [...],
      "payload_s3": "" | "s3://bucket/key" (null on share pages),
      "progress": {"done": 12, "total": 50, "percent": 24},
      "recommendation": {"cost": {"memory_mb", "avg_cost_usd" (string), "avg_duration_ms"}
                         | null, "speed": ..., "balanced": ...},
      "best": <recommendation of the run's strategy> | null,
      "original_memory_mb": 128 | null, "architecture": "x86_64",
      "prices": {"source": "AWS Price List" | "offline table", "as_of": "2026-11-01",
                 "label": "prices as of 2026-11-01 (AWS Price List)"} | null,
      "price_unknown": null | "No AWS Lambda price is known for ca-central-1 (x86_64): …",
          # set when the region has no known price: every avg_cost_usd is then null, and
          # the cost and balanced strategies rank GB-seconds per invocation instead
      "applied": {"memory_mb", "to", "at", "by"} | null,
      "created_by": "alice" | null, "imported_from": "",
      "created_at", "started_at", "finished_at", "heartbeat_at": ISO 8601 | null,
      "sweep_cost": null | {"usd": "0.000412" | null (price unknown), "invocations": 60,
                    "unmeasured": 0, "errors": 1, "cold_starts": 3,
                    "processors": {"invocations": 120, "unpriced": 0, "usd": "0.000105"}},
          # what the finished sweep spent in Lambda charges: every invocation it made,
          # request fees, errors, cold starts and ephemeral storage included (tuning.spend);
          # "processors" (runs with pre-/post-processors only): what their calls cost, in
          # "usd" too; "unpriced" of them count their request fee only
      "compare_architectures": false,  # a companion run measures the other architecture
      "copy_of": null | "uuid",  # set on that companion run: the run whose function it copied
      "copy_function": null | "tuneboard-1a2b3c4d-arm64-orders",  # the companion's copy
      "architecture_comparison": null | {"original_run", "copy_run", "runs": [{"id",
          "architecture", "status", "copy"}], "ready": bool, "reason": "",
          "recommendation": {"cost": {"architecture", "memory_mb", "run_id", "avg_cost_usd",
          "avg_duration_ms", "original": <the function's own architecture's pick> | null,
          "cost_change", "duration_change"} | null, "speed": ..., "balanced": ...} | null},
          # one recommendation across both runs (TuningRun.architecture_comparison)
      "results": [<per size, below>]
    }

Per size: ``memory_mb``, ``status`` (PENDING|PUBLISHED|RUNNING|SUCCEEDED|FAILED|CANCELLED),
``avg_duration_ms`` (trimmed mean), ``mean_duration_ms``, ``min_duration_ms``,
``max_duration_ms``, ``p50/p95/p99_duration_ms``, ``stdev_duration_ms``,
``avg_billed_duration_ms``, ``avg_cost_usd`` (string: an exact Decimal, request fee
included; null when the price is unknown), ``avg_gb_seconds`` (string: memory × average
billed duration), ``invocations``, ``errors`` (``allowed_errors`` of them of a type the run
allows: measured like successes), ``cold_starts``, ``max_memory_used_mb``,
``ci95_low_ms``, ``ci95_high_ms``, ``noisy``, ``error_message``, ``version``, ``alias``.
``payload_stats`` (runs with several weighted payloads, else []): per size
``{"memory_mb", "payloads": [{"index", "weight", "invocations", "errors",
"avg_duration_ms", "avg_cost_usd"}]}``, plain means of each payload's successful invocations.
In a ``cold_starts_only`` run every duration figure is Duration + Init Duration (or SnapStart
Restore Duration); costs include a SnapStart restore's Billed Restore Duration and per-GB charge.

``TuningRun.analysis`` (stored once by the finisher, so pages never recompute)::

    {
      "version": 1, "computed_at": ISO 8601,
      "strategy": "cost", "balanced_weight": 0.5, "discard_fraction": 0.2,
      "architecture": "x86_64", "region": "us-east-1",
      "cost_basis": "usd" | "gb_seconds",  # what the cost/balanced strategies ranked
      "price_unknown": null | "why",
      "recommendation": {"cost": {...} | null, "speed": ..., "balanced": ...},  # as above
          # without a price: "avg_cost_usd" null, plus "avg_gb_seconds" (what was ranked)
      "best": <recommendation of the run's strategy> | null,
      "pareto_frontier": [memory_mb, ...],   # sizes no other size beats on cost and time
      "failed_sizes": [memory_mb, ...], "noisy_sizes": [memory_mb, ...],
      "original": {"memory_mb", "avg_cost_usd", "avg_duration_ms",
                   "cost_change", "duration_change"} | null
          # the function's own size when it was measured; *_change = best vs it (-0.3 = 30 %
          # less)
    }

Imported Power Tuning runs hold ``{"imported": {...}}`` instead. A finished sweep's total
cost is stored there too, as ``"sweep_cost"`` (above).

``private=False`` (public share pages) leaves out payloads, the account, who started or
applied the run, and shows of every error text (the run's, each size's, a pending cleanup's, a
memory change's) only its class (``sharing.public_error``: "out of memory", "timeout",
"throttled", "function error", …), as the share page and its CSV do.
"""

from __future__ import annotations

from tuning import price_table
from tuning.analysis import STRATEGIES
from tuning.models import TuningRun, money
from tuning.params import parse_function, run_params_json
from tuning.sharing import public_error


def _iso(value):
    return value.isoformat() if value else None


def result_to_dict(result, *, private: bool = True) -> dict:
    message = result.error_message if private else public_error(result.error_message)
    return {
        "memory_mb": result.memory_mb,
        "status": result.status,
        "avg_duration_ms": result.avg_duration_ms,
        "mean_duration_ms": result.mean_duration_ms,
        "min_duration_ms": result.min_duration_ms,
        "max_duration_ms": result.max_duration_ms,
        "p50_duration_ms": result.p50_duration_ms,
        "p95_duration_ms": result.p95_duration_ms,
        "p99_duration_ms": result.p99_duration_ms,
        "stdev_duration_ms": result.stdev_duration_ms,
        "avg_billed_duration_ms": result.avg_billed_duration_ms,
        "avg_cost_usd": money(result.avg_cost_usd),
        "avg_gb_seconds": money(result.avg_gb_seconds),
        "invocations": result.invocations_done,
        "errors": result.errors,
        "allowed_errors": result.allowed_errors,
        "cold_starts": result.cold_starts,
        "max_memory_used_mb": result.max_memory_used_mb,
        "ci95_low_ms": result.ci95_low_ms,
        "ci95_high_ms": result.ci95_high_ms,
        "noisy": result.noisy,
        "error_message": message,
        "version": result.version,
        "alias": result.alias,
    }


def _recommendation(run) -> dict:
    stored = (run.analysis or {}).get("recommendation") or {}
    return {strategy: stored.get(strategy) for strategy in STRATEGIES}


def _prices(run: TuningRun) -> dict | None:
    """Where the run's costs come from: {"source", "as_of", "label"}; None before prices were
    recorded with runs (and for imported runs)."""
    recorded = price_table.recorded(run)
    if recorded is None:
        return None
    return {"source": recorded.source, "as_of": recorded.as_of, "label": recorded.label}


def run_to_dict(run: TuningRun, *, private: bool = True) -> dict:
    """The exact JSON of ``GET /api/runs/<uuid>/`` (see the module docstring)."""
    results = list(run.results.all()) if run.pk else []
    results.sort(key=lambda r: r.memory_mb)
    recommendation = _recommendation(run)
    original = run.original_config or {}
    applied = None
    if run.applied_memory_mb:
        applied = {
            "memory_mb": run.applied_memory_mb,
            "to": run.applied_to,
            "at": _iso(run.applied_at),
            "by": run.applied_by.get_username() if private and run.applied_by else None,
        }
    changes = [
        {
            "memory_mb": change.memory_mb,
            "to": change.target,
            "previous_mb": change.previous_mb,
            "state": change.state,
            "message": change.message if private else public_error(change.message),
            "requested_at": _iso(change.requested_at),
            "by": change.requested_by.get_username() if private and change.requested_by else None,
        }
        for change in (run.memory_changes.all() if run.pk else [])
    ]
    data = {
        "id": str(run.id),
        **run_params_json(run),
        "function_name": run.function_name,
        "qualifier": run.qualifier,
        "account_id": (run.account.account_id if run.account_id else "")
        or _account_from_arn(original.get("FunctionArn", "")),
        "status": run.status,
        "phase": run.phase,
        "error_message": run.error_message,
        "cleanup_pending": run.cleanup_pending or None,
        "events": run.events,
        "stalled": run.stall_message() or None,
        "memory_changes": changes,
        "cancel_requested": run.cancel_requested,
        "progress": run.progress,
        "recommendation": recommendation,
        "best": recommendation.get(run.strategy),
        "original_memory_mb": original.get("MemorySize"),
        "architecture": run.architecture,
        "prices": _prices(run),
        "price_unknown": run.price_unknown,
        "applied": applied,
        "created_by": run.created_by.get_username() if run.created_by_id else None,
        "imported_from": run.imported_from,
        "created_at": _iso(run.created_at),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "heartbeat_at": _iso(run.heartbeat_at),
        "sweep_cost": run.sweep_cost,
        "copy_of": str(run.copy_of_id) if run.copy_of_id else None,
        "copy_function": run.copy_function or None,
        "architecture_comparison": run.architecture_comparison() if run.pk else None,
        "results": [result_to_dict(r, private=private) for r in results],
        "payload_stats": run.payload_stats(),
    }
    if not private:
        data["function"] = run.function_name + (f":{run.qualifier}" if run.qualifier else "")
        data["account"] = None
        data["account_id"] = ""
        data["payload"] = None
        data["payload_s3"] = None  # bucket and key names are the team's business
        data["weighted_payloads"] = [
            {"weight": item.get("weight")} for item in (run.weighted_payloads or [])
        ]
        data["created_by"] = None
        data["error_message"] = public_error(run.error_message)
        data["cleanup_pending"] = public_error(run.cleanup_pending) or None
        data["auto_apply_target"] = run.auto_apply_target
        for name in ("pre_processor", "post_processor"):  # the name: an ARN has the account id
            data[name] = _without_account(getattr(run, name))
    return data


def _without_account(function: str) -> str:
    """name[:qualifier] of a function name or ARN."""
    if not function:
        return ""
    ref = parse_function(function)
    return ref.name + (f":{ref.qualifier}" if ref.qualifier else "")


def _account_from_arn(arn: str) -> str:
    parts = (arn or "").split(":")
    return parts[4] if len(parts) > 4 and parts[4].isdigit() else ""
