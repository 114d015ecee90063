from django.contrib import admin

from dashboard.models import ApiToken, WorkerProbe


@admin.register(WorkerProbe)
class WorkerProbeAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "handled_at", "handled_by")
    readonly_fields = ("id", "created_at", "handled_at", "handled_by")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "scope", "status", "created_at", "last_used_at")
    list_filter = ("scope",)
    # A token's owner, scope and expiry are fixed when it is issued: moving a token to another
    # user would let whoever holds its key act as that user.
    fields = (
        "name",
        "user",
        "prefix",
        "scope",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    readonly_fields = fields[1:]  # everything but the name
    actions = ["revoke"]

    def has_add_permission(self, request):
        # Tokens are issued on the "API tokens" page or with `manage.py create_api_token`,
        # which show the key once.
        return False

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            token.revoke()
        self.message_user(request, f"Revoked {len(queryset)} token(s).")
