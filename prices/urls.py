from django.urls import path

from prices import views

app_name = "prices"
urlpatterns = [
    path("prices/", views.price_list, name="price_list"),
    path("prices/refresh/", views.refresh, name="refresh"),
]
