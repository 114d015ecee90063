"""Admin: runs, results and invocations read-mostly (state belongs to the
sweep service: change them through the UI/API so cleanup and the one-sweep lock stay right)."""

from django.contrib import admin

from tuning.models import Invocation, PowerResult, ShareLink, TuningRun


class PowerResultInline(admin.TabularInline):
    model = PowerResult
    extra = 0
    can_delete = False
    fields = (
        "memory_mb",
        "status",
        "version",
        "alias",
        "invocations_done",
        "errors",
        "cold_starts",
        "avg_duration_ms",
        "p95_duration_ms",
        "avg_cost_usd",
        "noisy",
        "error_message",
    )
    readonly_fields = fields


@admin.register(TuningRun)
class TuningRunAdmin(admin.ModelAdmin):
    list_display = (
        "function_name",
        "region",
        "account",
        "status",
        "phase",
        "invocations_done",
        "invocations_total",
        "created_by",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "strategy", "region", "parallel", "cold_starts_only")
    search_fields = ("function_name", "function_arn", "id", "error_message")
    date_hierarchy = "created_at"
    inlines = [PowerResultInline]

    readonly_fields = [f.name for f in TuningRun._meta.fields if f.name != "original_config"]
    exclude = ("original_config",)  # what AWS answered: not for the admin to show

    def has_add_permission(self, request):
        return False  # sweeps start through start_run (validation, lock, enqueue)

    def has_delete_permission(self, request, obj=None):
        # An active run, or one whose cleanup is pending, owns versions, aliases and $LATEST's
        # memory in AWS: deleting its row would leave them behind with nobody to clean up.
        if obj is not None and obj.owns_function:
            return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        owners = [run for run in objs if run.owns_function]
        if owners:  # bulk "delete selected": say why instead of "no permission"
            perms_needed = set()
            protected = [
                *protected,
                *(
                    f"{run} is still active: cancel it first"
                    if run.is_active
                    else f"{run} has its cleanup pending ({run.cleanup_pending})"
                    for run in owners
                ),
            ]
        return deleted, model_count, perms_needed, protected


@admin.register(Invocation)
class InvocationAdmin(admin.ModelAdmin):
    list_display = (
        "run",
        "memory_mb",
        "sequence",
        "duration_ms",
        "billed_duration_ms",
        "cold_start",
        "error_type",
    )
    list_filter = ("cold_start", "memory_mb")
    search_fields = ("request_id", "error_type", "run__function_name")
    raw_id_fields = ("run", "result")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = ("prefix", "run", "created_by", "created_at", "expires_at", "revoked_at")
    raw_id_fields = ("run",)
    readonly_fields = ("prefix", "token_hash")

    def has_add_permission(self, request):
        return False  # made on the run page, the only place that can show the token once
