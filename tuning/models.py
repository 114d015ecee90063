"""Tuning state: runs, per-size results and every single invocation.

A run is a database row with a status, a phase and progress counters; Celery tasks only move
it along. Status transitions that several workers may race for are conditional UPDATEs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.timesince import timesince

from aws.retry import Backoff
from tuning import analysis, costing, price_table, pricing, spend
from tuning.search import SEARCH_TEXT


class RunStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    RUNNING = "RUNNING", "Running"
    SUCCEEDED = "SUCCEEDED", "Succeeded"
    FAILED = "FAILED", "Failed"
    CANCELLED = "CANCELLED", "Cancelled"


ACTIVE_STATUSES = (RunStatus.PENDING, RunStatus.RUNNING)
FINISHED_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)


class Phase:
    """What a run is doing (``TuningRun.phase``), finer than its status.

    PENDING: queued. RUNNING: publishing (aliases being created; executors of published sizes
    already invoke) → invoking (every size published, $LATEST restored) → analysing (one
    finisher claimed the run) → cleaning up (aliases/versions deleted, $LATEST checked). Then
    done with a final status. Each step is a conditional UPDATE: exactly one process wins it.
    """

    QUEUED = "queued"
    PUBLISHING = "publishing"
    INVOKING = "invoking"
    ANALYSING = "analysing"
    CLEANUP = "cleaning up"
    DONE = "done"


class Strategy(models.TextChoices):
    COST = "cost", "Lowest cost"
    SPEED = "speed", "Fastest"
    BALANCED = "balanced", "Balanced"


class SweepRefused(Exception):
    """The function already has an active sweep; str() is for users."""

    @classmethod
    def for_function(cls, function_key: str, name: str) -> SweepRefused:
        active = TuningRun.objects.active_on(function_key).select_related("created_by").first()
        if active is None:
            return cls(f"{name} already has an active sweep; try again in a moment.")
        if not active.is_active:
            return cls(
                f"{name}: the cleanup of an earlier sweep ({active.pk}) is not complete "
                f"({active.cleanup_pending}). Tuneboard retries it; once it is done, or marked "
                "resolved on that run's page, the function can be swept again."
            )
        who = f" by {active.created_by.get_username()}" if active.created_by else ""
        since = active.started_at or active.created_at
        return cls(
            f"{name} already has an active sweep (started {timesince(since)} ago{who}); "
            "wait for it to finish or cancel it."
        )


#: Runs that own their function (the one-owner constraint covers exactly these).
OWNS_FUNCTION = Q(status__in=ACTIVE_STATUSES) | ~Q(cleanup_pending="") | Q(applying=True)

#: How long the reaper waits before retrying a cleanup that failed: 1 min, doubling, at most 1 h.
CLEANUP_BACKOFF = Backoff(base_s=60, cap_s=3600)


#: At most this many matching users or accounts widen a search (they are small tables).
SEARCH_PEOPLE_LIMIT = 200


def _named(pairs, text: str) -> list:
    """The pks of the (pk, name) pairs whose name contains ``text``, in any case."""
    text = text.upper()
    return [pk for pk, name in pairs if text in name.upper()][:SEARCH_PEOPLE_LIMIT]


class TuningRunQuerySet(models.QuerySet):
    def search(self, text: str, users, accounts):
        """Runs whose function name, ARN, region or error message contains ``text`` (any case),
        that a user or account whose name contains it created, or whose id it is.

        ``users`` and ``accounts`` are the (pk, name) pairs of those that may have created runs
        (the history's filter form has them loaded already), matched here without a query: the
        runs table is read through its indexes only (one trigram index for the text, the
        foreign-key indexes for the rest).
        """
        text = text.strip()
        condition = (
            Q(search_text__icontains=text)
            | Q(created_by_id__in=_named(users, text))
            | Q(account_id__in=_named(accounts, text))
        )
        try:
            condition |= Q(id=uuid.UUID(text))
        except ValueError:
            pass
        return self.alias(search_text=SEARCH_TEXT).filter(condition)

    def with_page_flags(self):
        """Whether each run has share links and memory changes (``has_share_links``,
        ``has_memory_changes``): its page reads their lists only when it has some. Written out:
        the ORM took longer to build these two EXISTS (0.9 ms) than PostgreSQL to answer."""
        runs = self.model._meta.db_table
        flags = {}
        for flag, model in (("has_share_links", ShareLink), ("has_memory_changes", MemoryChange)):
            table = model._meta.db_table
            # table names only: no input reaches this SQL
            sql = f'EXISTS (SELECT 1 FROM "{table}" WHERE "{table}"."run_id" = "{runs}"."id")'  # noqa: S608, E501
            flags[flag] = RawSQL(sql, (), output_field=models.BooleanField())  # noqa: S611
        return self.annotate(**flags)

    def active_on(self, function_key: str):
        """The run (at most one) that owns a function: active, or with its cleanup pending."""
        return self.filter(OWNS_FUNCTION, function_key=function_key)

    def owner_named(self, account, region: str, name: str):
        """The run that owns the function named so (same account row and region), if any."""
        return self.filter(
            OWNS_FUNCTION, account=account, region=region, function_name=name
        ).first()

    def expired(self, days: int, now: dt.datetime | None = None):
        """Runs created more than ``days`` ago (none when ``days`` is 0: kept for ever), except
        those that still own their function: deleting one would free the one-owner lock while
        it may still change the function. Deleting a run deletes all that hangs off it."""
        if not days:
            return self.none()
        cutoff = (now or timezone.now()) - dt.timedelta(days=days)
        return self.filter(created_at__lt=cutoff).exclude(OWNS_FUNCTION)

    def last_succeeded(self, function_name: str, region: str):
        """The newest succeeded run of a function (None when there is none); a companion run
        measured a copy with another architecture, so it is not one."""
        return (
            self.filter(function_name=function_name, region=region, status=RunStatus.SUCCEEDED)
            .filter(copy_of__isnull=True, copy_function="")
            .order_by("-created_at")
            .first()
        )


class TuningRun(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # What to tune. function_arn is what the user gave (name or ARN, optionally qualified).
    # function_key identifies the function for the one-owner rule: the function's unqualified
    # ARN, resolved by the worker with the run's own credentials before anything runs (until
    # then a provisional "account row:region:name", or the ARN the user gave).
    function_arn = models.CharField(max_length=2048)
    function_name = models.CharField(max_length=140, db_index=True)
    qualifier = models.CharField(max_length=128, blank=True)
    region = models.CharField(max_length=32, default="us-east-1")
    function_key = models.CharField(max_length=256, db_index=True)
    account = models.ForeignKey(
        "aws.AwsAccount", null=True, blank=True, on_delete=models.PROTECT, related_name="runs"
    )

    # Parameters
    memory_sizes = models.JSONField(help_text="Memory sizes in MB, sorted, unique.")
    invocations_per_size = models.PositiveIntegerField(default=10)
    payload = models.JSONField(default=dict, blank=True)
    weighted_payloads = models.JSONField(
        default=list, blank=True, help_text='[{"payload": {...}, "weight": 3}, ...]'
    )
    payload_s3 = models.CharField(
        max_length=1100, blank=True, default="", help_text="s3://bucket/key; only the URI is stored"
    )
    parallel = models.BooleanField(default=False)
    concurrency = models.PositiveIntegerField(default=1)
    strategy = models.CharField(max_length=16, choices=Strategy.choices, default=Strategy.COST)
    balanced_weight = models.FloatField(default=0.5)
    discard_fraction = models.FloatField(default=0.2)
    cold_starts_only = models.BooleanField(default=False)
    dry_run = models.BooleanField(
        default=False, help_text="One invocation per size to check access; nothing measured."
    )
    sleep_between_ms = models.PositiveIntegerField(default=0)
    max_error_share = models.FloatField(
        default=0.2, help_text="A size fails when more than this share of invocations errors."
    )
    allowed_exceptions = models.JSONField(
        default=list,
        blank=True,
        help_text="Error types that do not fail a size (Power Tuning's allowedExceptions).",
    )
    # Power Tuning's pre-/post-processors: invoked around each measured invocation, not measured.
    pre_processor = models.CharField(
        max_length=2048, blank=True, help_text="Function invoked before each invocation."
    )
    post_processor = models.CharField(
        max_length=2048, blank=True, help_text="Function invoked after each invocation."
    )
    auto_apply_target = models.CharField(
        max_length=128, blank=True, help_text='"" = do not apply; "$LATEST" or an alias name.'
    )
    # x86_64 vs arm64 in one run: the run on the user's function asks for it; its companion
    # run sweeps a temporary copy of the function with the other architecture.
    compare_architectures = models.BooleanField(
        default=False, help_text="A companion run measures the other architecture."
    )
    copy_of = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="architecture_copy",
        help_text="Set on a companion run: the run whose function it copied.",
    )
    copy_function = models.CharField(
        max_length=64,
        blank=True,
        help_text="The temporary copy's name, recorded before the copy is created (cleanup "
        "deletes it).",
    )

    # State
    status = models.CharField(
        max_length=16, choices=RunStatus.choices, default=RunStatus.PENDING, db_index=True
    )
    phase = models.CharField(max_length=32, blank=True)
    invocations_total = models.PositiveIntegerField(default=0)
    invocations_done = models.PositiveIntegerField(default=0)
    error_message = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    stop_reason = models.TextField(
        blank=True, help_text="Set by whoever hits a fatal error; the run then fails with it."
    )
    invocations_skipped = models.PositiveIntegerField(
        default=0, help_text="Planned invocations not made (size failed early, cancel)."
    )
    # What the pre-/post-processor calls cost (billed, never measured): added by the
    # executors with each store of invocations (tuning.engine.recording).
    processor_invocations = models.PositiveIntegerField(default=0)
    processor_unpriced = models.PositiveIntegerField(
        default=0, help_text="Processor calls counted at their request fee only."
    )
    processor_cost_usd = models.DecimalField(
        max_digits=20,
        decimal_places=12,
        default=0,
        help_text="What the other processor calls cost, request fees included.",
    )
    # A user's "Apply" of one of the run's sizes is under way: the run owns the function again
    # until it is done (MemoryChange has the details).
    applying = models.BooleanField(default=False)
    # What happened besides the normal course (resumed after lost work, ...): [{"at", "what"}].
    events = models.JSONField(default=list, blank=True)
    resumes = models.PositiveIntegerField(
        default=0, help_text="Times the reaper re-sent lost batches since the last progress."
    )
    resumed_at_done = models.PositiveIntegerField(default=0)
    # Cleanup that did not finish: what is left in AWS ("" = nothing). Until the reaper's
    # retries succeed or a user marks it resolved, the run keeps owning the function.
    cleanup_pending = models.TextField(blank=True)
    cleanup_attempts = models.PositiveIntegerField(default=0)
    cleanup_retry_at = models.DateTimeField(null=True, blank=True)
    original_config = models.JSONField(default=dict, blank=True)
    original_code_sha256 = models.CharField(max_length=64, blank=True)
    analysis = models.JSONField(default=dict, blank=True)
    prices = models.JSONField(
        default=dict,
        blank=True,
        help_text="The Lambda prices the run's costs were computed with (source and date "
        "included), recorded when it first needed them (tuning.price_table).",
    )
    applied_memory_mb = models.PositiveIntegerField(null=True, blank=True)
    applied_to = models.CharField(max_length=128, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    imported_from = models.CharField(
        max_length=32, blank=True, help_text='"" = run by Tuneboard; else e.g. "power-tuning".'
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tuning_runs",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    objects = TuningRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["function_key"],
                condition=Q(status__in=["PENDING", "RUNNING"])
                | ~Q(cleanup_pending="")
                | Q(applying=True),
                name="one_owner_per_function",
            ),
            models.CheckConstraint(
                condition=Q(balanced_weight__gte=0) & Q(balanced_weight__lte=1),
                name="balanced_weight_between_0_and_1",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "heartbeat_at"]),
            # History pages walk this index from any cursor (tuning.history).
            models.Index(fields=["-created_at", "-id"], name="run_history_order"),
        ]

    def __str__(self):
        return f"{self.function_name} ({self.status.lower()}, {self.created_at:%Y-%m-%d %H:%M})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def owns_function(self) -> bool:
        """Active, applying, or its cleanup is pending: it may still change the function."""
        return self.is_active or bool(self.cleanup_pending) or self.applying

    @property
    def resolved_arn(self) -> str:
        """The function's unqualified ARN once the worker has resolved it, else ""."""
        return self.function_key if self.function_key.startswith("arn:") else ""

    @property
    def lambda_function(self) -> str:
        """What every Lambda call of the run names: the resolved ARN (runs from before ARNs
        were resolved: the bare name; a companion run: its copy)."""
        return self.resolved_arn or self.copy_function or self.function_name

    @property
    def is_architecture_copy(self) -> bool:
        """A companion run: it measured a temporary copy of the function, deleted since."""
        return bool(self.copy_of_id or self.copy_function)

    def architecture_partner(self):
        """The other run of an architecture comparison (None when there is none)."""
        if self.copy_of_id:
            return self.copy_of
        if not self.compare_architectures:
            return None  # no query for the runs that compared nothing
        try:
            return self.architecture_copy
        except TuningRun.DoesNotExist:
            return None

    def claim_apply(self) -> None:
        """Own the function again for an apply. SweepRefused when a sweep or another apply
        owns it (the database constraint decides)."""
        try:
            with transaction.atomic():
                won = self._transition(Q(applying=False), applying=True)
        except IntegrityError:
            won = False
        if not won:
            raise SweepRefused(
                f"{self.function_name} is busy: a sweep, a cleanup or another apply is changing "
                "it. Try again when it has finished."
            )

    def release_apply(self) -> None:
        self._transition(Q(applying=True), applying=False)

    def take_ownership(self, arn: str) -> None:
        """Key the run on the function's resolved ARN. SweepRefused when another active run
        owns that function (the database constraint decides, so two workers cannot both win)."""
        try:
            with transaction.atomic():
                TuningRun.objects.filter(pk=self.pk).update(function_key=arn)
        except IntegrityError:
            raise SweepRefused.for_function(arn, self.function_name) from None
        self.function_key = arn

    def record_copy(self, name: str) -> None:
        """Remember the name of the companion run's copy before it is created."""
        TuningRun.objects.filter(pk=self.pk).update(copy_function=name)
        self.copy_function = name

    @property
    def alias_prefix(self) -> str:
        """Aliases the run creates are named after it, so cleanup can always find them."""
        return f"tb-{self.id.hex[:12]}"

    def alias_name(self, memory_mb: int) -> str:
        return f"{self.alias_prefix}-{memory_mb}"

    def cold_alias_name(self, memory_mb: int, sequence: int) -> str:
        """Cold-starts-only mode publishes one version (and alias) per measured invocation."""
        return f"{self.alias_name(memory_mb)}-c{sequence}"

    @property
    def version_marker(self) -> str:
        """Start of the Description of every version the run publishes (cleanup finds them)."""
        return f"tuneboard run {self.id}"

    # ------------------------------------------------------------------ derived values

    @property
    def progress(self) -> dict:
        """Invocations accounted for (made, or skipped because a size failed early or the run
        stopped) out of those planned; 100 % once the run succeeded."""
        total = self.invocations_total
        done = min(total, self.invocations_done + self.invocations_skipped) if total else 0
        percent = round(100 * done / total) if total else 0
        if self.status == RunStatus.SUCCEEDED:
            done, percent = total, 100
        return {"done": done, "total": total, "percent": percent}

    def progress_detail(self) -> dict:
        """``progress`` plus the run's state and each size's progress (the live page)."""
        by_size = {r.memory_mb: r for r in self.results.all()}
        sizes = []
        for size in self.memory_sizes or sorted(by_size):
            result = by_size.get(size)
            status = result.status if result else ResultStatus.PENDING
            done = result.invocations_done if result else 0
            total = self.invocations_per_size or done
            finished = status not in OPEN_RESULT_STATUSES
            percent = 100 if finished else (min(100, round(100 * done / total)) if total else 0)
            sizes.append(
                {
                    "memory_mb": size,
                    "status": status,
                    "status_label": ResultStatus(status).label,
                    "done": done,
                    "total": total,
                    "percent": percent,
                    "error_message": result.error_message if result else "",
                }
            )
        return {
            "id": str(self.id),
            "status": self.status,
            "status_label": self.get_status_display(),
            "phase": self.phase or self.get_status_display().lower(),
            "active": self.is_active,
            **self.progress,
            "sizes": sizes,
            "error_message": self.error_message,
            "cancel_requested": self.cancel_requested,
            "stalled": self.stall_message(),
        }

    #: Seconds without a worker's sign of life after which a run says it may be stalled.
    STALL_SECONDS = 60

    def stall_message(self) -> str:
        """Why an active run is not moving, when no worker has touched it for a minute ("" when
        it is moving, or finished)."""
        now = timezone.now()
        if self.status == RunStatus.PENDING:
            waited = (now - self.created_at).total_seconds()
            if waited > self.STALL_SECONDS:
                return (
                    f"No worker has started this sweep for {waited:.0f} s. Is a Celery worker "
                    "running? `celery -A dashboard worker` consumes every queue Tuneboard uses."
                )
        elif self.status == RunStatus.RUNNING and self.heartbeat_at is not None:
            quiet = (now - self.heartbeat_at).total_seconds()
            if quiet > self.STALL_SECONDS and not self.has_live_lease():
                return (
                    f"No worker has worked on this sweep for {quiet:.0f} s. Its batches may be "
                    "waiting behind other work, or no worker consumes the 'invocations' queue; "
                    "the reaper sends lost work again, and fails the run if nothing moves."
                )
        return ""

    # ------------------------------------------------------------------ analysis
    # Computed once when the run finishes (or is imported) and stored: every page, the API and
    # the CLI read the same answers.

    def store_analysis(self) -> None:
        """Compute and store the run's analysis from its per-size results (shape documented in
        tuning/serializers.py)."""
        self.analysis = {**self._compute_analysis(), **_imported_part(self.analysis)}
        self.save(update_fields=["analysis"])

    def store_sweep_cost(self) -> None:
        """Store with the analysis what the sweep spent in Lambda charges: every invocation it
        made (errors and cold starts included) and, apart, its processors' calls, when the run
        finishes."""
        processors = None
        if self.pre_processor or self.post_processor:
            processors = TuningRun.objects.values_list(
                "processor_invocations", "processor_unpriced", "processor_cost_usd"
            ).get(pk=self.pk)
        rows = list(
            self.invocations.values_list(
                "cost_usd", "billed_duration_ms", "error_type", "cold_start"
            )
        )
        prices = price_table.recorded(self)  # the prices its invocations were priced with
        unknown = costing.unknown_reason(self.region, self.architecture, prices)
        spent = spend.sweep_cost(
            # A call without a REPORT line has no billed duration: its request fee only.
            [cost for cost, billed, _error, _cold in rows if billed is not None],
            None
            if unknown
            else pricing.request_price(self.region, prices, architecture=self.architecture),
            unmeasured=sum(1 for _cost, billed, _error, _cold in rows if billed is None),
            errors=sum(1 for _cost, _billed, error, _cold in rows if error),
            cold_starts=sum(1 for _cost, _billed, _error, cold in rows if cold),
            processors=processors,
        )
        with transaction.atomic():
            row = TuningRun.objects.select_for_update().only("analysis").get(pk=self.pk)
            self.analysis = {**(row.analysis or {}), "sweep_cost": spent}
            TuningRun.objects.filter(pk=self.pk).update(analysis=self.analysis)

    @property
    def sweep_cost(self) -> dict | None:
        """What the finished sweep spent (``tuning.spend.sweep_cost``); None before it finished
        and for imported runs."""
        return (self.analysis or {}).get("sweep_cost")

    def _compute_analysis(self) -> dict:
        results = list(self.results.order_by("memory_mb"))
        measured = [r for r in results if r.avg_duration_ms is not None]
        # Without a price for every measured size, the strategies rank GB-seconds instead of
        # cost: the same order within one region and architecture (tuning.costing says why).
        priced = all(r.avg_cost_usd is not None for r in measured)
        candidates = [
            analysis.Candidate(
                memory_mb=r.memory_mb,
                avg_cost_usd=r.avg_cost_usd if priced else r.avg_gb_seconds,
                avg_duration_ms=r.avg_duration_ms,
                failed=r.status != ResultStatus.SUCCEEDED,
            )
            for r in measured
        ]
        by_size = {r.memory_mb: r for r in results}

        def summary(pick) -> dict | None:
            if pick is None:
                return None
            result = by_size[pick.memory_mb]
            figures = {
                "memory_mb": result.memory_mb,
                "avg_cost_usd": money(result.avg_cost_usd) if priced else None,
                "avg_duration_ms": result.avg_duration_ms,
            }
            if not priced:  # what the pick was ranked by
                figures["avg_gb_seconds"] = money(result.avg_gb_seconds)
            return figures

        recommendation = {
            strategy: summary(analysis.recommend(candidates, strategy, self.balanced_weight))
            for strategy in analysis.STRATEGIES
        }
        best = recommendation.get(self.strategy)
        original_mb = (self.original_config or {}).get("MemorySize")
        baseline = by_size.get(original_mb)
        comparison = None
        if best and baseline is not None and baseline.status == ResultStatus.SUCCEEDED:
            base_cost, base_duration = baseline.avg_cost_usd, baseline.avg_duration_ms
            comparison = {
                "memory_mb": original_mb,
                "avg_cost_usd": money(base_cost),
                "avg_duration_ms": base_duration,
                "cost_change": float((Decimal(best["avg_cost_usd"]) - base_cost) / base_cost)
                if base_cost and priced
                else None,
                "duration_change": (best["avg_duration_ms"] - base_duration) / base_duration
                if base_duration
                else None,
            }
        return {
            "version": 1,
            "computed_at": timezone.now().isoformat(),
            "strategy": self.strategy,
            "balanced_weight": self.balanced_weight,
            "discard_fraction": self.discard_fraction,
            "architecture": self.architecture,
            "region": self.region,
            "cost_basis": "usd" if priced else "gb_seconds",
            "price_unknown": None
            if priced
            else costing.unknown_reason(self.region, self.architecture, price_table.recorded(self))
            or "Some sizes have no cost: the strategies rank GB-seconds per invocation.",
            "recommendation": recommendation,
            "best": best,
            "balanced_by_weight": analysis.balanced_by_weight(candidates),
            "pareto_frontier": [c.memory_mb for c in analysis.pareto_frontier(candidates)],
            "failed_sizes": [r.memory_mb for r in results if r.status == ResultStatus.FAILED],
            "noisy_sizes": [r.memory_mb for r in results if r.noisy],
            "original": comparison,
        }

    def architecture_comparison(self) -> dict | None:
        """One recommendation across both runs of an architecture comparison (None for a run
        without one); both run pages, the API and the CLI show this. Shape::

            {"original_run": id, "copy_run": id,
             "runs": [{"id", "architecture", "status", "copy"}],  # the original first
             "ready": bool, "reason": "" or why there is no recommendation (yet),
             "recommendation": {strategy: None or {"architecture", "memory_mb", "run_id",
                 "avg_cost_usd", "avg_duration_ms",
                 "original": the original architecture's own pick (same keys) or None,
                 "cost_change", "duration_change": best vs that pick, as fractions}}}

        Costs are compared in USD per invocation (each architecture at its own price); when
        a price is unknown, only the speed strategy can compare the architectures."""
        partner = self.architecture_partner()
        if partner is None:
            return None
        original, copy = (partner, self) if self.copy_of_id else (self, partner)
        out = {
            "original_run": str(original.id),
            "copy_run": str(copy.id),
            "runs": [
                {
                    "id": str(run.id),
                    "architecture": run.architecture if run.original_config else None,
                    "status": run.status,
                    "copy": run is copy,
                }
                for run in (original, copy)
            ],
            "ready": False,
            "reason": "",
            "recommendation": None,
        }
        waiting = [run for run in (original, copy) if run.status != RunStatus.SUCCEEDED]
        if waiting:
            out["reason"] = "; ".join(
                f"the {'copy' if run is copy else 'original'}'s run is "
                f"{run.get_status_display().lower()}"
                for run in waiting
            )
            return out
        candidates = [
            _ArchitectureCandidate(
                memory_mb=r.memory_mb,
                avg_cost_usd=r.avg_cost_usd,
                avg_duration_ms=r.avg_duration_ms,
                failed=r.status != ResultStatus.SUCCEEDED,
                architecture=run.architecture,
                run_id=str(run.id),
            )
            for run in (original, copy)
            for r in run.results.order_by("memory_mb")
            if r.avg_duration_ms is not None
        ]
        priced = all(c.avg_cost_usd is not None for c in candidates)
        own = [c for c in candidates if c.run_id == out["original_run"]]
        recommendation = {}
        for strategy in analysis.STRATEGIES:
            if strategy != "speed" and not priced:
                recommendation[strategy] = None
                continue
            best = analysis.recommend(candidates, strategy, self.balanced_weight)
            base = analysis.recommend(own, strategy, self.balanced_weight)
            recommendation[strategy] = _architecture_pick(best, base) if best else None
        out.update(ready=True, recommendation=recommendation)
        if not priced:
            out["reason"] = (
                "A price is unknown, so only the fastest pick can compare the architectures."
            )
        return out

    def payload_stats(self) -> list[dict]:
        """Per memory size, each weighted payload's share of the measurements (Power Tuning
        issue #37): ``[{"memory_mb", "payloads": [{"index", "weight", "invocations",
        "errors", "avg_duration_ms", "avg_cost_usd"}]}]``, so a user sees which payload drives
        a size's figures. Plain means over the payload's successful invocations (durations as
        the run measures them: with Init/Restore Duration in cold-starts-only mode). Empty for
        a run with fewer than two weighted payloads."""
        payloads = self.weighted_payloads or []
        if len(payloads) < 2 or not self.pk:
            return []
        rows = self.invocations.values_list(
            "memory_mb",
            "payload_index",
            "duration_ms",
            "init_duration_ms",
            "restore_duration_ms",
            "cost_usd",
            "error_type",
        )
        groups: dict[tuple[int, int], dict] = {}
        for memory_mb, index, duration, init, restore, cost, error_type in rows:
            group = groups.setdefault(
                (memory_mb, index), {"invocations": 0, "errors": 0, "ms": [], "usd": []}
            )
            group["invocations"] += 1
            if error_type and error_type not in (self.allowed_exceptions or []):
                group["errors"] += 1
                continue
            measured = measured_duration_ms(duration, init, restore, self.cold_starts_only)
            if measured is not None:
                group["ms"].append(measured)
            if cost is not None:
                group["usd"].append(cost)
        stats = []
        for memory_mb in sorted({size for size, _ in groups}):
            entries = []
            for index, spec in enumerate(payloads):
                group = groups.get((memory_mb, index))
                if group is None:
                    continue
                ms, usd = group["ms"], group["usd"]
                entries.append(
                    {
                        "index": index,
                        "weight": spec.get("weight"),
                        "invocations": group["invocations"],
                        "errors": group["errors"],
                        "avg_duration_ms": sum(ms) / len(ms) if ms else None,
                        "avg_cost_usd": money(sum(usd) / len(usd)) if usd else None,
                    }
                )
            stats.append({"memory_mb": memory_mb, "payloads": entries})
        return stats

    def recommendation(self, strategy: str | None = None) -> dict | None:
        """The stored winner of a strategy (default: the run's own): ``{"memory_mb",
        "avg_cost_usd", "avg_duration_ms"}``, or None before analysis / if all sizes failed."""
        recs = (self.analysis or {}).get("recommendation") or {}
        return recs.get(strategy or self.strategy)

    def recommendations(self) -> dict:
        """{strategy: PowerResult or None} for every strategy, from the stored analysis."""
        by_size = {r.memory_mb: r for r in self.results.all()}
        picks = {}
        for strategy in analysis.STRATEGIES:
            rec = self.recommendation(strategy)
            picks[strategy] = by_size.get(rec["memory_mb"]) if rec else None
        return picks

    def winner(self):
        """The PowerResult the run's own strategy recommends (None when there is none)."""
        return self.recommendations()[self.strategy]

    def best(self, strategy: str | None = None):
        """The PowerResult the strategy recommends (None when there is none)."""
        return self.recommendations().get(strategy or self.strategy)

    def balanced_winners(self) -> dict[str, int | None]:
        """{weight as "0.05": memory_mb} for each position of the balanced-weight slider."""
        return (self.analysis or {}).get("balanced_by_weight") or {}

    @property
    def architecture(self) -> str:
        archs = (self.original_config or {}).get("Architectures") or ["x86_64"]
        return archs[0]

    @property
    def price_unknown(self) -> str | None:
        """Why the run shows "price unknown" instead of costs (None when they are known):
        the reason stored by its analysis, or, before that, the region's price lookup."""
        if self.imported_from:
            return None  # Power Tuning's own costs came with the import
        stored = self.analysis or {}
        if "cost_basis" in stored:
            return stored.get("price_unknown")
        prices = price_table.recorded(self) or price_table.current_or_none(self.region)
        return costing.unknown_reason(self.region, self.architecture, prices)

    @property
    def original_memory_mb(self) -> int | None:
        """The function's own memory size when the run started (None when not recorded)."""
        return (self.original_config or {}).get("MemorySize")

    def measured_durations(self) -> dict[int, float]:
        """{memory_mb: average billed (else measured) duration in ms} of the sizes that
        succeeded: what an estimate of the next sweep is based on."""
        return {
            r.memory_mb: r.avg_billed_duration_ms or r.avg_duration_ms
            for r in self.results.all()
            if r.avg_duration_ms is not None and r.status != ResultStatus.FAILED
        }

    @property
    def ephemeral_storage_mb(self) -> int:
        return int((self.original_config or {}).get("EphemeralStorage", {}).get("Size", 512))

    # ------------------------------------------------------------------ transitions
    # Each is one conditional UPDATE; True means this caller won it.

    def _transition(self, condition: Q, **changes) -> bool:
        won = TuningRun.objects.filter(Q(pk=self.pk) & condition).update(**changes) == 1
        if won:
            for name, value in changes.items():
                if not hasattr(value, "resolve_expression"):
                    setattr(self, name, value)
        return won

    def claim_start(self) -> bool:
        """PENDING → RUNNING (publishing)."""
        now = timezone.now()
        return self._transition(
            Q(status=RunStatus.PENDING),
            status=RunStatus.RUNNING,
            phase=Phase.PUBLISHING,
            started_at=now,
            heartbeat_at=now,
        )

    def cancel_pending(self) -> bool:
        """PENDING → CANCELLED (nothing was done in AWS yet)."""
        return self._transition(
            Q(status=RunStatus.PENDING),
            status=RunStatus.CANCELLED,
            phase=Phase.DONE,
            cancel_requested=True,
            finished_at=timezone.now(),
            error_message="Cancelled before a worker started it.",
        )

    def mark_published(self) -> bool:
        """publishing → invoking (every size published and $LATEST restored)."""
        return self._transition(
            Q(status=RunStatus.RUNNING, phase=Phase.PUBLISHING), phase=Phase.INVOKING
        )

    def request_stop(self, reason: str) -> bool:
        """Ask the run to stop and fail with ``reason`` (first reason wins)."""
        return self._transition(
            Q(status=RunStatus.RUNNING, stop_reason="")
            & Q(phase__in=[Phase.PUBLISHING, Phase.INVOKING]),
            stop_reason=reason[:4000],
        )

    def claim_cleanup(self, *, from_phases, reason: str = "") -> bool:
        """A RUNNING run in one of ``from_phases`` → cleaning up."""
        changes = {"phase": Phase.CLEANUP, "heartbeat_at": timezone.now()}
        if reason:
            changes["error_message"] = reason
        return self._transition(Q(status=RunStatus.RUNNING, phase__in=list(from_phases)), **changes)

    def claim_finish(self) -> bool:
        """invoking → analysing when no size is still open and nobody asked to stop."""
        open_results = PowerResult.objects.filter(
            run=models.OuterRef("pk"), status__in=OPEN_RESULT_STATUSES
        )
        return self._transition(
            Q(status=RunStatus.RUNNING, phase=Phase.INVOKING, cancel_requested=False)
            & Q(stop_reason="")
            & ~models.Exists(open_results),
            phase=Phase.ANALYSING,
            heartbeat_at=timezone.now(),
        )

    def note(self, what: str) -> None:
        """Add an event to the run's timeline."""
        with transaction.atomic():
            row = TuningRun.objects.select_for_update().only("events").get(pk=self.pk)
            self.events = [*row.events, {"at": timezone.now().isoformat(), "what": what}]
            TuningRun.objects.filter(pk=self.pk).update(events=self.events)

    @property
    def timeline(self) -> list[tuple[dt.datetime, str]]:
        """The run's events as (when, what)."""
        return [(dt.datetime.fromisoformat(e["at"]), e["what"]) for e in self.events]

    def has_live_lease(self) -> bool:
        """Does one of the run's batches hold a lease that has not run out?"""
        return BatchLease.objects.filter(result__run=self, expires_at__gt=timezone.now()).exists()

    def claim_resume(self, cutoff, attempt: int) -> bool:
        """Reaper: an invoking run with no recent heartbeat → resumed (attempt ``attempt``):
        nothing holds its concurrency slots any more, and it gets a fresh heartbeat."""
        return self._transition(
            Q(status=RunStatus.RUNNING, phase=Phase.INVOKING, heartbeat_at__lt=cutoff),
            heartbeat_at=timezone.now(),
            resumes=attempt,
            resumed_at_done=self.invocations_done,
        )

    def claim_stale(self, cutoff, reason: str) -> bool:
        """Reaper: a RUNNING run whose heartbeat is older than ``cutoff`` → cleaning up."""
        return self._transition(
            Q(status=RunStatus.RUNNING)
            & (Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True)),
            phase=Phase.CLEANUP,
            heartbeat_at=timezone.now(),
            error_message=reason,
        )

    def finish(self, status: str, error_message: str | None = None, left: str = "") -> bool:
        """cleaning up → a final status. The function is released unless cleanup ``left``
        something in AWS: then the run keeps it and the reaper retries."""
        now = timezone.now()
        changes = {"status": status, "phase": Phase.DONE, "finished_at": now}
        if error_message is not None:
            changes["error_message"] = error_message
        if left:
            changes.update(
                cleanup_pending=left,
                cleanup_attempts=1,
                cleanup_retry_at=now + dt.timedelta(seconds=CLEANUP_BACKOFF.delay(0)),
            )
        return self._transition(Q(status=RunStatus.RUNNING, phase=Phase.CLEANUP), **changes)

    def claim_cleanup_retry(self, lease_seconds: float) -> bool:
        """Reaper: take a due pending cleanup for one attempt (its next due time moves past the
        attempt, so no other reaper takes it meanwhile)."""
        now = timezone.now()
        return self._transition(
            ~Q(cleanup_pending="") & Q(cleanup_retry_at__lte=now),
            cleanup_retry_at=now + dt.timedelta(seconds=lease_seconds),
        )

    def record_cleanup_retry(self, left: str) -> None:
        """The outcome of a cleanup retry: what is still ``left`` (retried later with a longer
        wait), or nothing (the function is released, and the run says so)."""
        attempts = self.cleanup_attempts + 1
        if left:
            wait = CLEANUP_BACKOFF.delay(self.cleanup_attempts)
            self._transition(
                ~Q(cleanup_pending=""),
                cleanup_pending=left,
                cleanup_attempts=attempts,
                cleanup_retry_at=timezone.now() + dt.timedelta(seconds=wait),
            )
            return
        self._end_cleanup(f"Cleanup completed on attempt {attempts}.", cleanup_attempts=attempts)

    def resolve_cleanup(self, user) -> bool:
        """A user states the leftovers were dealt with by hand: the function is released and
        the run records who said so, and when."""
        return self._end_cleanup(
            f"Cleanup marked resolved by {user.get_username()} on "
            f"{timezone.now():%Y-%m-%d %H:%M} UTC (was pending: {self.cleanup_pending})."
        )

    def _end_cleanup(self, note: str, **changes) -> bool:
        """No cleanup pending any more (the function is released); ``note`` says why."""
        return self._transition(
            ~Q(cleanup_pending=""),
            cleanup_pending="",
            cleanup_retry_at=None,
            error_message=f"{self.error_message} {note}".strip(),
            **changes,
        )

    def fail_unstarted(self, reason: str) -> bool:
        """PENDING → FAILED: no worker started the run (nothing was done in AWS)."""
        won = self._transition(
            Q(status=RunStatus.PENDING),
            status=RunStatus.FAILED,
            phase=Phase.DONE,
            finished_at=timezone.now(),
            error_message=reason,
        )
        if won:
            self.results.filter(status__in=OPEN_RESULT_STATUSES).update(
                status=ResultStatus.CANCELLED
            )
        return won

    def record_applied(self, memory_mb: int, target: str, user) -> None:
        """Remember that ``memory_mb`` was applied to ``target`` (by ``user``, None = auto)."""
        self._transition(
            Q(),
            applied_memory_mb=memory_mb,
            applied_to=target,
            applied_at=timezone.now(),
            applied_by=user if getattr(user, "pk", None) else None,
        )

    def beat(self) -> None:
        TuningRun.objects.filter(pk=self.pk, status=RunStatus.RUNNING).update(
            heartbeat_at=timezone.now()
        )

    def slots_in_use(self) -> int:
        """Invocation slots held by the lanes of batches whose lease has not run out."""
        held = BatchLease.objects.filter(result__run_id=self.pk, expires_at__gt=timezone.now())
        return held.aggregate(total=models.Sum("slots"))["total"] or 0

    def acquire_slots(self, lease: BatchLease, wanted: int) -> int:
        """Take up to ``wanted`` of the run's `concurrency` invocation slots for the lanes of
        ``lease``'s batch (parallel mode): how many were taken, 0 when none is free. The
        slots belong to the lease, so a killed worker's slots come free when its lease runs
        out (a count on the run stayed taken, and the next batches waited on it for ever)."""
        if self.slots_in_use() >= self.concurrency:
            return 0  # what a waiting batch sees most often: no lock needed
        with transaction.atomic():
            # Takers of the same run, one at a time: each sees what the others took.
            list(TuningRun.objects.select_for_update().filter(pk=self.pk).values_list("pk"))
            take = min(wanted, self.concurrency - self.slots_in_use())
            if take <= 0:
                return 0
            BatchLease.objects.filter(pk=lease.pk, holder=lease.holder).update(
                slots=F("slots") + take
            )
            return take

    def release_slots(self, lease: BatchLease, count: int) -> None:
        BatchLease.objects.filter(pk=lease.pk, holder=lease.holder).update(
            slots=Greatest(F("slots") - count, 0, output_field=models.IntegerField())
        )


@dataclass(frozen=True)
class _ArchitectureCandidate(analysis.Candidate):
    """A size of one of the two runs of an architecture comparison."""

    architecture: str = ""
    run_id: str = ""


def _architecture_pick(best, base) -> dict:
    def figures(pick) -> dict:
        return {
            "architecture": pick.architecture,
            "memory_mb": pick.memory_mb,
            "run_id": pick.run_id,
            "avg_cost_usd": money(pick.avg_cost_usd),
            "avg_duration_ms": pick.avg_duration_ms,
        }

    out = {**figures(best), "original": figures(base) if base else None}
    cost_change = duration_change = None
    if base is not None:
        if base.avg_cost_usd and best.avg_cost_usd is not None:
            cost_change = float((best.avg_cost_usd - base.avg_cost_usd) / base.avg_cost_usd)
        if base.avg_duration_ms:
            duration_change = (best.avg_duration_ms - base.avg_duration_ms) / base.avg_duration_ms
    out.update(cost_change=cost_change, duration_change=duration_change)
    return out


def money(value) -> str | None:
    """A Decimal as a plain (never exponent) string: "0.000000833334"."""
    return format(value, "f") if value is not None else None


def _imported_part(stored: dict | None) -> dict:
    """What a re-computed analysis keeps: an imported run's source, a sweep's total cost."""
    stored = stored or {}
    return {key: stored[key] for key in ("imported", "sweep_cost") if stored.get(key)}


class MemoryChange(models.Model):
    """One apply of a run's size to $LATEST or an alias: who asked, when, from and to what,
    and how it went (a worker does it; the run owns the function meanwhile)."""

    class State(models.TextChoices):
        QUEUED = "QUEUED", "Queued"
        APPLYING = "APPLYING", "Applying"
        DONE = "DONE", "Done"
        FAILED = "FAILED", "Failed"

    run = models.ForeignKey(TuningRun, on_delete=models.CASCADE, related_name="memory_changes")
    target = models.CharField(max_length=128)
    memory_mb = models.PositiveIntegerField()
    previous_mb = models.PositiveIntegerField(
        null=True, blank=True, help_text="The target's memory before, read after any update."
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    message = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self):
        return f"{self.memory_mb} MB to {self.target} ({self.state.lower()})"

    @property
    def in_progress(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.APPLYING)

    def close(self, state: str, message: str = "") -> None:
        self.state, self.message, self.finished_at = state, message, timezone.now()
        self.save(update_fields=["state", "message", "finished_at", "previous_mb"])


class ResultStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    PUBLISHED = "PUBLISHED", "Published"
    RUNNING = "RUNNING", "Running"
    SUCCEEDED = "SUCCEEDED", "Succeeded"
    FAILED = "FAILED", "Failed"
    CANCELLED = "CANCELLED", "Cancelled"


OPEN_RESULT_STATUSES = (ResultStatus.PENDING, ResultStatus.PUBLISHED, ResultStatus.RUNNING)


class PowerResult(models.Model):
    """One memory size of a run: its published version/alias and its statistics."""

    run = models.ForeignKey(TuningRun, on_delete=models.CASCADE, related_name="results")
    memory_mb = models.PositiveIntegerField()
    status = models.CharField(
        max_length=16, choices=ResultStatus.choices, default=ResultStatus.PENDING
    )
    version = models.CharField(max_length=16, blank=True, help_text="Version the run published.")
    alias = models.CharField(max_length=128, blank=True, help_text="Alias the run created.")
    version_created = models.BooleanField(
        default=False, help_text="False when Lambda returned an existing version (kept)."
    )
    batches_total = models.PositiveIntegerField(default=0)
    batches_done = models.JSONField(default=list, blank=True, help_text="Finished batch numbers.")
    invocations_done = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    allowed_errors = models.PositiveIntegerField(
        default=0, help_text="Errors of an allowed type: measured, and not held against the size."
    )
    cold_starts = models.PositiveIntegerField(default=0)
    error_message = models.TextField(blank=True)

    # Statistics (ms) over the measured invocations, stored so pages never recompute them.
    avg_duration_ms = models.FloatField(null=True, blank=True, help_text="Trimmed mean.")
    mean_duration_ms = models.FloatField(null=True, blank=True)
    min_duration_ms = models.FloatField(null=True, blank=True)
    max_duration_ms = models.FloatField(null=True, blank=True)
    p50_duration_ms = models.FloatField(null=True, blank=True)
    p95_duration_ms = models.FloatField(null=True, blank=True)
    p99_duration_ms = models.FloatField(null=True, blank=True)
    stdev_duration_ms = models.FloatField(null=True, blank=True)
    ci95_low_ms = models.FloatField(null=True, blank=True)
    ci95_high_ms = models.FloatField(null=True, blank=True)
    noisy = models.BooleanField(default=False)
    avg_billed_duration_ms = models.FloatField(null=True, blank=True)
    avg_cost_usd = models.DecimalField(max_digits=20, decimal_places=12, null=True, blank=True)
    max_memory_used_mb = models.PositiveIntegerField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "memory_mb"]
        constraints = [
            models.UniqueConstraint(fields=["run", "memory_mb"], name="one_result_per_size")
        ]

    def __str__(self):
        return f"{self.memory_mb} MB of {self.run_id}"

    @property
    def failed(self) -> bool:
        return self.status == ResultStatus.FAILED

    @property
    def avg_gb_seconds(self) -> Decimal | None:
        """GB-seconds of an average invocation (memory × average billed duration): what the
        cost strategy ranks by when no price is known (see tuning.costing)."""
        billed = self.avg_billed_duration_ms
        if billed is None:
            billed = self.avg_duration_ms
        return costing.gb_seconds(self.memory_mb, billed) if billed is not None else None

    @property
    def price_unknown(self) -> bool:
        """Measured, but without a cost: the region has no known price."""
        return self.avg_cost_usd is None and self.avg_duration_ms is not None

    def mark_failing(self, reason: str) -> bool:
        """Remember why this size fails (first reason wins); its batches stop early and the
        last one marks it FAILED."""
        return (
            PowerResult.objects.filter(pk=self.pk, error_message="").update(
                error_message=reason[:4000]
            )
            == 1
        )

    def complete_batch(self, batch: int) -> bool:
        """Record batch ``batch`` as finished; True for exactly one caller: the one that
        completes the last batch (redelivered batches count once)."""
        with transaction.atomic():
            row = PowerResult.objects.select_for_update().get(pk=self.pk)
            if batch in row.batches_done:
                return False
            row.batches_done = sorted([*row.batches_done, batch])
            row.save(update_fields=["batches_done"])
            self.batches_done = row.batches_done
            return len(row.batches_done) >= row.batches_total


class BatchLease(models.Model):
    """Which execution of an executor batch may invoke its sequences. A redelivered or
    duplicated batch task finds the lease held and comes back later, so no sequence is ever
    invoked twice at once; a holder that died stops renewing, and its lease runs out."""

    result = models.ForeignKey(PowerResult, on_delete=models.CASCADE, related_name="leases")
    batch = models.PositiveIntegerField()
    holder = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    slots = models.PositiveIntegerField(
        default=0, help_text="The run's concurrency slots its lanes hold (parallel mode)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["result", "batch"], name="one_lease_per_batch")
        ]

    def __str__(self):
        return (
            f"batch {self.batch} of result {self.result_id}: {self.holder} until {self.expires_at}"
        )

    @classmethod
    def acquire(cls, result, batch: int, holder: str, seconds: float) -> float:
        """Take (or take over an expired) lease: 0 when ``holder`` has it, else the seconds
        until the current holder's lease runs out."""
        now = timezone.now()
        until = now + dt.timedelta(seconds=seconds)
        with transaction.atomic():
            lease, created = cls.objects.select_for_update().get_or_create(
                result=result, batch=batch, defaults={"holder": holder, "expires_at": until}
            )
            if created or lease.holder == holder or lease.expires_at <= now:
                if lease.holder != holder:
                    lease.slots = 0  # a dead holder's slots are nobody's any more
                lease.holder, lease.expires_at = holder, until
                lease.save(update_fields=["holder", "expires_at", "slots"])
                return 0.0
            return (lease.expires_at - now).total_seconds()

    @classmethod
    def renew(cls, result, batch: int, holder: str, seconds: float) -> None:
        until = timezone.now() + dt.timedelta(seconds=seconds)
        cls.objects.filter(result=result, batch=batch, holder=holder).update(expires_at=until)

    @classmethod
    def release(cls, result, batch: int, holder: str) -> None:
        cls.objects.filter(result=result, batch=batch, holder=holder).delete()


class Invocation(models.Model):
    """Every single measured invocation, as parsed from its REPORT line."""

    result = models.ForeignKey(PowerResult, on_delete=models.CASCADE, related_name="invocations")
    run = models.ForeignKey(TuningRun, on_delete=models.CASCADE, related_name="invocations")
    memory_mb = models.PositiveIntegerField()
    sequence = models.PositiveIntegerField()
    payload_index = models.PositiveIntegerField(default=0)
    request_id = models.CharField(max_length=64, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    billed_duration_ms = models.FloatField(null=True, blank=True)
    init_duration_ms = models.FloatField(null=True, blank=True)
    # SnapStart: a new execution environment restored from the version's snapshot (a cold
    # start that reports these instead of Init Duration).
    restore_duration_ms = models.FloatField(null=True, blank=True)
    billed_restore_duration_ms = models.FloatField(null=True, blank=True)
    max_memory_used_mb = models.PositiveIntegerField(null=True, blank=True)
    cold_start = models.BooleanField(default=False)
    cost_usd = models.DecimalField(max_digits=20, decimal_places=12, null=True, blank=True)
    error_type = models.CharField(max_length=200, blank=True)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["result", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["result", "sequence"], name="one_row_per_invocation")
        ]

    def __str__(self):
        return f"#{self.sequence} at {self.memory_mb} MB"

    def measured_ms(self, with_start: bool) -> float | None:
        """The duration the statistics use: the handler's, plus (``with_start``, i.e. in
        cold-starts-only mode) the Init or Restore Duration, as Lambda's own cold start
        latency and AWS Lambda Power Tuning count it."""
        return measured_duration_ms(
            self.duration_ms, self.init_duration_ms, self.restore_duration_ms, with_start
        )


def measured_duration_ms(duration, init, restore, with_start: bool) -> float | None:
    """Duration + Init Duration + Restore Duration when ``with_start``, else the duration."""
    if duration is None or not with_start:
        return duration
    return duration + (init or 0.0) + (restore or 0.0)


class RunFigures(models.Model):
    """A finished run's page figures (HTML fragments), built once: a viewer never waits for
    plotly. Kept apart from the run row, which workers read again and again."""

    run = models.ForeignKey(TuningRun, on_delete=models.CASCADE, related_name="figures")
    key = models.CharField(max_length=32, help_text="The results, winner and audience drawn.")
    html = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "key"], name="one_figure_set_per_key")
        ]

    def __str__(self):
        return f"figures of run {self.run_id} ({self.key})"


class ShareLink(models.Model):
    """A read-only public link to one run; the token is unguessable, revocable, expires.

    Only a SHA-256 of the token is stored (like ``dashboard.models.ApiToken``): whoever reads
    the database or a backup cannot open the links. The full URL is shown once, at creation.
    """

    run = models.ForeignKey(TuningRun, on_delete=models.CASCADE, related_name="share_links")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=8, editable=False, help_text="First characters, to tell links apart."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Null only on links made before expiry was required: they work until revoked.
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"share link {self.prefix}… for {self.run_id}"

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()
