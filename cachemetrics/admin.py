from django.contrib import admin

from cachemetrics.models import CachedTable, Collection, DaxCluster, DaxNodePrice


class TableInline(admin.TabularInline):
    model = CachedTable.clusters.through
    extra = 1
    verbose_name = "fronted table"
    verbose_name_plural = "Fronted tables (mapping)"


@admin.register(DaxCluster)
class DaxClusterAdmin(admin.ModelAdmin):
    list_display = ("name", "region", "account", "node_type", "node_count", "status", "last_seen")
    list_filter = ("status", "region", "node_type")
    search_fields = ("name", "arn")
    readonly_fields = (
        "arn",
        "nodes",
        "endpoint",
        "security_groups",
        "subnet_group",
        "parameter_group",
        "aws_status",
        "tables_tag",
        "first_seen",
        "last_seen",
        "vanished_at",
    )
    fields = (
        "name",
        "account",
        "region",
        "arn",
        "description",
        "node_type",
        "node_count",
        "status",
        "aws_status",
        "hit_ratio_threshold",
        "endpoint",
        "nodes",
        "security_groups",
        "subnet_group",
        "parameter_group",
        "item_ttl_ms",
        "query_ttl_ms",
        "tables_tag",
        "first_seen",
        "last_seen",
        "vanished_at",
    )
    inlines = [TableInline]


@admin.register(CachedTable)
class CachedTableAdmin(admin.ModelAdmin):
    list_display = ("name", "region", "account", "billing_mode", "avg_item_kb", "mapping_source")
    list_filter = ("billing_mode", "mapping_source", "region")
    search_fields = ("name",)
    filter_horizontal = ("clusters",)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if "clusters" in form.changed_data and form.instance.mapping_source != "manual":
            form.instance.mapping_source = "manual"
            form.instance.save(update_fields=["mapping_source"])


@admin.register(DaxNodePrice)
class DaxNodePriceAdmin(admin.ModelAdmin):
    list_display = ("node_type", "region", "hourly_usd", "as_of", "source")
    list_filter = ("region",)
    list_editable = ("hourly_usd",)
    search_fields = ("node_type",)


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = (
        "started_at",
        "account_name",
        "region",
        "status",
        "clusters_seen",
        "metric_data_calls",
        "points_written",
    )
    list_filter = ("status", "region")
    readonly_fields = [f.name for f in Collection._meta.fields]

    def has_add_permission(self, request):
        return False
