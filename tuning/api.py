"""JSON API of sweeps (mounted under /api/; session or ``Authorization: Bearer <token>``).

* ``GET /api/runs/`` — newest first, ``?page_size=`` (1..100, default 20), filters
  ``?function=`` (name, or the name/ARN as given) and ``?status=``; answers
  ``{"count", "next", "previous", "results": [run, ...]}``. ``next``/``previous`` are cursor
  links (``?before=`` / ``?after=``, tuning.history): any depth costs the same and a link
  keeps its runs while new ones are added. ``?page=`` (from 1) still works, by offset.
* ``POST /api/runs/`` — start a sweep (permission ``tuning.add_tuningrun``; an auto-apply
  target also needs ``tuning.change_tuningrun``). JSON body with the fields of
  ``tuning.params.SweepParams`` (``account`` by name). 201 with the run; 400 with
  ``{"error", "fields": {name: message}}``; 409 when the function already has an active sweep;
  413 with ``{"error", "limit"}`` when the body is over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes.
  ``{"powertuning_input": {...}}`` starts from a Power Tuning state machine input (the body's
  other fields override its values); the 201 answer then lists ``powertuning_notes``.
  Limits of the fields (payload size and nesting, …) are declared in ``tuning.params``.
* ``GET /api/runs/<uuid>/`` — one run (``tuning.serializers.run_to_dict``); 404 JSON.
* ``POST /api/runs/<uuid>/cancel/`` — cancel (the creator or ``tuning.add_tuningrun``);
  202 with the run; 409 when it already finished.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlencode

from django.core.exceptions import RequestDataTooBig
from django.db.models import Prefetch, Q
from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from dashboard.api import api_error, api_view, body_too_big
from tuning import history, powertuning_input
from tuning import runs as commands
from tuning.models import ACTIVE_STATUSES, PowerResult, RunStatus, SweepRefused, TuningRun
from tuning.params import MAX_PAYLOAD_DEPTH, InvalidSweep, SweepParams, check_text, shown
from tuning.serializers import run_to_dict

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def _runs():
    return TuningRun.objects.select_related("account", "created_by", "applied_by").prefetch_related(
        Prefetch("results", queryset=PowerResult.objects.order_by("memory_mb"))
    )


def _get_run(pk):
    try:
        key = uuid.UUID(str(pk))
    except ValueError:
        return None
    return _runs().filter(pk=key).first()


def _positive(value, default: int, name: str, maximum: int | None = None):
    if value in (None, ""):
        return default, None
    try:
        number = int(value)
    except ValueError:
        return None, f"{name} must be a whole number, got {shown(value)}."
    if number < 1 or (maximum is not None and number > maximum):
        limit = f" and at most {maximum}" if maximum else ""
        return None, f"{name} must be at least 1{limit}, got {shown(number)}."
    return number, None


@api_view
@require_http_methods(["GET", "POST"])
def runs(request):
    if request.method == "POST":
        return _start(request)
    page_size, problem = _positive(
        request.GET.get("page_size"), DEFAULT_PAGE_SIZE, "page_size", MAX_PAGE_SIZE
    )
    if problem:
        return api_error(problem, 400)
    page, problem = _positive(request.GET.get("page"), 1, "page")
    if problem:
        return api_error(problem, 400)
    queryset = _runs().order_by(*history.ORDER)
    function = (request.GET.get("function") or "").strip()
    if function:
        try:
            check_text(function, "function")
        except ValueError as invalid:
            return api_error(str(invalid), 400)
        queryset = queryset.filter(Q(function_name=function) | Q(function_arn=function))
    status = (request.GET.get("status") or "").strip().upper()
    if status:
        if status not in RunStatus.values:
            return api_error(
                f"Unknown status {shown(status)}.", 400, allowed=list(RunStatus.values)
            )
        queryset = queryset.filter(status=status)
    count = queryset.count()

    def link(**cursor):
        query = request.GET.copy()
        for key in ("page", "before", "after"):
            query.pop(key, None)
        query.update({"page_size": page_size, **cursor})
        return request.build_absolute_uri(f"{request.path}?{urlencode(sorted(query.items()))}")

    if request.GET.get("page"):  # offset pages, as before cursors
        start = (page - 1) * page_size
        # Past the end nothing is asked: the database refuses an OFFSET beyond its integers.
        rows = list(queryset[start : start + page_size]) if start < count else []
        next_link = link(page=page + 1) if start + page_size < count else None
        previous_link = link(page=page - 1) if page > 1 else None
    else:
        try:
            keyset = history.page(
                queryset,
                page_size,
                before=request.GET.get("before"),
                after=request.GET.get("after"),
            )
        except history.BadCursor as error:
            return api_error(f"{error}.", 400)
        rows = keyset.rows
        next_link = link(before=keyset.older) if keyset.older else None
        previous_link = link(after=keyset.newer) if keyset.newer else None
    return JsonResponse(
        {
            "count": count,
            "next": next_link,
            "previous": previous_link,
            "results": [run_to_dict(run) for run in rows],
        }
    )


def _start(request):
    if not commands.can_start(request.user):
        return api_error("You do not have permission to start sweeps.", 403)
    try:
        raw = request.body
    except RequestDataTooBig:
        return body_too_big()
    try:
        # NaN and Infinity parse; SweepParams refuses them naming the field.
        body = json.loads(raw or b"{}")
    except RecursionError:
        return api_error(
            f"The body is nested too deeply: a payload may have at most {MAX_PAYLOAD_DEPTH} "
            "levels of objects and lists.",
            400,
        )
    except ValueError as exc:
        return api_error(f"The body is not JSON: {exc}", 400)
    if not isinstance(body, dict):
        return api_error("The body must be a JSON object.", 400)
    notes = []
    if "powertuning_input" in body:  # its values, overridden by the body's own fields
        try:
            translation = powertuning_input.translate(body.pop("powertuning_input"))
        except powertuning_input.NotAnInput as problem:
            return api_error(str(problem), 400, fields={"powertuning_input": str(problem)})
        body, notes = {**translation.values, **body}, translation.notes
    missing = [name for name in ("function", "memory_sizes") if body.get(name) in (None, "", [])]
    if missing:
        fields = {name: "Required." for name in missing}
        return api_error(f"{missing[0]} is required.", 400, fields=fields)
    if body.get("auto_apply_target") and not commands.can_apply(request.user):
        return api_error("You do not have permission to change a function's memory.", 403)
    try:
        run = commands.start_run(SweepParams.parse(body), created_by=request.user)
    except SweepRefused as refusal:
        return api_error(str(refusal), 409)
    except InvalidSweep as invalid:
        return api_error(str(invalid), 400, fields=invalid.errors)
    answer = run_to_dict(_get_run(run.pk))
    if notes:
        answer["powertuning_notes"] = notes
    response = JsonResponse(answer, status=201)
    response["Location"] = request.build_absolute_uri(
        reverse("tuning_api:run_detail", args=[run.pk])
    )
    return response


@api_view
@require_http_methods(["GET"])
def run_detail(request, pk):
    run = _get_run(pk)
    if run is None:
        return api_error("No such run.", 404)
    return JsonResponse(run_to_dict(run))


@api_view
@require_POST
def run_cancel(request, pk):
    run = _get_run(pk)
    if run is None:
        return api_error("No such run.", 404)
    if not commands.can_control(request.user, run):
        return api_error("You may only cancel your own sweeps.", 403)
    if run.status not in ACTIVE_STATUSES:
        return api_error(f"The run already finished ({run.status}); nothing to cancel.", 409)
    commands.request_cancel(run, request.user)
    return JsonResponse(run_to_dict(_get_run(run.pk)), status=202)
