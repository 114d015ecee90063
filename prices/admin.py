from django.contrib import admin

from prices.models import Price, PriceRefresh


class ReadOnlyAdmin(admin.ModelAdmin):
    """Prices come from AWS (refresh on /prices/ or with manage.py refresh_prices)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Price)
class PriceAdmin(ReadOnlyAdmin):
    list_display = ("service", "region", "item", "variant", "begin_range", "usd", "unit",
                    "effective_date", "fetched_at")  # fmt: skip
    list_filter = ("service", "item", "region")
    search_fields = ("region", "variant", "usagetype")


@admin.register(PriceRefresh)
class PriceRefreshAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "trigger", "status", "finished_at", "requested_by")
    list_filter = ("status", "trigger")
