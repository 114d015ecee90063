"""Tuning state: accounts, runs, per-size results and every single invocation.

A run is a database row with a status, a phase and progress counters; Celery tasks only move
it along. Status transitions that several workers may race for are conditional UPDATEs.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class AwsAccount(models.Model):
    """Where sweeps run. No secret is stored: credentials come from the worker's environment,
    optionally through an STS role (with an external id) assumed in the target account."""

    name = models.CharField(max_length=100, unique=True)
    account_id = models.CharField(max_length=12, blank=True, help_text="Filled in from STS.")
    role_arn = models.CharField(
        max_length=2048,
        blank=True,
        help_text="Role to assume for cross-account access; empty = the worker's own credentials.",
    )
    external_id = models.CharField(max_length=1224, blank=True)
    default_region = models.CharField(max_length=32, default="us-east-1")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class RunStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    RUNNING = "RUNNING", "Running"
    SUCCEEDED = "SUCCEEDED", "Succeeded"
    FAILED = "FAILED", "Failed"
    CANCELLED = "CANCELLED", "Cancelled"


ACTIVE_STATUSES = (RunStatus.PENDING, RunStatus.RUNNING)


class Strategy(models.TextChoices):
    COST = "cost", "Lowest cost"
    SPEED = "speed", "Fastest"
    BALANCED = "balanced", "Balanced"


class TuningRun(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # What to tune. function_arn is what the user gave (name or ARN, optionally qualified);
    # function_key identifies the function across qualifiers for the one-active-sweep rule.
    function_arn = models.CharField(max_length=2048)
    function_name = models.CharField(max_length=140, db_index=True)
    qualifier = models.CharField(max_length=128, blank=True)
    region = models.CharField(max_length=32, default="us-east-1")
    function_key = models.CharField(max_length=256, db_index=True)
    account = models.ForeignKey(
        AwsAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="runs"
    )

    # Parameters
    memory_sizes = models.JSONField(help_text="Memory sizes in MB, sorted, unique.")
    invocations_per_size = models.PositiveIntegerField(default=10)
    payload = models.JSONField(default=dict, blank=True)
    weighted_payloads = models.JSONField(
        default=list, blank=True, help_text='[{"payload": {...}, "weight": 3}, ...]'
    )
    parallel = models.BooleanField(default=False)
    concurrency = models.PositiveIntegerField(default=1)
    strategy = models.CharField(max_length=16, choices=Strategy.choices, default=Strategy.COST)
    balanced_weight = models.FloatField(default=0.5)
    discard_fraction = models.FloatField(default=0.2)
    cold_starts_only = models.BooleanField(default=False)
    sleep_between_ms = models.PositiveIntegerField(default=0)
    max_error_share = models.FloatField(
        default=0.2, help_text="A size fails when more than this share of invocations errors."
    )
    auto_apply_target = models.CharField(
        max_length=128, blank=True, help_text='"" = do not apply; "$LATEST" or an alias name.'
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
    original_config = models.JSONField(default=dict, blank=True)
    original_code_sha256 = models.CharField(max_length=64, blank=True)
    analysis = models.JSONField(default=dict, blank=True)
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

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["function_key"],
                condition=Q(status__in=["PENDING", "RUNNING"]),
                name="one_active_sweep_per_function",
            ),
            models.CheckConstraint(
                condition=Q(balanced_weight__gte=0) & Q(balanced_weight__lte=1),
                name="balanced_weight_between_0_and_1",
            ),
        ]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self):
        return f"{self.function_name} ({self.status.lower()}, {self.created_at:%Y-%m-%d %H:%M})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def alias_prefix(self) -> str:
        """Aliases the run creates are named after it, so cleanup can always find them."""
        return f"tb-{self.id.hex[:12]}"

    def alias_name(self, memory_mb: int) -> str:
        return f"{self.alias_prefix}-{memory_mb}"


class ResultStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    PUBLISHED = "PUBLISHED", "Published"
    RUNNING = "RUNNING", "Running"
    SUCCEEDED = "SUCCEEDED", "Succeeded"
    FAILED = "FAILED", "Failed"
    CANCELLED = "CANCELLED", "Cancelled"


class PowerResult(models.Model):
    """One memory size of a run: its published version/alias and its statistics."""

    run = models.ForeignKey(TuningRun, on_delete=models.CASCADE, related_name="results")
    memory_mb = models.PositiveIntegerField()
    status = models.CharField(
        max_length=16, choices=ResultStatus.choices, default=ResultStatus.PENDING
    )
    version = models.CharField(max_length=16, blank=True, help_text="Version the run published.")
    alias = models.CharField(max_length=128, blank=True, help_text="Alias the run created.")
    invocations_done = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
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


class ShareLink(models.Model):
    """A read-only public link to one run; the token is unguessable, revocable, may expire."""

    run = models.ForeignKey(TuningRun, on_delete=models.CASCADE, related_name="share_links")
    token = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"share link {self.token[:6]}… for {self.run_id}"
