from django.urls import path

from cachemetrics import views

app_name = "cachemetrics"
urlpatterns = [
    path("cache/", views.overview, name="overview"),
]
