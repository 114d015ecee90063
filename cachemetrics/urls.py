from django.urls import path

from cachemetrics import views

app_name = "cachemetrics"
urlpatterns = [
    path("cache/", views.overview, name="overview"),
    path("cache/clusters/<int:pk>/", views.cluster_detail, name="cluster_detail"),
    path("cache/tables/<int:pk>/", views.table_detail, name="table_detail"),
    path("cache/collections/", views.collection_list, name="collection_list"),
]
