from django.urls import path

from tuning import views

app_name = "tuning"
urlpatterns = [
    path("runs/", views.run_list, name="run_list"),
    path("runs/new/", views.run_new, name="run_new"),
    path(
        "runs/new/powertuning/",
        views.run_new_from_powertuning,
        name="run_new_from_powertuning",
    ),
    path("runs/new/functions/", views.function_list, name="function_list"),
    path("runs/new/estimate/", views.estimate, name="estimate"),
    path("runs/compare/", views.run_compare, name="run_compare"),
    path("runs/import/", views.run_import, name="run_import"),
    path("runs/<uuid:pk>/", views.run_detail, name="run_detail"),
    path("runs/<uuid:pk>/progress/", views.run_progress, name="run_progress"),
    path("runs/<uuid:pk>/monthly/", views.run_monthly, name="run_monthly"),
    path("runs/<uuid:pk>/cancel/", views.run_cancel, name="run_cancel"),
    path("runs/<uuid:pk>/rerun/", views.run_rerun, name="run_rerun"),
    path("runs/<uuid:pk>/resolve-cleanup/", views.run_resolve_cleanup, name="run_resolve_cleanup"),
    path("runs/<uuid:pk>/apply/", views.run_apply, name="run_apply"),
    path("runs/<uuid:pk>/export.csv", views.run_export_csv, name="run_export_csv"),
    path("runs/<uuid:pk>/export.json", views.run_export_json, name="run_export_json"),
    path("runs/<uuid:pk>/share/", views.share_create, name="share_create"),
    path("runs/<uuid:pk>/share/<int:link_id>/revoke/", views.share_revoke, name="share_revoke"),
    path("share/<str:token>/", views.shared_run, name="shared_run"),
    path("share/<str:token>/monthly/", views.shared_monthly, name="shared_monthly"),
    path("share/<str:token>/export.csv", views.shared_export_csv, name="shared_export_csv"),
    path("share/<str:token>/export.json", views.shared_export_json, name="shared_export_json"),
]
