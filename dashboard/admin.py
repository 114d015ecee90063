from django.contrib import admin

from dashboard.models import WorkerProbe


@admin.register(WorkerProbe)
class WorkerProbeAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "handled_at", "handled_by")
    readonly_fields = ("id", "created_at", "handled_at", "handled_by")
