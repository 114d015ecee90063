"""Collect DAX clusters and their CloudWatch metrics into the database.

One run = for every configured AwsAccount and region (or, with no account configured, the
worker's own credentials in the default region):

1. ``describe_clusters`` (all pages): upsert ``DaxCluster`` rows, mark the ones that are gone;
   the ``tuneboard:tables`` tag pre-fills the cluster -> table mapping.
2. ``describe_table`` for the fronted tables (billing mode, provisioned reads, item size).
3. ``GetMetricData``: every series (cluster, node and table metrics, exact dimensions) from
   its own watermark (``collected_until`` minus a late-data overlap; first run: the last
   24 h or ``since``; from the start of that quarter-hour) up to the current minute, cut
   into calls by ``packing.plan_calls`` (up to 500 queries and 90,000 datapoints each:
   ceil(series x windows / 500) calls for 180-minute windows), following NextToken. Count
   metrics missing from a minute are stored as 0 (DAX publishes only non-zero values);
   gauges are stored only when published.
4. Upsert on (series, ts): a re-run changes nothing. The 15-minute rollups of the quarters
   the run read are built from the same minutes (``cachemetrics.quarters``) and upserted too.
5. Store each present cluster's summary (``cachemetrics.summaries``: what the overview shows).

Every (account, region) gets a ``Collection`` row with calls, points and errors; one account
failing does not stop the others.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from aws.models import AwsAccount
from cachemetrics import catalog, packing, summaries, upsert
from cachemetrics import cloudwatch as cw
from cachemetrics.models import (
    POINT_RETENTION,
    CachedTable,
    ClusterStatus,
    Collection,
    CollectionStatus,
    DaxCluster,
    MappingSource,
    MetricPoint,
    MetricQuarter,
    MetricSeries,
)
from cachemetrics.quarters import QuarterRollups, floor_quarter
from cachemetrics.signals import announce_collection

log = logging.getLogger(__name__)

TABLES_TAG = "tuneboard:tables"
DEFAULT_FIRST_RUN = timedelta(hours=24)
LATE_DATA_OVERLAP = timedelta(minutes=10)  # CloudWatch datapoints can arrive a few minutes late
WINDOW = timedelta(minutes=packing.WINDOW_MINUTES)
DEFAULT_TTL_MS = 300_000  # DAX default item and query TTL (default.* parameter groups)

_STATUS = {
    "creating": ClusterStatus.CREATING,
    "available": ClusterStatus.AVAILABLE,
    "modifying": ClusterStatus.MODIFYING,
    "deleting": ClusterStatus.DELETING,
}


def floor_minute(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(second=0, microsecond=0)


def expected_metric_data_calls(series_count: int, start: datetime, end: datetime) -> int:
    """GetMetricData calls for ``series_count`` series over [start, end) (no NextToken)."""
    return len(packing.plan_calls(series_count, start, end))


@dataclass
class Run:
    """Mutable state of one (account, region) collection."""

    target: cw.Target
    account: AwsAccount | None
    now: datetime
    since: timedelta | None
    backoff: cw.Backoff
    stats: cw.CallStats = field(default_factory=cw.CallStats)
    errors: list[dict] = field(default_factory=list)
    received: int = 0
    written: int = 0
    quarters: QuarterRollups = field(default_factory=QuarterRollups)

    def error(self, stage: str, exc: Exception) -> None:
        kind = "transient" if isinstance(exc, cw.TransientAwsError) else "permanent"
        if not isinstance(exc, cw.AwsError):
            kind = "internal"
        self.errors.append({"stage": stage, "kind": kind, "message": str(exc)[:2000]})
        log.warning(
            "cache collection %s/%s: %s: %s", self.account_label, self.target.region, stage, exc
        )

    @property
    def account_label(self) -> str:
        return self.account.name if self.account else "default credentials"


# --------------------------------------------------------------------------- entry points


def targets() -> list[tuple[AwsAccount | None, str]]:
    """(account, region) pairs to collect; with no account, the default credentials."""
    extra_regions = settings.TUNEBOARD_DAX_REGIONS
    accounts = list(AwsAccount.objects.order_by("name"))
    if not accounts:
        regions = extra_regions or [settings.TUNEBOARD_DEFAULT_REGION]
        return [(None, region) for region in regions]
    pairs = []
    for account in accounts:
        for region in dict.fromkeys([account.default_region, *extra_regions]):
            pairs.append((account, region))
    return pairs


def collect_all(
    now: datetime | None = None,
    since: timedelta | None = None,
    backoff: cw.Backoff = cw.DEFAULT_BACKOFF,
) -> list[Collection]:
    """Collect every target; failures are recorded per target and never stop the others."""
    now = now or timezone.now()
    return [
        collect_target(account, region, now=now, since=since, backoff=backoff)
        for account, region in targets()
    ]


def collect_target(
    account: AwsAccount | None,
    region: str,
    now: datetime | None = None,
    since: timedelta | None = None,
    backoff: cw.Backoff = cw.DEFAULT_BACKOFF,
) -> Collection:
    now = now or timezone.now()
    target = cw.Target(
        region=region,
        role_arn=account.role_arn if account else "",
        external_id=account.external_id if account else "",
    )
    run = Run(target=target, account=account, now=now, since=since, backoff=backoff)
    collection = Collection.objects.create(
        account=account, account_name=run.account_label, region=region, started_at=timezone.now()
    )
    status = CollectionStatus.SUCCEEDED
    try:
        clusters, vanished = sync_clusters(run)
        collection.clusters_seen = len(clusters)
        collection.clusters_vanished = vanished
        tables = sync_tables(run, clusters)
        series = ensure_series(clusters, tables)
        collection.series_count = len(series)
        collection.window_end = floor_minute(now)
        collection.window_start = collect_metrics(run, series)
    except cw.AwsError as exc:
        run.error(exc.operation or "collect", exc)
        status = CollectionStatus.FAILED
    except Exception as exc:  # recorded, never hides other accounts' data
        log.exception("cache collection crashed for %s/%s", run.account_label, region)
        run.error("collect", exc)
        status = CollectionStatus.FAILED
    if status == CollectionStatus.SUCCEEDED:
        try:
            summaries.write(clusters)
        except Exception as exc:  # the metrics are stored: the overview keeps older figures
            log.exception("cache summaries failed for %s/%s", run.account_label, region)
            run.error("summaries", exc)
    if status == CollectionStatus.SUCCEEDED and run.errors:
        status = CollectionStatus.PARTIAL
    collection.status = status
    collection.finished_at = timezone.now()
    collection.api_calls = run.stats.as_dict()
    collection.metric_data_calls = run.stats.calls.get("GetMetricData", 0)
    collection.retries = run.stats.retries
    collection.datapoints_received = run.received
    collection.points_written = run.written
    collection.errors = run.errors
    collection.save()
    announce_collection(collection)
    return collection


# --------------------------------------------------------------------------- inventory


def parse_tables_tag(value: str) -> list[str]:
    return list(dict.fromkeys(name.strip() for name in value.split(",") if name.strip()))


def sync_clusters(run: Run) -> tuple[list[DaxCluster], int]:
    """Upsert the region's clusters; returns (present clusters, number newly vanished)."""
    raw_clusters = cw.describe_clusters(run.target, run.stats, run.backoff)
    present: list[DaxCluster] = []
    for info in map(cw.parse_cluster, raw_clusters):
        cluster = DaxCluster.objects.filter(arn=info.arn).first() or DaxCluster(
            arn=info.arn, first_seen=run.now
        )
        cluster.account = run.account
        cluster.region = run.target.region
        cluster.name = info.name
        cluster.description = info.description
        cluster.node_type = info.node_type
        cluster.node_count = info.node_count
        cluster.nodes = info.nodes
        cluster.aws_status = info.status
        cluster.status = _STATUS.get(info.status, ClusterStatus.OTHER)
        cluster.endpoint = info.endpoint
        cluster.security_groups = info.security_groups
        cluster.subnet_group = info.subnet_group
        cluster.parameter_group = info.parameter_group
        cluster.last_seen = run.now
        cluster.vanished_at = None
        if info.parameter_group.startswith("default."):
            cluster.item_ttl_ms = cluster.query_ttl_ms = DEFAULT_TTL_MS
        elif info.parameter_group:
            try:
                cluster.item_ttl_ms, cluster.query_ttl_ms = cw.parameter_group_ttls(
                    run.target, info.parameter_group, run.stats, run.backoff
                )
            except cw.AwsError as exc:
                run.error(f"DescribeParameters {info.parameter_group}", exc)
        tag_value = None
        try:
            tags = cw.cluster_tags(run.target, info.arn, run.stats, run.backoff)
            tag_value = tags.get(TABLES_TAG)
        except cw.AwsError as exc:
            run.error(f"ListTags {cluster.name}", exc)
        new_tag = tag_value is not None and tag_value != cluster.tables_tag
        if tag_value is not None:
            cluster.tables_tag = tag_value
        cluster.save()
        if new_tag:
            _apply_tables_tag(run, cluster, parse_tables_tag(tag_value))
        present.append(cluster)

    gone = DaxCluster.objects.filter(
        account=run.account, region=run.target.region, vanished_at__isnull=True
    ).exclude(arn__in=[c.arn for c in present])
    vanished = gone.update(vanished_at=run.now, status=ClusterStatus.VANISHED)
    return present, vanished


def _table_for(run: Run, name: str) -> CachedTable:
    table, _ = CachedTable.objects.get_or_create(
        account=run.account, region=run.target.region, name=name
    )
    return table


def _apply_tables_tag(run: Run, cluster: DaxCluster, names: list[str]) -> None:
    """The tag pre-fills the mapping: tagged tables are added (never removed)."""
    for name in names:
        _table_for(run, name).clusters.add(cluster)


def sync_tables(run: Run, clusters: list[DaxCluster]) -> list[CachedTable]:
    """The tables fronted by these clusters, refreshed from DescribeTable where allowed."""
    tables = list(
        CachedTable.objects.filter(
            clusters__in=clusters, account=run.account, region=run.target.region
        ).distinct()
    )
    for table in tables:
        try:
            info = cw.describe_table(run.target, table.name, run.stats, run.backoff)
        except cw.AwsError as exc:
            run.error(f"DescribeTable {table.name}", exc)
            continue
        mode = (info.get("BillingModeSummary") or {}).get("BillingMode")
        throughput = info.get("ProvisionedThroughput") or {}
        if not mode:
            mode = "PROVISIONED" if throughput.get("ReadCapacityUnits") else "PAY_PER_REQUEST"
        table.billing_mode = mode
        table.provisioned_rcu = throughput.get("ReadCapacityUnits") or None
        items, size = info.get("ItemCount") or 0, info.get("TableSizeBytes") or 0
        if items and size and table.mapping_source != MappingSource.MANUAL:
            table.avg_item_kb = round(size / items / 1024, 3)
            table.item_size_from_aws = True
        table.save()
    return tables


# --------------------------------------------------------------------------- series


@dataclass(frozen=True)
class SeriesSpec:
    key: str
    cluster: DaxCluster | None
    table: CachedTable | None
    node_id: str
    namespace: str
    metric: str
    statistic: str


def wanted_series(clusters: Iterable[DaxCluster], tables: Iterable[CachedTable]):
    for cluster in clusters:
        for metric, stat in catalog.CLUSTER_METRICS:
            yield SeriesSpec(
                MetricSeries.cluster_key(cluster.pk, "", metric, stat),
                cluster,
                None,
                "",
                catalog.DAX_NAMESPACE,
                metric,
                stat,
            )
        for node in cluster.nodes:
            for metric, stat in catalog.node_metrics(cluster.node_type):
                yield SeriesSpec(
                    MetricSeries.cluster_key(cluster.pk, node["id"], metric, stat),
                    cluster,
                    None,
                    node["id"],
                    catalog.DAX_NAMESPACE,
                    metric,
                    stat,
                )
    for table in tables:
        for metric, stat in catalog.TABLE_METRICS:
            yield SeriesSpec(
                MetricSeries.table_key(table.pk, metric, stat),
                None,
                table,
                "",
                catalog.DYNAMODB_NAMESPACE,
                metric,
                stat,
            )


def ensure_series(clusters: list[DaxCluster], tables: list[CachedTable]) -> list[MetricSeries]:
    specs = list(wanted_series(clusters, tables))
    keys = [s.key for s in specs]
    existing = set(MetricSeries.objects.filter(key__in=keys).values_list("key", flat=True))
    MetricSeries.objects.bulk_create(
        [
            MetricSeries(
                key=s.key,
                cluster=s.cluster,
                table=s.table,
                node_id=s.node_id,
                namespace=s.namespace,
                metric=s.metric,
                statistic=s.statistic,
            )
            for s in specs
            if s.key not in existing
        ],
        ignore_conflicts=True,
    )
    by_key = {
        s.key: s
        for s in MetricSeries.objects.filter(key__in=keys).select_related("cluster", "table")
    }
    return [by_key[k] for k in keys]


def dimensions(series: MetricSeries) -> tuple[tuple[str, str], ...]:
    if series.table_id:
        return (("TableName", series.table.name),)
    if series.node_id:
        return (("ClusterId", series.cluster.name), ("NodeId", series.node_id))
    return (("ClusterId", series.cluster.name),)


def query_for(series: MetricSeries) -> cw.Query:
    return cw.Query(
        id=f"s{series.pk}",
        namespace=series.namespace,
        metric=series.metric,
        dimensions=dimensions(series),
        statistic=series.statistic,
        period_s=series.period_s,
    )


# --------------------------------------------------------------------------- metrics


def series_start(run: Run, series: MetricSeries, end: datetime) -> datetime:
    oldest = end - POINT_RETENTION  # CloudWatch keeps 1-minute data for 15 days too
    if run.since is not None:
        start = end - run.since
    elif series.collected_until:
        start = series.collected_until - LATE_DATA_OVERLAP
    else:
        start = end - DEFAULT_FIRST_RUN
    # whole quarter-hours: their 15-minute rollups are built from the minutes read
    return floor_quarter(max(start, oldest))


def collect_metrics(run: Run, series: list[MetricSeries]) -> datetime | None:
    """Pull and upsert the datapoints of ``series``; returns the earliest start used."""
    end = floor_minute(run.now)
    groups: dict[datetime, list[MetricSeries]] = defaultdict(list)
    for s in series:
        start = series_start(run, s, end)
        if start < end:
            groups[start].append(s)
    failed: set[int] = set()
    for start, group in sorted(groups.items(), key=lambda item: item[0]):
        for call in packing.plan_calls(len(group), start, end):
            batch = group[call.first : call.first + call.count]
            try:
                data = cw.get_metric_data(
                    run.target,
                    [query_for(s) for s in batch],
                    call.start,
                    call.end,
                    run.stats,
                    run.backoff,
                )
            except cw.AwsError as exc:
                run.error(f"GetMetricData {call.start:%Y-%m-%d %H:%M}", exc)
                failed.update(s.pk for s in batch)
                continue
            store_window(run, batch, data, call.start, call.end)
    done = [s.pk for s in series if s.pk not in failed]
    _upsert_quarters(run.quarters.rest(set(done)))
    for start, group in groups.items():
        MetricSeries.objects.filter(
            pk__in=[s.pk for s in group if s.pk not in failed], quarters_from__isnull=True
        ).update(quarters_from=start)
    MetricSeries.objects.filter(pk__in=done).update(collected_until=end)
    return min(groups) if groups else None


def store_window(
    run: Run,
    batch: list[MetricSeries],
    data: dict[str, list[tuple[datetime, float]]],
    w_start: datetime,
    w_end: datetime,
) -> None:
    minutes = int((w_end - w_start).total_seconds() // 60)
    stamps = [w_start + timedelta(minutes=m) for m in range(minutes)]
    rows: list[tuple[int, datetime, float]] = []
    quarters = []
    for s in batch:
        slots = minute_slots(data.get(f"s{s.pk}", ()), w_start, minutes)
        run.received += minutes - slots.count(None)
        if s.zero_when_missing:
            slots = [0.0 if v is None else v for v in slots]
            rows.extend(zip([s.pk] * minutes, stamps, slots, strict=True))
        else:
            rows.extend((s.pk, stamps[m], v) for m, v in enumerate(slots) if v is not None)
        quarters += run.quarters.add(s.pk, w_start, slots)
    stored = MetricPoint.objects.filter(
        series_id__in=[s.pk for s in batch], ts__gte=w_start, ts__lt=w_end
    )
    fresh = not stored.exists()  # then none of these quarters is stored either
    upsert.upsert_rows(MetricPoint, ("series_id", "ts"), ("value",), rows, fresh=fresh)
    _upsert_quarters(quarters, fresh=fresh)
    run.written += len(rows)


def _upsert_quarters(rows: list[tuple], fresh: bool = False) -> None:
    upsert.upsert_rows(
        MetricQuarter,
        ("series_id", "start"),
        ("count", "total", "minimum", "maximum"),
        rows,
        fresh=fresh,
    )


def minute_slots(
    datapoints: Iterable[tuple[datetime, float]], start: datetime, minutes: int
) -> list[float | None]:
    """The value of each minute of [start, start + minutes) (None where none was published);
    a datapoint is placed by the minute it falls in, the last one wins."""
    slots: list[float | None] = [None] * minutes
    origin = start.timestamp()
    for ts, value in datapoints:
        m = int((ts.timestamp() - origin) // 60)
        if 0 <= m < minutes:
            slots[m] = float(value)
    return slots
