from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from dashboard import views
from dashboard.forms import AdminLoginForm, LoginForm

handler400 = views.bad_request
admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("status/", views.status, name="status"),
    path("login/", auth_views.LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("tokens/", views.api_tokens, name="api_tokens"),
    path("tokens/<int:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("admin/", admin.site.urls),
    path("api/", include("tuning.api_urls")),
    path("api/", include("cachemetrics.api_urls")),
    path("", include("tuning.urls")),
    path("", include("cachemetrics.urls")),
    path("", include("prices.urls")),
    path("", include("notifications.urls")),
]
