from django.apps import AppConfig


class CachemetricsConfig(AppConfig):
    name = "cachemetrics"
    verbose_name = "DAX cache metrics"
