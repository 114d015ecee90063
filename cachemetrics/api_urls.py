"""JSON API routes (mounted under /api/)."""

from django.urls import path

from cachemetrics import api

app_name = "cachemetrics_api"
urlpatterns = [
    path("cache/clusters/", api.cluster_list, name="cluster_list"),
    path("cache/clusters/<int:pk>/", api.cluster_detail, name="cluster_detail"),
    path("cache/tables/", api.table_list, name="table_list"),
]
