"""JSON API routes (mounted under /api/)."""

app_name = "cachemetrics_api"
urlpatterns = []
