"""Tuning pages: run history, new sweep, run detail (live), compare, share links, exports,
Power Tuning import. Thin views: the run answers its own recommendations and progress
(``tuning.models``), the commands are in ``tuning.runs``, figures in ``tuning.charts``, the
estimate, monthly costs, exports and comparison in their own modules.
"""

from __future__ import annotations

import json
import logging
import uuid
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.defaults import page_not_found

from aws.models import AwsAccount
from dashboard.templatetags.badges import status_class
from dashboard.templatetags.units import format_ms, format_seconds, format_usd
from tuning import (
    aws,
    charts,
    compare,
    costing,
    exports,
    history,
    history_rows,
    monthly,
    powertuning,
    price_table,
    regions,
    run_parts,
    runs,
    sharing,
    spend,
)
from tuning import estimate as estimates
from tuning.aws import AwsError
from tuning.forms import (
    PRESETS,
    ApplyForm,
    PowerTuningImportForm,
    PowerTuningInputForm,
    RunFilterForm,
    ShareLinkForm,
    SweepForm,
    initial_from_run,
)
from tuning.models import (
    ACTIVE_STATUSES,
    PowerResult,
    ResultStatus,
    RunStatus,
    ShareLink,
    Strategy,
    SweepRefused,
    TuningRun,
)
from tuning.params import InvalidSweep, parse_function, parse_memory_sizes

log = logging.getLogger(__name__)

PAGE_SIZE = 25
LATEST_WARNING = (
    "During the publish phase the sweep changes $LATEST's memory to each size in turn (to publish "
    "one version per size), then restores its original configuration. Deploying the function "
    "during that window can publish a test size; the run stops if the code changes."
)
SUMMARY_VERBS = {"cost": "is cheapest", "speed": "is fastest", "balanced": "is the best balance"}


# --------------------------------------------------------------------------- helpers


def _get_run(pk) -> TuningRun:
    return get_object_or_404(TuningRun.objects.select_related("account", "created_by"), pk=pk)


def _runs_with_results():
    return TuningRun.objects.select_related("account", "created_by").prefetch_related(
        Prefetch("results", queryset=PowerResult.objects.order_by("memory_mb"))
    )


def cost_label(result, significant: int = 3) -> str:
    """A size's cost per call for pages: "$0.0000021", "price unknown" or "–"."""
    if result.price_unknown:
        return costing.PRICE_UNKNOWN
    return format_usd(result.avg_cost_usd, significant)


def one_line_summary(run) -> str:
    """For chat unfurls: "tuneboard-cpu: 1024 MB is cheapest, $0.0000021 per call, 123 ms"."""
    best = run.winner()
    if run.dry_run and not run.is_active:
        answered = run.results.filter(status=ResultStatus.SUCCEEDED).count()
        return f"{run.function_name}: dry run, {answered} of {len(run.memory_sizes)} sizes answered"
    if best is None:
        if run.is_active:
            return f"{run.function_name}: sweep {run.get_status_display().lower()}"
        return f"{run.function_name}: no size succeeded ({run.get_status_display().lower()})"
    return (
        f"{run.function_name}: {best.memory_mb} MB {SUMMARY_VERBS[run.strategy]}, "
        f"{cost_label(best, 2)} per call, {format_ms(best.avg_duration_ms)}"
    )


def _balanced_slider(run, results) -> dict:
    """The balanced winner (with its figures) at each slider position, computed when the run
    finished: {"0.05": {"memory_mb", "cost_label", "duration_label"}}."""
    by_size = {r.memory_mb: r for r in results}
    positions = {}
    for weight, memory_mb in run.balanced_winners().items():
        result = by_size.get(memory_mb)
        if result is not None:
            positions[weight] = {
                "memory_mb": memory_mb,
                "cost_label": cost_label(result),
                "duration_label": format_ms(result.avg_duration_ms),
            }
    return positions


def _run_prices_label(run) -> str:
    """Which prices the run's costs use, as its page says it (fixed when the run priced)."""
    recorded = price_table.recorded(run)
    if recorded is not None:
        return f"Costs at the {recorded.label} recorded with the run."
    if run.imported_from:
        return "Costs as the imported run stated them."
    if run.is_active or run.price_unknown:
        return ""  # not priced yet, or "price unknown" says why
    return "Costs computed when the run ran, at the offline table's prices of that time."


def _current_prices(region: str):
    """Today's prices for ``region`` and their label; (None, "") when none is known."""
    prices = price_table.current_or_none(region)
    return prices, (prices.label if prices else "")


def _results_context(run, *, private: bool, share_token: str = "") -> dict:
    results = list(run.results.all())
    for result in results:
        # A share page shows of an error only its class, as its CSV and JSON do.
        result.shown_error = (
            result.error_message if private else sharing.public_error(result.error_message)
        )
    recommendations = run.recommendations()
    best = recommendations[run.strategy]
    has_figures = any(r.avg_duration_ms is not None for r in results)
    if share_token:
        monthly_url = reverse("tuning:shared_monthly", args=[share_token])
    else:
        monthly_url = reverse("tuning:run_monthly", args=[run.id])
    prices_label, price_unknown = _run_prices_label(run), run.price_unknown
    return {
        "results": results,
        "results_table": run_parts.results_table(run, results, best, price_unknown, prices_label),
        "recommendations": [
            {"strategy": strategy, "title": Strategy(strategy).label, "result": result}
            for strategy, result in recommendations.items()
        ],
        "winner": best,
        "has_figures": has_figures,
        "charts": charts.run_figures(
            run, results, best.memory_mb if best else None, private=private
        )
        if has_figures
        else [],
        "balanced_slider": _balanced_slider(run, results),
        "prices_label": prices_label,
        "monthly_url": monthly_url,
        "visualizer_url": powertuning.run_visualizer_url(results) if has_figures else None,
        "private": private,
        "price_unknown": price_unknown,
        "payload_stats": run.payload_stats() if has_figures else [],
    }


# --------------------------------------------------------------------------- run history


@require_GET
def run_list(request):
    filters = RunFilterForm(request.GET or None)
    queryset = history_rows.runs()  # the winner from the stored analysis: no per-size rows
    filtered = filters.filter(queryset) if request.GET else queryset
    cursor_error = ""
    try:
        shown = history.page(
            filtered, PAGE_SIZE, before=request.GET.get("before"), after=request.GET.get("after")
        )
    except history.BadCursor as error:
        cursor_error = str(error)
        shown = history.page(filtered, PAGE_SIZE)
    query = request.GET.copy()
    for key in ("before", "after", "page"):
        query.pop(key, None)
    any_runs = bool(shown.rows) or TuningRun.objects.exists()
    return render(
        request,
        "tuning/run_list.html",
        {
            "filters": filters,
            "rows": history_rows.rendered_rows(shown.rows),
            "page": shown,
            "cursor_error": cursor_error,
            "query": query.urlencode(),
            "filtered": any(value for value in query.values()),
            "any_runs": any_runs,
            # Only the empty history offers to start a sweep: no permission queries otherwise.
            "can_start": not any_runs and runs.can_start(request.user),
        },
    )


# --------------------------------------------------------------------------- new sweep


#: Session key of the new-sweep form values filled from a Power Tuning input.
PREFILLED_SWEEP = "tuning:prefilled_sweep"


def _initial_from_query(request) -> dict:
    prefilled = request.session.pop(PREFILLED_SWEEP, None)
    if prefilled:
        return prefilled
    initial = {}
    source = request.GET.get("from")
    if source:
        try:
            initial = initial_from_run(TuningRun.objects.get(pk=uuid.UUID(source)))
        except (ValueError, TuningRun.DoesNotExist):  # InvalidSweep is a ValueError
            initial = {}
    for key in ("function", "region", "memory_sizes"):
        if request.GET.get(key):
            initial[key] = request.GET[key]
    return initial


@require_http_methods(["GET", "POST"])
def run_new(request):
    user = request.user
    status = 200
    if request.method == "POST":
        form = SweepForm(request.POST, user=user)
        if form.is_valid():
            try:
                run = runs.start_run(form.params, created_by=user)
            except SweepRefused as refusal:
                form.add_error(None, str(refusal))
            except InvalidSweep as invalid:
                for field, message in invalid.errors.items():
                    form.add_error(field if field in form.fields else None, message)
            else:
                messages.success(request, f"Sweep of {run.function_name} started.")
                return redirect("tuning:run_detail", pk=run.id)
        status = 400
    else:
        form = SweepForm(initial=_initial_from_query(request), user=user)
    return _run_new_page(request, form, PowerTuningInputForm(), status)


@require_POST
def run_new_from_powertuning(request):
    """Fill the new-sweep form from a pasted Power Tuning input (nothing starts) and show it."""
    paste = PowerTuningInputForm(request.POST)
    if not paste.is_valid():
        form = SweepForm(initial=_initial_from_query(request), user=request.user)
        return _run_new_page(request, form, paste, 400)
    initial, notes = paste.sweep_initial()
    messages.info(request, "The form below is filled from the Power Tuning input: check it.")
    for note in notes:
        messages.warning(request, note)
    request.session[PREFILLED_SWEEP] = initial  # shown once by the page it redirects to
    return redirect("tuning:run_new")


def _run_new_page(request, form, paste, status: int):
    return render(
        request,
        "tuning/run_new.html",
        {
            "form": form,
            "paste": paste,
            "can_start": form.can_start,
            "can_apply": form.can_apply,
            "start_permission": runs.START_PERMISSION,
            "apply_permission": runs.APPLY_PERMISSION,
            "latest_warning": LATEST_WARNING,
            "presets": [
                {"key": key, "name": label.split(":")[0], "sizes": sizes}
                for key, label, sizes in PRESETS
                if sizes
            ],
        },
        status=status,
    )


def _account_from(request) -> AwsAccount | None:
    """The account picked in the form (``?account=<id>``); None: the workers' own credentials.
    ValueError for an account that does not exist (never another account's functions)."""
    value = request.GET.get("account") or ""
    if not value:
        return None
    try:
        account = AwsAccount.objects.filter(pk=int(value)).first()
    except ValueError:
        account = None
    if account is None:
        raise ValueError(f"There is no account {value[:40]!r}: pick one from the list.")
    return account


def _known_region(region: str) -> str:
    """``region`` when Lambda runs there (the form's list); ValueError otherwise.
    botocore raises on a malformed name before any call, outside the AWS error mapping."""
    if not regions.is_lambda_region(region):
        raise ValueError(regions.invalid_region_message(region))
    return region


def _start_permission_or_403(request):
    """The picker and the estimate read AWS with Tuneboard's credentials: only for users who
    may start a sweep."""
    if not runs.can_start(request.user):
        raise PermissionDenied


@require_GET
def function_list(request):
    """Functions of an account/region for the picker (from ListFunctions)."""
    _start_permission_or_403(request)
    try:
        account = _account_from(request)
        region = _known_region(request.GET.get("region") or settings.TUNEBOARD_DEFAULT_REGION)
    except ValueError as error:
        return JsonResponse({"functions": [], "error": str(error)}, status=400)
    try:
        functions = aws.list_functions(account, region)
    except AwsError as error:
        log.warning("list_functions failed: %s", error)
        return JsonResponse({"functions": [], "error": f"Could not list functions: {error}"})
    query = (request.GET.get("q") or "").lower()
    keys = ("name", "arn", "runtime", "memory_mb", "timeout_s", "architecture")
    rows = [
        {key: f.get(key) for key in keys}
        for f in functions
        if not query or query in (f.get("name") or "").lower()
    ]
    rows.sort(key=lambda f: (f["name"] or "").lower())
    return JsonResponse({"functions": rows})


@require_GET
def estimate(request):
    """What a sweep will cost in AWS charges and how long it will take, before submitting.

    Based on the function's last successful run where there is one, otherwise on its timeout
    (an upper bound)."""
    _start_permission_or_403(request)
    params = request.GET
    try:
        function = parse_function(params.get("function", ""))
    except InvalidSweep:
        return JsonResponse({"ok": False, "message": "Pick a function to see an estimate."})
    try:
        sizes = parse_memory_sizes(params.get("memory_sizes", ""))
    except ValueError:
        return JsonResponse({"ok": False, "message": "Fix the memory sizes to see an estimate."})
    try:
        num = max(1, min(1000, int(params.get("invocations_per_size") or 10)))
        concurrency = max(1, int(params.get("concurrency") or 1))
    except ValueError:
        return JsonResponse({"ok": False, "message": "Fix the numbers to see an estimate."})
    try:
        account = _account_from(request)
        region = _known_region(function.region or params.get("region") or "us-east-1")
    except ValueError as error:
        return JsonResponse({"ok": False, "message": f"{error} No estimate."})
    last = TuningRun.objects.last_succeeded(function.name, region)
    measured = last.measured_durations() if last is not None else {}
    if measured:
        durations = estimates.durations_from_run(measured, sizes)
        architecture, upper_bound = last.architecture, False
        basis = (
            f"from the last run of {function.name} ({last.created_at:%Y-%m-%d}), scaled by CPU "
            "share for untested sizes"
        )
    else:
        try:
            config = aws.cached_function_configuration(account, region, function.text)
        except AwsError as error:
            return JsonResponse(
                {
                    "ok": False,
                    "message": f"No earlier run and the function's configuration could not be "
                    f"read ({error}); no estimate.",
                }
            )
        timeout_s = float(config.get("timeout_s") or 0)
        if not timeout_s:
            return JsonResponse({"ok": False, "message": "No estimate: unknown timeout."})
        durations = estimates.durations_from_timeout(timeout_s, sizes)
        architecture, upper_bound = config.get("architecture") or "x86_64", True
        basis = (
            f"upper bound: every invocation running to the function's timeout ({timeout_s:g} s); "
            "run it once to get a realistic estimate"
        )
    parallel, cold_starts_only = (
        params.get(flag) in ("on", "true", "1") for flag in ("parallel", "cold_starts_only")
    )
    prices, prices_label = _current_prices(region)
    result = estimates.estimate(
        sizes,
        num,
        durations=durations,
        basis=basis,
        upper_bound=upper_bound,
        parallel=parallel,
        concurrency=concurrency,
        cold_starts_only=cold_starts_only,
        architecture=architecture,
        region=region,
        prices=prices,
    )
    duration = format_seconds(result.seconds)
    if result.cost_usd is None:
        cost = costing.PRICE_UNKNOWN
        message = (
            f"{result.invocations:,} invocations taking about {duration} ({basis}); AWS "
            f"charges: price unknown — {costing.unknown_reason(region, architecture, prices)}"
        )
    else:
        cost = format_usd(result.cost_usd, 2)
        message = (
            f"{result.invocations:,} invocations, about {cost} in AWS charges and {duration} "
            f"({basis}; {prices_label})."
        )
    if parallel:
        try:
            unreserved = aws.cached_unreserved_concurrency(account, region)
        except AwsError:
            unreserved = None
        if unreserved is not None:
            message += (
                f" The account has {unreserved:,} unreserved concurrent executions in {region}: "
                "at most that many at once."
            )
    if cold_starts_only:
        cap = settings.TUNEBOARD_MAX_COLD_START_VERSIONS
        message += (
            f" Cold-starts mode publishes {len(sizes) * num:,} versions (at most {cap:,} per run)."
        )
    return JsonResponse(
        {
            "ok": True,
            "invocations": result.invocations,
            "cost_usd": float(result.cost_usd) if result.cost_usd is not None else None,
            "price_unknown": costing.unknown_reason(region, architecture, prices),
            "cost_label": cost,
            "seconds": result.seconds,
            "duration_label": duration,
            "basis": basis,
            "upper_bound": upper_bound,
            "message": message,
            "prices_label": prices_label,
        }
    )


# --------------------------------------------------------------------------- run detail


@require_GET
def run_detail(request, pk):
    # The sizes are read by the progress, the summary, the recommendations and the figures:
    # loaded once.
    run = get_object_or_404(_runs_with_results().with_page_flags(), pk=pk)
    if request.GET.get("fragment") == "results":
        context = {"run": run, **_results_context(run, private=True)}
        return render(request, "tuning/_results.html", context)
    # Most runs have neither: their lists are read only when the run query saw some.
    links = list(run.share_links.select_related("created_by")) if run.has_share_links else []
    for link in links:
        link.live = sharing.is_live(link)
        link.can_revoke = sharing.can_revoke(link, request.user)
    user = request.user
    memory_changes = (
        list(run.memory_changes.select_related("requested_by")) if run.has_memory_changes else []
    )
    comparison = run.architecture_comparison()
    progress = run.progress_detail()
    context = {
        "run": run,
        "progress": progress,
        "progress_html": run_parts.progress(run, progress),
        "summary": one_line_summary(run),
        "share_links": links,
        "share_form": ShareLinkForm() if sharing.can_create(user) else None,
        "share_permission": sharing.CREATE_PERMISSION,
        "can_control": runs.can_control(user, run),
        "can_rerun": runs.can_start(user) and not run.imported_from,
        "can_apply": runs.can_apply(user)
        and run.status == RunStatus.SUCCEEDED
        and not run.imported_from
        and not run.is_architecture_copy,
        "copy_not_applied": runs.COPY_NOT_APPLIED,
        "comparison": comparison,
        "architecture_rows": _architecture_rows(comparison),
        "can_resolve_cleanup": runs.can_apply(user) and bool(run.cleanup_pending),
        "memory_changes": memory_changes,
        "applying": any(change.in_progress for change in memory_changes),
        "start_permission": runs.START_PERMISSION,
        "apply_permission": runs.APPLY_PERMISSION,
        "sweep_cost": spend.sentence(run.sweep_cost, format_usd)
        or powertuning.imported_sweep_cost(run, format_usd),
        "payload_json": json.dumps(run.payload, indent=2),
        "weighted_json": json.dumps(run.weighted_payloads, indent=2)
        if run.weighted_payloads
        else "",
        **_results_context(run, private=True),
    }
    return render(request, "tuning/run_detail.html", context)


def _architecture_rows(comparison) -> list[tuple[str, dict | None]]:
    """(strategy label, pick across both architectures) for the comparison table."""
    picks = (comparison or {}).get("recommendation") or {}
    return [(label, picks.get(value)) for value, label in Strategy.choices]


@require_GET
def run_progress(request, pk):
    """The live page's progress, with the badge class of each status (tuning-detail.js)."""
    progress = get_object_or_404(TuningRun, pk=pk).progress_detail()
    for item in (progress, *progress["sizes"]):
        item["status_class"] = status_class(item["status"])
    return JsonResponse(progress)


def _monthly_response(request, run, *, private: bool = True):
    try:
        traffic, problem = (
            aws.cached_monthly_invocations(run.account, run.region, run.function_name),
            None,
        )
    except AwsError as error:  # CloudWatch unreachable or not allowed: the page says so
        # A share page does not show why: AWS's message can name the account and the role.
        detail = f": {error}" if private else ""
        traffic, problem = None, f"CloudWatch could not be read{detail}"
    best = run.winner()
    prices, prices_label = _current_prices(run.region)
    summary = monthly.monthly_summary(
        list(run.results.all()),
        traffic=traffic,
        problem=problem,
        current_mb=run.original_memory_mb,
        recommended_mb=best.memory_mb if best else None,
        region=run.region,
        architecture=run.architecture,
        ephemeral_storage_mb=run.ephemeral_storage_mb,
        prices=prices,
    )
    chart = charts.monthly_cost(
        summary["rows"],
        invocations=summary["invocations"],
        assumed=summary["assumed"],
        current_mb=run.original_memory_mb,
        recommended_mb=best.memory_mb if best else None,
    )
    context = {**summary, "chart": chart, "recommended": best, "prices_label": prices_label}
    return render(request, "tuning/_monthly.html", context)


@require_GET
def run_monthly(request, pk):
    return _monthly_response(request, _get_run(pk))


@require_POST
def run_cancel(request, pk):
    run = _get_run(pk)
    if not runs.can_control(request.user, run):
        raise PermissionDenied
    if run.status not in ACTIVE_STATUSES:
        messages.error(
            request, f"The run is {run.get_status_display().lower()}; nothing to cancel."
        )
        return redirect("tuning:run_detail", pk=run.id)
    runs.request_cancel(run, request.user)
    messages.success(request, "Cancel requested: the sweep stops and cleans up.")
    return redirect("tuning:run_detail", pk=run.id)


@require_POST
def run_resolve_cleanup(request, pk):
    run = _get_run(pk)
    runs.resolve_cleanup(run, request.user)
    messages.success(request, "Cleanup marked resolved: the function can be swept again.")
    return redirect("tuning:run_detail", pk=run.id)


@require_POST
def run_rerun(request, pk):
    run = _get_run(pk)
    try:
        new_run = runs.rerun(run, request.user)
    except (SweepRefused, InvalidSweep) as refusal:
        messages.error(request, f"Could not re-run: {refusal}")
        return redirect("tuning:run_detail", pk=run.id)
    messages.success(request, "Re-run started with the same parameters.")
    return redirect("tuning:run_detail", pk=new_run.id)


@require_http_methods(["GET", "POST"])
def run_apply(request, pk):
    """Set the recommended (or chosen) size on the function: confirm, then apply; recorded."""
    run = _get_run(pk)
    if not runs.can_apply(request.user):
        raise PermissionDenied
    best = run.winner()
    sizes = [
        r.memory_mb
        for r in run.results.all()
        if r.status != ResultStatus.FAILED and r.avg_duration_ms
    ]
    if run.is_architecture_copy:
        messages.error(request, runs.COPY_NOT_APPLIED)
        return redirect("tuning:run_detail", pk=run.id)
    if run.status != RunStatus.SUCCEEDED or not sizes or run.imported_from:
        messages.error(request, "Only a succeeded run measured by Tuneboard can be applied.")
        return redirect("tuning:run_detail", pk=run.id)
    if request.method == "POST":
        form = ApplyForm(request.POST, sizes=sizes)
        if not form.is_valid():
            for errors in form.errors.values():
                messages.error(request, " ".join(errors))
        else:
            target, memory_mb = form.cleaned_data["target"], form.cleaned_data["memory_mb"]
            try:
                runs.request_apply(run, request.user, target=target, memory_mb=memory_mb)
            except (ValueError, SweepRefused) as error:
                messages.error(request, f"Could not apply {memory_mb} MB to {target}: {error}")
            else:
                messages.success(
                    request,
                    f"Applying {memory_mb} MB to {run.function_name} {target}: a worker is "
                    "making the change; this page shows when it is done.",
                )
                return redirect("tuning:run_detail", pk=run.id)
    return render(
        request,
        "tuning/run_apply.html",
        {
            "run": run,
            "best": best,
            "sizes": sizes,
            "current_mb": run.original_memory_mb,
            "target": run.auto_apply_target or "$LATEST",
        },
    )


# --------------------------------------------------------------------------- exports


@require_GET
def run_export_csv(request, pk):
    return exports.csv_response(_get_run(pk), private=True)


@require_GET
def run_export_json(request, pk):
    return exports.json_response(_get_run(pk), private=True)


# --------------------------------------------------------------------------- share links


@require_POST
def share_create(request, pk):
    run = _get_run(pk)
    if not sharing.can_create(request.user):
        raise PermissionDenied
    form = ShareLinkForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid expiry.")
        return redirect("tuning:run_detail", pk=run.id)
    link, token = sharing.create_link(run, request.user, form.expires_at())
    url = request.build_absolute_uri(reverse("tuning:shared_run", args=[token]))
    messages.success(
        request,
        f"Share link created: {url} — copy it now, it is shown only this once (Tuneboard keeps "
        f"a hash of it; it is listed below as {link.prefix}…).",
    )
    return redirect(reverse("tuning:run_detail", args=[run.id]) + "#share")


@require_POST
def share_revoke(request, pk, link_id):
    link = get_object_or_404(ShareLink.objects.select_related("run"), pk=link_id, run_id=pk)
    if not sharing.can_revoke(link, request.user):
        raise PermissionDenied
    sharing.revoke(link, request.user)
    messages.success(request, "Share link revoked: it now answers 404.")
    return redirect(reverse("tuning:run_detail", args=[pk]) + "#share")


def _share_view(view):
    """A public share URL: ``view(request, link, token)`` for a live link, else 404. Every
    answer, the 404 included, is ``no-store``: a shared cache must not keep serving a link
    after it was revoked or expired."""

    @wraps(view)
    def wrapper(request, token):
        link = sharing.resolve(token)
        if link is None:
            response = page_not_found(
                request, Http404("This share link does not exist, was revoked or has expired.")
            )
        else:
            response = view(request, link, token)
        response["X-Robots-Tag"] = "noindex"
        return response

    return login_not_required(never_cache(require_GET(wrapper)))


@_share_view
def shared_run(request, link, token):
    run = link.run
    context = {
        "run": run,
        "link": link,
        "token": token,
        "summary": one_line_summary(run),
        "progress": run.progress_detail(),
        "page_url": request.build_absolute_uri(),
        **_results_context(run, private=False, share_token=token),
    }
    response = render(request, "tuning/shared_run.html", context)
    response["Referrer-Policy"] = "no-referrer"
    return response


@_share_view
def shared_monthly(request, link, token):
    return _monthly_response(request, link.run, private=False)


@_share_view
def shared_export_csv(request, link, token):
    return exports.csv_response(link.run, private=False)


@_share_view
def shared_export_json(request, link, token):
    return exports.json_response(link.run, private=False)


# --------------------------------------------------------------------------- compare


@require_GET
def run_compare(request):
    ids = compare.ids_from_query(request.GET.getlist("ids"))
    runs_by_id = {run.id: run for run in _runs_with_results().filter(id__in=ids)}
    chosen = [runs_by_id[i] for i in ids if i in runs_by_id]
    context = {"runs": chosen, "missing": len(ids) - len(chosen)}
    if len(chosen) < 2:
        context["recent"] = TuningRun.objects.select_related("created_by")[:30]
        return render(request, "tuning/run_compare.html", context)
    billed = any(run.imported_from for run in chosen)  # Power Tuning's durations are billed
    labelled = [
        (compare.label(run), compare.like_for_like(run, list(run.results.all()), billed=billed))
        for run in chosen
    ]
    baseline_label, baseline_figures = labelled[0]
    context.update(
        {
            "chart": charts.compare(labelled),
            "labels": [label for label, _ in labelled],
            "table": compare.comparison_table(labelled),
            "baseline": chosen[0],
            "others": chosen[1:],
            "facts": [
                {"run": run, "label": label, **compare.run_facts(run)}
                for run, (label, _figures) in zip(chosen, labelled, strict=True)
            ],
            "billed": billed,
            "visualizer_links": [
                {"label": label, "url": url}
                for label, figures in labelled[1:]
                if (
                    url := powertuning.comparison_visualizer_url(
                        baseline_figures, figures, (baseline_label, label)
                    )
                )
            ],
        }
    )
    return render(request, "tuning/run_compare.html", context)


# --------------------------------------------------------------------------- import


@require_http_methods(["GET", "POST"])
def run_import(request):
    can_import = runs.can_start(request.user)
    status = 200
    if request.method == "POST":
        if not can_import:
            raise PermissionDenied
        form = PowerTuningImportForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            with transaction.atomic():  # both runs of a comparison link, or neither
                imported = [
                    powertuning.import_run(
                        source,
                        function=data["function"],
                        region=data["region"],
                        account=data.get("account"),
                        strategy=data["strategy"],
                        user=request.user,
                    )
                    for source in data["source"]
                ]
            if len(imported) == 1:
                run = imported[0]
                messages.success(
                    request, f"Imported {len(run.memory_sizes)} sizes from AWS Lambda Power Tuning."
                )
                return redirect("tuning:run_detail", pk=run.id)
            messages.success(
                request, "Imported both runs of the comparison link from AWS Lambda Power Tuning."
            )
            query = "&".join(f"ids={run.id}" for run in imported)
            return redirect(reverse("tuning:run_compare") + "?" + query)
        status = 400
    else:
        form = PowerTuningImportForm()
    return render(
        request,
        "tuning/run_import.html",
        {"form": form, "can_import": can_import, "start_permission": runs.START_PERMISSION},
        status=status,
    )
