from django.urls import path

from notifications import views

app_name = "notifications"
urlpatterns = [
    path("notifications/", views.settings_page, name="settings"),
    path("notifications/teams/<int:group_id>/", views.team_settings, name="team"),
    path("notifications/teams/<int:group_id>/test/", views.team_test, name="team_test"),
]
