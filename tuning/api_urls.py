"""JSON API routes (mounted under /api/)."""

from django.urls import path

from tuning import api

app_name = "tuning_api"
urlpatterns = [
    path("runs/", api.runs, name="run_list"),
    path("runs/<str:pk>/", api.run_detail, name="run_detail"),
    path("runs/<str:pk>/cancel/", api.run_cancel, name="run_cancel"),
]
