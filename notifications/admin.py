from django.contrib import admin

from notifications.models import Notification, TeamNotifications


@admin.register(TeamNotifications)
class TeamNotificationsAdmin(admin.ModelAdmin):
    """The webhook URL is a secret: the admin shows it masked and never as a form value (the
    notifications page is where it is changed)."""

    list_display = ["team", "masked_webhook", "emails", "events", "updated_at"]
    fields = ["team", "masked_webhook", "emails", "events", "updated_by", "updated_at"]
    readonly_fields = fields  # changed on the Notifications page, where they are validated

    def has_add_permission(self, request):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "event", "created_at"]
    readonly_fields = ["key", "event", "title", "text", "url", "created_at"]

    def has_add_permission(self, request):
        return False
