"""Prices fetched from the AWS Price List Query API, and the record of each refresh.

A refresh replaces one service's rows only when its whole answer arrived: a failed or empty
fetch keeps the last good prices (``PriceRefresh`` says what happened)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Service(models.TextChoices):
    LAMBDA = "AWSLambda", "AWS Lambda"
    DAX = "AmazonDAX", "Amazon DAX"
    DYNAMODB = "AmazonDynamoDB", "Amazon DynamoDB"


class PriceQuerySet(models.QuerySet):
    def of(self, service: str, region: str) -> PriceQuerySet:
        return self.filter(service=service, region=region).order_by(
            "item", "variant", "begin_range"
        )


class Price(models.Model):
    """One on-demand price tier of one product in one region, as the Price List gave it."""

    service = models.CharField(max_length=32, choices=Service.choices)
    region = models.CharField(max_length=32)
    item = models.CharField(
        max_length=32, help_text="duration, request, ephemeral_storage, node_hour, …"
    )
    variant = models.CharField(
        max_length=64, blank=True, help_text="Architecture (Lambda) or node type (DAX)."
    )
    begin_range = models.DecimalField(max_digits=24, decimal_places=4, default=0)
    end_range = models.DecimalField(
        max_digits=24, decimal_places=4, null=True, blank=True, help_text="Empty: no end."
    )
    usd = models.DecimalField("USD per unit", max_digits=24, decimal_places=14)
    unit = models.CharField(max_length=32)
    usagetype = models.CharField(max_length=128)
    sku = models.CharField(max_length=32, blank=True)
    effective_date = models.DateField(help_text="When AWS says this price took effect.")
    fetched_at = models.DateTimeField()

    objects = PriceQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service", "region", "item", "variant", "begin_range"],
                name="one_price_per_tier",
            )
        ]
        indexes = [models.Index(fields=["service", "region"])]

    def __str__(self):
        return f"{self.service} {self.region} {self.item} {self.variant} {self.usd}/{self.unit}"


class RefreshStatus(models.TextChoices):
    RUNNING = "RUNNING", "running"
    SUCCEEDED = "SUCCEEDED", "succeeded"
    FAILED = "FAILED", "failed"


class PriceRefresh(models.Model):
    """One attempt to fetch prices: when, how it ended and why (kept for the prices page)."""

    trigger = models.CharField(max_length=16, help_text="daily, command or web")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=16, choices=RefreshStatus.choices, default=RefreshStatus.RUNNING
    )
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True, help_text="Price rows stored per service.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.status}"
