from django.urls import path

from tuning import views

app_name = "tuning"
urlpatterns = [
    path("runs/", views.run_list, name="run_list"),
    path("runs/new/", views.run_new, name="run_new"),
]
