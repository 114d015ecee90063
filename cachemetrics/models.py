"""DAX cache state: clusters, the tables they front, metric time series and collection runs.

Storage cost (documented here and on the collections page)
----------------------------------------------------------
Per cluster we keep ``len(CLUSTER_METRICS)`` = 25 cluster series plus 10 series per node
(11 on burstable T node types: their CPU credit balance), and one series per fronted table.
Count series are stored for every minute (a missing minute is a real 0 for DAX), gauges only
when published, so a 3-node cluster has about 25 + 3 x 10 = 55 series x 1,440 minutes =
79,200 points a day. ``MetricPoint`` has a composite primary key (series, ts) and no other
index. Measured on PostgreSQL by ``bench/collect.py`` (7.5 M points): 91 bytes per point
including the primary-key index, 135 bytes per hourly rollup. Retention is 15 days of
1-minute points:

    79,200 x 15 x 91 B ~= 108 MB per 3-node cluster (~69 MB for a 1-node cluster)

Hourly rollups (count, sum, min, max) are kept 15 months (longer when TUNEBOARD_RETENTION_DAYS
is longer, for ever when it is 0: ``cachemetrics.rollup.rollup_retention``):

    55 x 24 x 456 days x 135 B ~= 81 MB per 3-node cluster (~52 MB for a 1-node cluster)

15-minute rollups are kept as long as the points (the 24-hour charts read them); a row has
the columns of an hourly rollup, so about its size (estimated, not measured):

    55 x 96 x 15 days x 135 B ~= 11 MB per 3-node cluster

The hourly ``rollup_cache_metrics_task`` writes rollups and deletes what is past retention.
Collections (the collector's log) are kept TUNEBOARD_RETENTION_DAYS (dashboard/retention.py).
"""

from datetime import datetime, timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone

from cachemetrics import catalog
from cachemetrics.ranges import POINT_RETENTION

__all__ = ["POINT_RETENTION"]
ROLLUP_RETENTION = timedelta(days=456)  # 15 months


class ClusterStatus(models.TextChoices):
    CREATING = "creating", "Creating"
    AVAILABLE = "available", "Available"
    MODIFYING = "modifying", "Modifying"
    DELETING = "deleting", "Deleting"
    VANISHED = "vanished", "Vanished"
    OTHER = "other", "Other"


class DaxCluster(models.Model):
    """A DAX cluster as last seen by ``describe_clusters``.

    ``account`` is empty when the cluster was collected with the worker's own credentials
    (no AwsAccount configured: the sandbox demo).
    """

    account = models.ForeignKey(
        "aws.AwsAccount",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="dax_clusters",
    )
    region = models.CharField(max_length=32)
    name = models.CharField(max_length=64)
    arn = models.CharField(max_length=2048, unique=True)
    description = models.TextField(blank=True)
    node_type = models.CharField(max_length=40)
    node_count = models.PositiveIntegerField(default=1)
    nodes = models.JSONField(default=list, blank=True, help_text="[{id, az, status, endpoint}]")
    status = models.CharField(max_length=32, default=ClusterStatus.OTHER)
    aws_status = models.CharField(max_length=64, blank=True, help_text="Status as AWS says it.")
    endpoint = models.CharField(max_length=512, blank=True)
    security_groups = models.JSONField(default=list, blank=True)
    subnet_group = models.CharField(max_length=256, blank=True)
    parameter_group = models.CharField(max_length=256, blank=True)
    item_ttl_ms = models.BigIntegerField(null=True, blank=True)
    query_ttl_ms = models.BigIntegerField(null=True, blank=True)
    tables_tag = models.CharField(
        max_length=1024, blank=True, help_text="Last value of the tuneboard:tables tag."
    )
    hit_ratio_threshold = models.FloatField(
        default=0.8, help_text="Flag the cluster when its item hit ratio falls below this."
    )
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    vanished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "region"]
        verbose_name = "DAX cluster"

    def __str__(self):
        return f"{self.name} ({self.region})"

    @property
    def is_present(self) -> bool:
        return self.vanished_at is None

    @property
    def account_label(self) -> str:
        return self.account.name if self.account_id else "default credentials"


class BillingMode(models.TextChoices):
    ON_DEMAND = "PAY_PER_REQUEST", "On-demand"
    PROVISIONED = "PROVISIONED", "Provisioned"


class MappingSource(models.TextChoices):
    TAG = "tag", "From the tuneboard:tables tag"
    MANUAL = "manual", "Edited by hand"


class CachedTable(models.Model):
    """A DynamoDB table and the DAX clusters in front of it."""

    account = models.ForeignKey(
        "aws.AwsAccount",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="cached_tables",
    )
    region = models.CharField(max_length=32)
    name = models.CharField(max_length=255)
    clusters = models.ManyToManyField(DaxCluster, related_name="tables", blank=True)
    avg_item_kb = models.FloatField(
        default=1.0,
        help_text="Average item size in KB: sets the read units a cache hit saves "
        "(0.5 RCU per started 4 KB for an eventually consistent read).",
    )
    billing_mode = models.CharField(
        max_length=20, choices=BillingMode.choices, default=BillingMode.ON_DEMAND
    )
    provisioned_rcu = models.PositiveIntegerField(null=True, blank=True)
    mapping_source = models.CharField(
        max_length=10, choices=MappingSource.choices, default=MappingSource.TAG
    )
    item_size_from_aws = models.BooleanField(
        default=False, help_text="avg_item_kb came from DescribeTable (size / item count)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "region"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "region", "name"], name="cachedtable_unique_per_account"
            ),
            models.UniqueConstraint(
                fields=["region", "name"],
                condition=Q(account__isnull=True),
                name="cachedtable_unique_default_account",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.region})"


class MetricSeries(models.Model):
    """One CloudWatch time series: a metric and statistic of a cluster, a node or a table."""

    key = models.CharField(max_length=400, unique=True)
    cluster = models.ForeignKey(
        DaxCluster, null=True, blank=True, on_delete=models.CASCADE, related_name="series"
    )
    table = models.ForeignKey(
        CachedTable, null=True, blank=True, on_delete=models.CASCADE, related_name="series"
    )
    node_id = models.CharField(max_length=128, blank=True)
    namespace = models.CharField(max_length=32)
    metric = models.CharField(max_length=64)
    statistic = models.CharField(max_length=16)
    period_s = models.PositiveIntegerField(default=catalog.PERIOD_S)
    collected_until = models.DateTimeField(
        null=True, blank=True, help_text="Exclusive end of the last collected window."
    )
    rolled_up_until = models.DateTimeField(null=True, blank=True)
    quarters_from = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Start of its first 15-minute rollup: minutes from here on have them.",
    )

    class Meta:
        verbose_name_plural = "metric series"
        constraints = [
            models.CheckConstraint(
                condition=Q(cluster__isnull=False) | Q(table__isnull=False),
                name="metricseries_has_owner",
            )
        ]

    def __str__(self):
        return self.key

    @staticmethod
    def cluster_key(cluster_id: int, node_id: str, metric: str, statistic: str) -> str:
        return f"dax:{cluster_id}:{node_id or '-'}:{metric}:{statistic}"

    @staticmethod
    def table_key(table_id: int, metric: str, statistic: str) -> str:
        return f"ddb:{table_id}:{metric}:{statistic}"

    @property
    def zero_when_missing(self) -> bool:
        return catalog.zero_when_missing(self.statistic)


class MetricPoint(models.Model):
    """One 1-minute datapoint. Re-collection upserts on (series, ts).

    No foreign key constraint in the database: checking it at commit cost as much as writing
    the row (one index lookup per point; a fleet's first collection writes millions). Rows
    come only from the collector, for series it has just read; deleting a series still
    deletes its points (Django's CASCADE)."""

    pk = models.CompositePrimaryKey("series", "ts")
    # no index of its own: the primary key (series, ts) serves every lookup by series
    series = models.ForeignKey(
        MetricSeries,
        on_delete=models.CASCADE,
        related_name="points",
        db_constraint=False,
        db_index=False,
    )
    ts = models.DateTimeField()
    value = models.FloatField()

    def __str__(self):
        return f"{self.series_id} {self.ts:%Y-%m-%d %H:%M} {self.value}"


class MetricQuarter(models.Model):
    """A quarter-hour of a series, written by each collection for the quarters it touched (the
    last one holds the minutes collected so far): the cache pages' 15-minute buckets read one
    row instead of fifteen points. Kept as long as the points. No foreign key constraint in
    the database, as for the points."""

    pk = models.CompositePrimaryKey("series", "start")
    series = models.ForeignKey(
        MetricSeries,
        on_delete=models.CASCADE,
        related_name="quarters",
        db_constraint=False,
        db_index=False,  # the primary key (series, start) serves lookups by series
    )
    start = models.DateTimeField()
    count = models.PositiveIntegerField()
    total = models.FloatField()
    minimum = models.FloatField()
    maximum = models.FloatField()

    def __str__(self):
        return f"{self.series_id} {self.start:%Y-%m-%d %H:%M}+15m"


class MetricRollup(models.Model):
    """One hour of a series: enough to give back the Sum, Average, Minimum and Maximum."""

    pk = models.CompositePrimaryKey("series", "hour")
    series = models.ForeignKey(MetricSeries, on_delete=models.CASCADE, related_name="rollups")
    hour = models.DateTimeField()
    count = models.PositiveIntegerField()
    total = models.FloatField()
    minimum = models.FloatField()
    maximum = models.FloatField()

    def __str__(self):
        return f"{self.series_id} {self.hour:%Y-%m-%d %H}h"

    @property
    def average(self) -> float:
        return self.total / self.count if self.count else 0.0


class ClusterSummary(models.Model):
    """What the cache overview, the home card and ``/api/cache/clusters/`` show of a cluster:
    its figures over the last 24 h of collected data, computed when a collection of its account
    and region finishes (``cachemetrics.summaries``) so that no page computes a report per
    cluster. ``figures`` is ``summaries.figures`` of the cluster's 24 h report (unrounded)."""

    cluster = models.OneToOneField(
        DaxCluster, primary_key=True, on_delete=models.CASCADE, related_name="summary"
    )
    computed_at = models.DateTimeField()
    figures = models.JSONField()

    def __str__(self):
        return f"{self.cluster} as of {self.computed_at:%Y-%m-%d %H:%M}"


class CollectionStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Partial"
    FAILED = "failed", "Failed"


class CollectionQuerySet(models.QuerySet):
    def expired(self, days: int, now: datetime | None = None):
        """Collections started more than ``days`` ago (none when ``days`` is 0: kept for ever)."""
        if not days:
            return self.none()
        return self.filter(started_at__lt=(now or timezone.now()) - timedelta(days=days))


class Collection(models.Model):
    """One collector run for one account and region: what it cost and what went wrong."""

    account = models.ForeignKey(
        "aws.AwsAccount",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="collections",
    )
    account_name = models.CharField(max_length=100, default="default credentials")
    region = models.CharField(max_length=32)
    status = models.CharField(
        max_length=12, choices=CollectionStatus.choices, default=CollectionStatus.RUNNING
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    clusters_seen = models.PositiveIntegerField(default=0)
    clusters_vanished = models.PositiveIntegerField(default=0)
    series_count = models.PositiveIntegerField(default=0)
    api_calls = models.JSONField(default=dict, blank=True, help_text="{operation: calls}")
    metric_data_calls = models.PositiveIntegerField(default=0)
    datapoints_received = models.PositiveIntegerField(default=0)
    points_written = models.PositiveIntegerField(default=0)
    retries = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="[{stage, kind, message}]")

    objects = CollectionQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"{self.account_name} {self.region} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def total_calls(self) -> int:
        return sum(self.api_calls.values())

    @property
    def duration_s(self) -> float | None:
        if not self.finished_at:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class DaxNodePrice(models.Model):
    """On-demand price of one DAX node-hour. Seeded from ``cachemetrics.pricing``; editable."""

    region = models.CharField(max_length=32)
    node_type = models.CharField(max_length=40)
    hourly_usd = models.DecimalField(max_digits=10, decimal_places=4)
    source = models.URLField(max_length=500)
    as_of = models.DateField(help_text="When the price was read from the source.")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["region", "node_type"]
        verbose_name = "DAX node price"
        constraints = [
            models.UniqueConstraint(fields=["region", "node_type"], name="daxnodeprice_unique")
        ]

    def __str__(self):
        return f"{self.node_type} {self.region}: ${self.hourly_usd}/h"
