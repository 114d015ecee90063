from django.contrib import admin

from dashboard.models import ApiToken, WorkerProbe


@admin.register(WorkerProbe)
class WorkerProbeAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "handled_at", "handled_by")
    readonly_fields = ("id", "created_at", "handled_at", "handled_by")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at")
    readonly_fields = ("prefix", "created_at", "last_used_at")
    exclude = ("key_hash",)

    def has_add_permission(self, request):
        return (
            False  # tokens are issued with `manage.py create_api_token`, which shows the key once
        )
