from django.contrib import admin, messages

from aws.errors import AwsError
from aws.models import AwsAccount


@admin.register(AwsAccount)
class AwsAccountAdmin(admin.ModelAdmin):
    list_display = ("name", "account_id", "default_region", "role_arn", "created_at")
    search_fields = ("name", "account_id", "role_arn")
    readonly_fields = ("account_id",)

    def save_model(self, request, obj, form, change):
        # Saving tries the credentials at once, so a wrong role or external id shows here
        # rather than as the first sweep's failure.
        try:
            obj.account_id = obj.fetch_account_id()
        except AwsError as exc:
            self.message_user(
                request,
                f"{obj.name} was saved, but its credentials did not work: {exc}",
                messages.WARNING,
            )
        super().save_model(request, obj, form, change)
