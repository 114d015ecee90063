"""JSON API routes (mounted under /api/)."""

app_name = "tuning_api"
urlpatterns = []
