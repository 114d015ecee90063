"""Tuning pages: run history, new sweep, run detail (live), compare, share links, exports,
Power Tuning import. Thin views; figures come from ``tuning.charts``, share logic from
``tuning.sharing``, the engine from ``tuning.sweep`` / ``tuning.aws``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import math
import uuid
from decimal import Decimal

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import (
    Http404,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard.middleware import public
from tuning import analysis, charts, pricing, sharing
from tuning.forms import (
    APPLY_PERMISSION,
    START_PERMISSION,
    PowerTuningImportForm,
    RunFilterForm,
    ShareLinkForm,
    SweepForm,
    initial_from_run,
    parse_function,
    parse_memory_sizes,
)
from tuning.models import (
    ACTIVE_STATUSES,
    Invocation,
    PowerResult,
    ResultStatus,
    RunStatus,
    ShareLink,
    TuningRun,
)
from tuning.templatetags.tuning_format import format_ms, format_seconds, format_usd

log = logging.getLogger(__name__)

PAGE_SIZE = 25
FLOWER_CLASS = {
    RunStatus.PENDING: "pending",
    RunStatus.RUNNING: "running",
    RunStatus.SUCCEEDED: "succeeded",
    RunStatus.FAILED: "failed",
    RunStatus.CANCELLED: "cancelled",
}
STRATEGY_TITLES = {"cost": "Lowest cost", "speed": "Fastest", "balanced": "Balanced"}
ASSUMED_MONTHLY_INVOCATIONS = 1_000_000
CHART_CACHE_SECONDS = 24 * 3600
LATEST_WARNING = (
    "During the publish phase the sweep changes $LATEST's memory to each size in turn (to publish "
    "one version per size), then restores its original configuration. Deploying the function "
    "during that window can publish a test size; the run stops if the code changes."
)


# --------------------------------------------------------------------------- presentation


def _candidates(results):
    return [
        analysis.Candidate(
            r.memory_mb,
            r.avg_cost_usd,
            r.avg_duration_ms,
            failed=r.status == ResultStatus.FAILED,
        )
        for r in results
        if r.avg_duration_ms is not None and r.avg_cost_usd is not None
    ]


def recommendations(run, results) -> dict:
    """{strategy: PowerResult or None} for cost, speed and balanced (at the run's weight)."""
    by_size = {r.memory_mb: r for r in results}
    candidates = _candidates(results)
    picks = {
        "cost": analysis.pick_cost(candidates),
        "speed": analysis.pick_speed(candidates),
        "balanced": analysis.pick_balanced(
            candidates, min(max(float(run.balanced_weight), 0.0), 1.0)
        ),
    }
    return {name: by_size[pick.memory_mb] if pick else None for name, pick in picks.items()}


def winner(run, results):
    """The size the run's own strategy recommends (None when no size succeeded)."""
    by_size = {r.memory_mb: r for r in results}
    weight = min(max(float(run.balanced_weight), 0.0), 1.0)
    strategy = run.strategy if run.strategy in STRATEGY_TITLES else "cost"
    pick = analysis.recommend(_candidates(results), strategy, weight)
    return by_size[pick.memory_mb] if pick else None


def one_line_summary(run, results) -> str:
    """For chat unfurls: "tuneboard-cpu: 1024 MB is cheapest, $0.0000021 per call, 123 ms"."""
    best = winner(run, results)
    if best is None:
        if run.is_active:
            return f"{run.function_name}: sweep {run.get_status_display().lower()}"
        return f"{run.function_name}: no size succeeded ({run.get_status_display().lower()})"
    verb = {"cost": "is cheapest", "speed": "is fastest", "balanced": "is the best balance"}[
        run.strategy if run.strategy in STRATEGY_TITLES else "cost"
    ]
    return (
        f"{run.function_name}: {best.memory_mb} MB {verb}, "
        f"{format_usd(best.avg_cost_usd, 2)} per call, {format_ms(best.avg_duration_ms)}"
    )


def _size_payload(results) -> list[dict]:
    """Per-size figures for the page's JavaScript (slider, charts)."""
    return [
        {
            "memory_mb": r.memory_mb,
            "avg_duration_ms": r.avg_duration_ms,
            "avg_cost_usd": float(r.avg_cost_usd) if r.avg_cost_usd is not None else None,
            "cost_label": format_usd(r.avg_cost_usd),
            "duration_label": format_ms(r.avg_duration_ms),
            "failed": r.status == ResultStatus.FAILED,
        }
        for r in results
        if r.avg_duration_ms is not None and r.avg_cost_usd is not None
    ]


def progress_of(run, results) -> dict:
    """Progress of a run, overall and per size."""
    per_size_total = run.invocations_per_size
    by_size = {r.memory_mb: r for r in results}
    sizes = []
    for size in run.memory_sizes or sorted(by_size):
        result = by_size.get(size)
        done = result.invocations_done if result else 0
        status = result.status if result else ResultStatus.PENDING
        total = per_size_total or done
        finished = status in (ResultStatus.SUCCEEDED, ResultStatus.FAILED)
        percent = 100 if finished and run.status == RunStatus.SUCCEEDED else 0
        if total:
            percent = max(percent, min(100, round(100 * done / total)))
        sizes.append(
            {
                "memory_mb": size,
                "status": status,
                "status_label": status.title() if isinstance(status, str) else str(status),
                "status_class": status.lower(),
                "done": done,
                "total": total,
                "percent": percent,
                "error_message": result.error_message if result else "",
            }
        )
    total = run.invocations_total or per_size_total * len(run.memory_sizes or [])
    done = run.invocations_done or sum(s["done"] for s in sizes)
    percent = min(100, round(100 * done / total)) if total else 0
    if run.status == RunStatus.SUCCEEDED:
        percent = 100
    return {
        "id": str(run.id),
        "status": run.status,
        "status_label": run.get_status_display(),
        "status_class": FLOWER_CLASS.get(run.status, "pending"),
        "phase": run.phase or run.get_status_display().lower(),
        "active": run.is_active,
        "done": done,
        "total": total,
        "percent": percent,
        "sizes": sizes,
        "error_message": run.error_message,
        "cancel_requested": run.cancel_requested,
    }


def _architecture(run) -> str:
    config = run.original_config or {}
    archs = config.get("Architectures") or config.get("architectures")
    if isinstance(archs, list) and archs:
        return archs[0]
    return config.get("architecture") or "x86_64"


def _current_memory(run):
    config = run.original_config or {}
    value = config.get("MemorySize") or config.get("memory_mb") or config.get("memory_size")
    try:
        return int(value) if value else None
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- helpers


def _get_run(pk) -> TuningRun:
    return get_object_or_404(TuningRun.objects.select_related("account", "created_by"), pk=pk)


def _results(run) -> list[PowerResult]:
    return list(run.results.all())


def _invocation_points(run) -> list[dict]:
    return list(
        Invocation.objects.filter(run=run)
        .order_by("memory_mb", "sequence")
        .values(
            "memory_mb",
            "sequence",
            "duration_ms",
            "cold_start",
            "init_duration_ms",
            "error_type",
        )
    )


def _can_control(user, run) -> bool:
    return user.has_perm(START_PERMISSION) or (run.created_by_id and run.created_by_id == user.pk)


def _visualizer_url(results) -> str | None:
    from tuning import powertuning

    return powertuning.run_visualizer_url(results)


def _charts_html(run, results, recommended_mb) -> list[str]:
    """The three inline figures; cached while the run's results do not change."""
    state = hashlib.sha256(
        repr(
            [
                (r.memory_mb, r.status, r.invocations_done, r.avg_duration_ms, r.avg_cost_usd)
                for r in results
            ]
            + [run.status, recommended_mb]
        ).encode()
    ).hexdigest()[:16]
    key = f"tb:charts:{run.id}:{state}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    html = [
        chart
        for chart in (
            charts.duration_and_cost(results),
            charts.cost_vs_duration(results, recommended_mb),
            charts.duration_distribution(results, _invocation_points(run)),
        )
        if chart
    ]
    cache.set(key, html, CHART_CACHE_SECONDS)
    return html


def _results_context(run, results, *, private: bool, share: ShareLink | None = None) -> dict:
    recs = recommendations(run, results)
    best = recs.get(run.strategy)
    recommended_mb = best.memory_mb if best else None
    has_figures = any(r.avg_duration_ms is not None for r in results)
    chart_html = _charts_html(run, results, recommended_mb) if has_figures else []
    if share is not None:
        monthly_url = reverse("tuning:shared_monthly", args=[share.token])
    else:
        monthly_url = reverse("tuning:run_monthly", args=[run.id])
    return {
        "results": results,
        "recommendations": [
            {"strategy": name, "title": STRATEGY_TITLES[name], "result": recs[name]}
            for name in ("cost", "speed", "balanced")
        ],
        "winner": best,
        "has_figures": has_figures,
        "charts": chart_html,
        "sizes_json": _size_payload(results),
        "monthly_url": monthly_url,
        "visualizer_url": _visualizer_url(results) if has_figures else None,
        "private": private,
    }


# --------------------------------------------------------------------------- run history


@require_GET
def run_list(request):
    filters = RunFilterForm(request.GET or None)
    queryset = TuningRun.objects.select_related("account", "created_by").order_by("-created_at")
    filtered = filters.filter(queryset) if request.GET else queryset
    paginator = Paginator(filtered, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    runs = list(
        page.object_list.prefetch_related(
            Prefetch("results", queryset=PowerResult.objects.order_by("memory_mb"))
        )
    )
    rows = []
    for run in runs:
        results = list(run.results.all())
        rows.append(
            {
                "run": run,
                "winner": winner(run, results),
                "status_class": FLOWER_CLASS.get(run.status, "pending"),
            }
        )
    query = request.GET.copy()
    query.pop("page", None)
    any_runs = bool(rows) or TuningRun.objects.exists()
    return render(
        request,
        "tuning/run_list.html",
        {
            "filters": filters,
            "rows": rows,
            "page": page,
            "paginator": paginator,
            "query": query.urlencode(),
            "filtered": bool(request.GET.get("q") or any(v for k, v in query.items() if v)),
            "any_runs": any_runs,
            "can_start": request.user.has_perm(START_PERMISSION),
        },
    )


# --------------------------------------------------------------------------- new sweep


@require_http_methods(["GET", "POST"])
def run_new(request):
    user = request.user
    if request.method == "POST":
        form = SweepForm(request.POST, user=user)
        if form.is_valid():
            from tuning import sweep

            try:
                run = sweep.start_run(**form.start_kwargs())
            except sweep.SweepRefused as refusal:
                form.add_error(None, str(refusal))
            except ValueError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Sweep of {run.function_name} started.")
                return redirect("tuning:run_detail", pk=run.id)
        status = 400 if form.errors else 200
    else:
        initial = {}
        source = request.GET.get("from")
        if source:
            try:
                initial = initial_from_run(TuningRun.objects.get(pk=uuid.UUID(source)))
            except (ValueError, TuningRun.DoesNotExist):
                initial = {}
        for key in ("function", "region", "memory_sizes"):
            if request.GET.get(key):
                initial[key] = request.GET[key]
        form = SweepForm(initial=initial, user=user)
        status = 200
    return render(
        request,
        "tuning/run_new.html",
        {
            "form": form,
            "can_start": form.can_start,
            "can_apply": form.can_apply,
            "start_permission": START_PERMISSION,
            "apply_permission": APPLY_PERMISSION,
            "latest_warning": LATEST_WARNING,
            "presets": {key: list(sizes) for key, sizes in _presets()},
        },
        status=status,
    )


def _presets():
    from tuning.forms import PRESETS

    return [(key, sizes) for key, _label, sizes in PRESETS if sizes]


def _account_from(request):
    from tuning.models import AwsAccount

    account_id = request.GET.get("account")
    if not account_id:
        return None
    try:
        return AwsAccount.objects.get(pk=int(account_id))
    except (ValueError, AwsAccount.DoesNotExist):
        return None


@require_GET
def function_list(request):
    """Functions of an account/region for the picker (from ListFunctions)."""
    region = request.GET.get("region") or None
    account = _account_from(request)
    try:
        from tuning import aws

        functions = aws.list_functions(account, region)
    except Exception as error:  # noqa: BLE001 - any AWS problem is shown, not a 500
        log.warning("list_functions failed: %s", error)
        return JsonResponse({"functions": [], "error": f"Could not list functions: {error}"})
    query = (request.GET.get("q") or "").lower()
    rows = [
        {
            "name": f.get("name"),
            "arn": f.get("arn"),
            "runtime": f.get("runtime"),
            "memory_mb": f.get("memory_mb"),
            "timeout_s": f.get("timeout_s"),
            "architecture": f.get("architecture"),
        }
        for f in functions
        if not query or query in (f.get("name") or "").lower()
    ]
    rows.sort(key=lambda f: (f["name"] or "").lower())
    return JsonResponse({"functions": rows})


def _function_config(account, region, function: str):
    key = f"tb:fnconfig:{account.pk if account else '-'}:{region}:{function}"
    config = cache.get(key)
    if config is None:
        from tuning import aws

        config = aws.get_function_configuration(account, region, function)
        cache.set(key, config, 300)
    return config


@require_GET
def estimate(request):
    """What a sweep will cost in AWS charges and how long it will take, before submitting.

    Based on the function's last successful run where there is one (durations per size,
    scaled by CPU share for sizes it did not test), otherwise on its timeout (an upper bound).
    """
    params = request.GET
    try:
        function = parse_function(params.get("function", ""))
    except Exception:  # noqa: BLE001 - ValidationError: nothing to estimate yet
        return JsonResponse({"ok": False, "message": "Pick a function to see an estimate."})
    try:
        sizes = parse_memory_sizes(params.get("memory_sizes", ""))
    except Exception:  # noqa: BLE001
        return JsonResponse({"ok": False, "message": "Fix the memory sizes to see an estimate."})
    try:
        num = max(1, min(1000, int(params.get("invocations_per_size") or 10)))
        concurrency = max(1, int(params.get("concurrency") or 1))
    except ValueError:
        return JsonResponse({"ok": False, "message": "Fix the numbers to see an estimate."})
    parallel = params.get("parallel") in ("on", "true", "1")
    cold_only = params.get("cold_starts_only") in ("on", "true", "1")
    region = function["region"] or params.get("region") or "us-east-1"
    account = _account_from(request)

    basis, durations, architecture, timeout_s = None, {}, "x86_64", None
    last = (
        TuningRun.objects.filter(
            function_name=function["name"], region=region, status=RunStatus.SUCCEEDED
        )
        .order_by("-created_at")
        .first()
    )
    if last is not None:
        measured = {
            r.memory_mb: (r.avg_billed_duration_ms or r.avg_duration_ms)
            for r in last.results.all()
            if r.avg_duration_ms is not None and r.status != ResultStatus.FAILED
        }
        if measured:
            architecture = _architecture(last)
            for size in sizes:
                nearest = min(measured, key=lambda m: abs(math.log(m / size)))
                # CPU share grows with memory up to one vCPU at 1769 MB.
                factor = min(nearest, 1769) / min(size, 1769)
                durations[size] = measured[nearest] * factor
            basis = (
                f"from the last run of {function['name']} "
                f"({last.created_at:%Y-%m-%d}), scaled by CPU share for untested sizes"
            )
    if not durations:
        try:
            config = _function_config(account, region, function["function"])
            timeout_s = float(config.get("timeout_s") or config.get("Timeout") or 0) or None
            architecture = config.get("architecture") or architecture
        except Exception as error:  # noqa: BLE001
            return JsonResponse(
                {
                    "ok": False,
                    "message": f"No earlier run and the function's configuration could not be "
                    f"read ({error}); no estimate.",
                }
            )
        if not timeout_s:
            return JsonResponse({"ok": False, "message": "No estimate: unknown timeout."})
        durations = {size: timeout_s * 1000 for size in sizes}
        basis = (
            f"upper bound: every invocation running to the function's timeout ({timeout_s:g} s); "
            "run it once to get a realistic estimate"
        )
    total_cost = Decimal(0)
    wall_ms = 0.0
    for size in sizes:
        billed = math.ceil(durations[size])
        try:
            per_call = pricing.invocation_cost(size, billed, architecture, region)
        except (pricing.UnknownRegion, ValueError):
            per_call = pricing.invocation_cost(size, billed, "x86_64", "us-east-1")
        total_cost += per_call * num
        batches = math.ceil(num / concurrency) if parallel else num
        wall_ms += batches * durations[size]
    if cold_only:
        wall_ms += num * len(sizes) * 1500  # one publish per cold start
    publish_s = 2.0 * len(sizes)
    seconds = wall_ms / 1000 + publish_s
    return JsonResponse(
        {
            "ok": True,
            "invocations": num * len(sizes),
            "cost_usd": float(total_cost),
            "cost_label": format_usd(total_cost, 2),
            "seconds": seconds,
            "duration_label": format_seconds(seconds),
            "basis": basis,
            "upper_bound": last is None or not durations or timeout_s is not None,
            "message": f"{num * len(sizes):,} invocations, about {format_usd(total_cost, 2)} "
            f"in AWS charges and {format_seconds(seconds)} ({basis}).",
        }
    )


# --------------------------------------------------------------------------- run detail


@require_GET
def run_detail(request, pk):
    run = _get_run(pk)
    results = _results(run)
    if request.GET.get("fragment") == "results":
        context = {"run": run, **_results_context(run, results, private=True)}
        return render(request, "tuning/_results.html", context)
    links = list(run.share_links.select_related("created_by").all())
    for link in links:
        link.live = sharing.is_live(link)
        link.url = request.build_absolute_uri(reverse("tuning:shared_run", args=[link.token]))
        link.can_revoke = sharing.can_revoke(link, request.user)
    user = request.user
    context = {
        "run": run,
        "progress": progress_of(run, results),
        "status_class": FLOWER_CLASS.get(run.status, "pending"),
        "summary": one_line_summary(run, results),
        "share_links": links,
        "share_form": ShareLinkForm(),
        "can_control": _can_control(user, run),
        "can_rerun": user.has_perm(START_PERMISSION) and not run.imported_from,
        "can_apply": user.has_perm(APPLY_PERMISSION)
        and run.status == RunStatus.SUCCEEDED
        and not run.imported_from,
        "start_permission": START_PERMISSION,
        "apply_permission": APPLY_PERMISSION,
        "payload_json": json.dumps(run.payload, indent=2),
        "weighted_json": json.dumps(run.weighted_payloads, indent=2)
        if run.weighted_payloads
        else "",
        **_results_context(run, results, private=True),
    }
    return render(request, "tuning/run_detail.html", context)


@require_GET
def run_progress(request, pk):
    run = get_object_or_404(TuningRun, pk=pk)
    return JsonResponse(progress_of(run, _results(run)))


def _monthly_context(run, results) -> dict:
    recs = recommendations(run, results)
    best = recs.get(run.strategy)
    current = _current_memory(run)
    key = f"tb:monthly:{run.account_id or '-'}:{run.region}:{run.function_name}"
    cached = cache.get(key)
    problem = None
    if cached is None:
        try:
            from tuning import aws

            traffic = aws.monthly_invocations(run.account, run.region, run.function_name)
        except ImportError:
            traffic, problem = None, "The function's traffic is not available on this server"
        except Exception as error:  # noqa: BLE001 - CloudWatch unreachable: explain
            traffic, problem = None, f"CloudWatch could not be read: {error}"
        cache.set(key, {"traffic": traffic, "problem": problem}, 3600 if problem is None else 60)
    else:
        traffic, problem = cached["traffic"], cached["problem"]
    assumed = not traffic
    invocations = traffic or ASSUMED_MONTHLY_INVOCATIONS
    rows = charts.monthly_costs(
        results, invocations=invocations, region=run.region, architecture=_architecture(run)
    )
    costs = dict(rows)
    saving = None
    if best and current in costs and best.memory_mb in costs:
        delta = costs[current] - costs[best.memory_mb]
        share = (delta / costs[current] * 100) if costs[current] else Decimal(0)
        saving = {
            "from_mb": current,
            "to_mb": best.memory_mb,
            "amount": delta,
            "label": format_usd(abs(delta), 3),
            "percent": float(abs(share)),
            "positive": delta > 0,
            "same": current == best.memory_mb,
        }
    if traffic is None and problem is None:
        explanation = (
            "CloudWatch has no AWS/Lambda Invocations datapoints for this function in the last "
            f"30 days, so the chart assumes {ASSUMED_MONTHLY_INVOCATIONS:,} invocations a month."
        )
    elif problem:
        explanation = (
            f"{problem}. The chart assumes {ASSUMED_MONTHLY_INVOCATIONS:,} invocations a month."
        )
    elif traffic == 0:
        explanation = (
            "The function was not invoked in the last 30 days; the chart assumes "
            f"{ASSUMED_MONTHLY_INVOCATIONS:,} invocations a month."
        )
    else:
        explanation = ""
    return {
        "chart": charts.monthly_cost(
            rows,
            invocations=invocations,
            assumed=assumed,
            current_mb=current,
            recommended_mb=best.memory_mb if best else None,
        ),
        "traffic": traffic,
        "assumed": assumed,
        "explanation": explanation,
        "saving": saving,
        "current_mb": current,
        "current_tested": current in costs,
        "recommended": best,
    }


@require_GET
def run_monthly(request, pk):
    run = _get_run(pk)
    return render(request, "tuning/_monthly.html", _monthly_context(run, _results(run)))


@require_POST
def run_cancel(request, pk):
    run = _get_run(pk)
    if not _can_control(request.user, run):
        raise PermissionDenied
    if run.status not in ACTIVE_STATUSES:
        messages.error(
            request, f"The run is {run.get_status_display().lower()}; nothing to cancel."
        )
        return redirect("tuning:run_detail", pk=run.id)
    from tuning import sweep

    sweep.request_cancel(run, request.user)
    messages.success(request, "Cancel requested: the sweep stops and cleans up.")
    return redirect("tuning:run_detail", pk=run.id)


@require_POST
def run_rerun(request, pk):
    run = _get_run(pk)
    if not request.user.has_perm(START_PERMISSION):
        raise PermissionDenied
    from tuning import sweep

    try:
        new_run = sweep.rerun(run, request.user)
    except (sweep.SweepRefused, ValueError) as refusal:
        messages.error(request, f"Could not re-run: {refusal}")
        return redirect("tuning:run_detail", pk=run.id)
    messages.success(request, "Re-run started with the same parameters.")
    return redirect("tuning:run_detail", pk=new_run.id)


@require_http_methods(["GET", "POST"])
def run_apply(request, pk):
    """Set the recommended (or chosen) size on the function: confirm, then apply; recorded."""
    run = _get_run(pk)
    if not request.user.has_perm(APPLY_PERMISSION):
        raise PermissionDenied
    results = _results(run)
    best = winner(run, results)
    usable = [r for r in results if r.status != ResultStatus.FAILED and r.avg_duration_ms]
    if run.status != RunStatus.SUCCEEDED or not usable:
        messages.error(request, "Only a succeeded run with results can be applied.")
        return redirect("tuning:run_detail", pk=run.id)
    sizes = [r.memory_mb for r in usable]
    if request.method == "POST":
        target = (request.POST.get("target") or "$LATEST").strip()
        try:
            memory_mb = int(request.POST.get("memory_mb") or (best.memory_mb if best else 0))
        except ValueError:
            memory_mb = 0
        if memory_mb not in sizes:
            messages.error(request, "Choose one of the sizes that succeeded.")
        elif request.POST.get("confirm") != "yes":
            messages.error(request, "Tick the confirmation box to change the function.")
        else:
            from tuning import sweep

            try:
                sweep.apply_memory(run, request.user, target=target, memory_mb=memory_mb)
            except Exception as error:  # noqa: BLE001 - shown to the user
                messages.error(request, f"Could not apply {memory_mb} MB to {target}: {error}")
            else:
                messages.success(request, f"{run.function_name} {target} now has {memory_mb} MB.")
                return redirect("tuning:run_detail", pk=run.id)
    return render(
        request,
        "tuning/run_apply.html",
        {
            "run": run,
            "best": best,
            "sizes": sizes,
            "current_mb": _current_memory(run),
            "target": run.auto_apply_target or "$LATEST",
        },
    )


# --------------------------------------------------------------------------- exports

CSV_COLUMNS = (
    "run_id",
    "function",
    "region",
    "memory_mb",
    "sequence",
    "payload_index",
    "request_id",
    "duration_ms",
    "billed_duration_ms",
    "init_duration_ms",
    "max_memory_used_mb",
    "cold_start",
    "cost_usd",
    "error_type",
    "error_message",
    "created_at",
)


class _Echo:
    def write(self, value):
        return value


def _csv_response(run) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    rows = (
        Invocation.objects.filter(run=run)
        .order_by("memory_mb", "sequence")
        .values_list(*CSV_COLUMNS[3:])
        .iterator(chunk_size=2000)
    )

    def lines():
        yield writer.writerow(CSV_COLUMNS)
        for row in rows:
            values = list(row)
            values[-1] = values[-1].isoformat() if values[-1] else ""
            yield writer.writerow([str(run.id), run.function_name, run.region, *values])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{run.function_name}-{str(run.id)[:8]}-invocations.csv"'
    )
    return response


def _run_dict(run, *, private: bool) -> dict:
    try:
        from tuning import serializers

        return serializers.run_to_dict(run, private=private)
    except ImportError:
        return _fallback_run_dict(run, private=private)


def _fallback_run_dict(run, *, private: bool) -> dict:
    """Used only until tuning.serializers exists: the same fields as the API documents."""
    results = _results(run)
    recs = recommendations(run, results)
    data = {
        "id": str(run.id),
        "function": run.function_arn if private else run.function_name,
        "function_name": run.function_name,
        "region": run.region,
        "status": run.status,
        "phase": run.phase,
        "memory_sizes": run.memory_sizes,
        "invocations_per_size": run.invocations_per_size,
        "strategy": run.strategy,
        "balanced_weight": run.balanced_weight,
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "error_message": run.error_message,
        "imported_from": run.imported_from,
        "results": [
            {
                "memory_mb": r.memory_mb,
                "status": r.status,
                "avg_duration_ms": r.avg_duration_ms,
                "p95_duration_ms": r.p95_duration_ms,
                "avg_billed_duration_ms": r.avg_billed_duration_ms,
                "avg_cost_usd": str(r.avg_cost_usd) if r.avg_cost_usd is not None else None,
                "invocations": r.invocations_done,
                "errors": r.errors,
            }
            for r in results
        ],
        "recommendation": {name: (pick.memory_mb if pick else None) for name, pick in recs.items()},
    }
    if private:
        data["payload"] = run.payload
        data["weighted_payloads"] = run.weighted_payloads
        data["account"] = run.account.name if run.account else None
    return data


def _json_response(run, *, private: bool) -> HttpResponse:
    response = HttpResponse(
        json.dumps(_run_dict(run, private=private), indent=2, default=str),
        content_type="application/json",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{run.function_name}-{str(run.id)[:8]}.json"'
    )
    return response


@require_GET
def run_export_csv(request, pk):
    return _csv_response(_get_run(pk))


@require_GET
def run_export_json(request, pk):
    return _json_response(_get_run(pk), private=True)


# --------------------------------------------------------------------------- share links


@require_POST
def share_create(request, pk):
    run = _get_run(pk)
    form = ShareLinkForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid expiry.")
        return redirect("tuning:run_detail", pk=run.id)
    link = sharing.create_link(run, request.user, form.expires_at())
    url = request.build_absolute_uri(reverse("tuning:shared_run", args=[link.token]))
    messages.success(request, f"Share link created: {url}")
    return redirect(reverse("tuning:run_detail", args=[run.id]) + "#share")


@require_POST
def share_revoke(request, pk, link_id):
    link = get_object_or_404(ShareLink, pk=link_id, run_id=pk)
    if not sharing.can_revoke(link, request.user):
        raise PermissionDenied
    sharing.revoke(link, request.user)
    messages.success(request, "Share link revoked: it now answers 404.")
    return redirect(reverse("tuning:run_detail", args=[pk]) + "#share")


def _shared_link_or_404(token) -> ShareLink:
    link = sharing.resolve(token)
    if link is None:
        raise Http404("This share link does not exist, was revoked or has expired.")
    return link


@public
@require_GET
def shared_run(request, token):
    link = _shared_link_or_404(token)
    run = link.run
    results = _results(run)
    summary = one_line_summary(run, results)
    context = {
        "run": run,
        "link": link,
        "summary": summary,
        "progress": progress_of(run, results),
        "status_class": FLOWER_CLASS.get(run.status, "pending"),
        "page_url": request.build_absolute_uri(),
        **_results_context(run, results, private=False, share=link),
    }
    response = render(request, "tuning/shared_run.html", context)
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


@public
@require_GET
def shared_monthly(request, token):
    link = _shared_link_or_404(token)
    return render(request, "tuning/_monthly.html", _monthly_context(link.run, _results(link.run)))


@public
@require_GET
def shared_export_csv(request, token):
    return _csv_response(_shared_link_or_404(token).run)


@public
@require_GET
def shared_export_json(request, token):
    return _json_response(_shared_link_or_404(token).run, private=False)


# --------------------------------------------------------------------------- compare


def _ids_from(request) -> list[uuid.UUID]:
    ids = []
    for value in request.GET.getlist("ids"):
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            try:
                ids.append(uuid.UUID(part))
            except ValueError:
                continue
    return list(dict.fromkeys(ids))


def _pct(new, old):
    if new is None or old in (None, 0):
        return None
    return (float(new) - float(old)) / float(old) * 100


@require_GET
def run_compare(request):
    ids = _ids_from(request)
    runs_by_id = {
        run.id: run
        for run in TuningRun.objects.filter(id__in=ids)
        .select_related("account", "created_by")
        .prefetch_related(Prefetch("results", queryset=PowerResult.objects.order_by("memory_mb")))
    }
    runs = [runs_by_id[i] for i in ids if i in runs_by_id]
    context = {"runs": runs, "missing": len(ids) - len(runs)}
    if len(runs) < 2:
        context["recent"] = TuningRun.objects.select_related("created_by").order_by("-created_at")[
            :30
        ]
        return render(request, "tuning/run_compare.html", context)
    labelled = []
    for run in runs:
        label = f"{run.function_name} · {run.created_at:%Y-%m-%d %H:%M} · {str(run.id)[:8]}"
        labelled.append((label, list(run.results.all())))
    baseline_label, baseline_results = labelled[0]
    base = {r.memory_mb: r for r in baseline_results if r.avg_duration_ms is not None}
    sizes = sorted({r.memory_mb for _label, rs in labelled for r in rs})
    table = []
    for size in sizes:
        row = {"memory_mb": size, "baseline": base.get(size), "others": []}
        for _label, rs in labelled[1:]:
            other = next((r for r in rs if r.memory_mb == size), None)
            b = base.get(size)
            duration_pct = _pct(other.avg_duration_ms, b.avg_duration_ms) if other and b else None
            cost_pct = _pct(other.avg_cost_usd, b.avg_cost_usd) if other and b else None
            row["others"].append(
                {"result": other, "duration_pct": duration_pct, "cost_pct": cost_pct}
            )
        table.append(row)
    context.update(
        {
            "chart": charts.compare(labelled),
            "labels": [label for label, _ in labelled],
            "table": table,
            "baseline": runs[0],
            "others": runs[1:],
        }
    )
    return render(request, "tuning/run_compare.html", context)


# --------------------------------------------------------------------------- import


@require_http_methods(["GET", "POST"])
def run_import(request):
    from tuning import powertuning

    can_import = request.user.has_perm(START_PERMISSION)
    if request.method == "POST":
        if not can_import:
            raise PermissionDenied
        form = PowerTuningImportForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            run = powertuning.import_run(
                data["source"],
                function=data["function"],
                region=data["region"],
                account=data.get("account"),
                strategy=data["strategy"],
                user=request.user,
            )
            messages.success(
                request, f"Imported {len(run.memory_sizes)} sizes from AWS Lambda Power Tuning."
            )
            return redirect("tuning:run_detail", pk=run.id)
        status = 400
    else:
        form = PowerTuningImportForm()
        status = 200
    return render(
        request,
        "tuning/run_import.html",
        {"form": form, "can_import": can_import, "start_permission": START_PERMISSION},
        status=status,
    )
