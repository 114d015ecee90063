"""The only module of cachemetrics that talks to AWS (DAX, DynamoDB, CloudWatch).

Every call goes through :func:`_call`, which counts it, retries throttling and transient
faults with backoff (``aws.retry``) and turns botocore errors into the one taxonomy of
``aws.errors``:

* :class:`TransientAwsError` - throttled or unavailable after the retries; try again later;
* :class:`PermanentAwsError` - access denied, bad configuration, unknown resource...

Clients come from ``aws.clients`` (one per process and role); endpoints come from botocore's
standard environment variables.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from aws import clients
from aws.errors import AwsError, PermanentAwsError, TransientAwsError, map_error
from aws.retry import Backoff, retrying

__all__ = ["AwsError", "Backoff", "PermanentAwsError", "TransientAwsError"]

MAX_QUERIES_PER_CALL = 500  # GetMetricData limit
DESCRIBE_PAGE_SIZE = 100  # DescribeClusters MaxResults (AWS allows 20-100)
MAX_DATAPOINTS_PER_CALL = 100_800  # GetMetricData returns at most this many per call

#: A collection runs in the background every few minutes: it can wait longer than a sweep.
DEFAULT_BACKOFF = Backoff(attempts=5, base_s=0.5, cap_s=20.0)


@dataclass
class Target:
    """Where to collect: one region of one account (role empty = the worker's credentials)."""

    region: str
    role_arn: str = ""
    external_id: str = ""


@dataclass
class CallStats:
    """What one collection cost: calls per operation and retries."""

    calls: Counter = field(default_factory=Counter)
    retries: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(sorted(self.calls.items()))


def _client(service: str, target: Target):
    return clients.client(service, target.region, target.role_arn, target.external_id)


def _call(
    stats: CallStats,
    service: str,
    target: Target,
    operation: str,
    backoff: Backoff = DEFAULT_BACKOFF,
    **params: Any,
) -> dict:
    """One API call, counted, with throttling/transient faults retried with backoff."""

    def attempt() -> dict:
        stats.calls[operation] += 1
        try:
            return getattr(_client(service, target), _snake(operation))(**params)
        except (ClientError, BotoCoreError) as exc:
            raise map_error(
                exc, operation=operation, where=f"region {target.region}", role_arn=target.role_arn
            ) from exc

    def count_retry(_error, _attempt) -> None:
        stats.retries += 1

    return retrying(attempt, backoff=backoff, on_retry=count_retry)


def _snake(operation: str) -> str:
    out = []
    for i, ch in enumerate(operation):
        if ch.isupper() and i:
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


# --------------------------------------------------------------------------- DAX


def describe_clusters(target: Target, stats: CallStats, backoff: Backoff = DEFAULT_BACKOFF):
    """Every DAX cluster of the region (all pages)."""
    clusters: list[dict] = []
    token = None
    while True:
        params = {"MaxResults": DESCRIBE_PAGE_SIZE}
        if token:
            params["NextToken"] = token
        page = _call(stats, "dax", target, "DescribeClusters", backoff, **params)
        clusters.extend(page.get("Clusters", []))
        token = page.get("NextToken")
        if not token:
            return clusters


def cluster_tags(
    target: Target, arn: str, stats: CallStats, backoff: Backoff = DEFAULT_BACKOFF
) -> dict[str, str]:
    tags: dict[str, str] = {}
    token = None
    while True:
        params = {"ResourceName": arn}
        if token:
            params["NextToken"] = token
        page = _call(stats, "dax", target, "ListTags", backoff, **params)
        tags.update({t["Key"]: t["Value"] for t in page.get("Tags", [])})
        token = page.get("NextToken")
        if not token:
            return tags


def parameter_group_ttls(
    target: Target, name: str, stats: CallStats, backoff: Backoff = DEFAULT_BACKOFF
) -> tuple[int | None, int | None]:
    """(item TTL ms, query TTL ms) of a parameter group, None where not known."""
    item = query = None
    token = None
    while True:
        params = {"ParameterGroupName": name}
        if token:
            params["NextToken"] = token
        page = _call(stats, "dax", target, "DescribeParameters", backoff, **params)
        for parameter in page.get("Parameters", []):
            value = parameter.get("ParameterValue")
            if value is None or not str(value).isdigit():
                continue
            if parameter.get("ParameterName") == "record-ttl-millis":
                item = int(value)
            elif parameter.get("ParameterName") == "query-ttl-millis":
                query = int(value)
        token = page.get("NextToken")
        if not token:
            return item, query


# --------------------------------------------------------------------------- DynamoDB


def describe_table(
    target: Target, name: str, stats: CallStats, backoff: Backoff = DEFAULT_BACKOFF
) -> dict:
    return _call(stats, "dynamodb", target, "DescribeTable", backoff, TableName=name)["Table"]


# --------------------------------------------------------------------------- CloudWatch


@dataclass(frozen=True)
class Query:
    """One GetMetricData MetricStat query with exact dimensions."""

    id: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str
    period_s: int = 60

    def as_api(self) -> dict:
        return {
            "Id": self.id,
            "MetricStat": {
                "Metric": {
                    "Namespace": self.namespace,
                    "MetricName": self.metric,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in self.dimensions],
                },
                "Period": self.period_s,
                "Stat": self.statistic,
            },
            "ReturnData": True,
        }


def get_metric_data(
    target: Target,
    queries: Iterable[Query],
    start: datetime,
    end: datetime,
    stats: CallStats,
    backoff: Backoff = DEFAULT_BACKOFF,
) -> dict[str, list[tuple[datetime, float]]]:
    """Datapoints per query id for [start, end), following NextToken; at most 500 queries."""
    queries = list(queries)
    if len(queries) > MAX_QUERIES_PER_CALL:
        raise ValueError(f"{len(queries)} queries: GetMetricData takes at most 500 per call")
    results: dict[str, list[tuple[datetime, float]]] = {q.id: [] for q in queries}
    params: dict[str, Any] = {
        "MetricDataQueries": [q.as_api() for q in queries],
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampAscending",
    }
    while True:
        page = _call(stats, "cloudwatch", target, "GetMetricData", backoff, **params)
        for result in page.get("MetricDataResults", []):
            if result.get("StatusCode") == "Forbidden":
                raise PermanentAwsError(
                    f"GetMetricData: access to {result.get('Id')} forbidden",
                    operation="GetMetricData",
                    code="Forbidden",
                )
            results.setdefault(result["Id"], []).extend(
                zip(result.get("Timestamps", []), result.get("Values", []), strict=False)
            )
        token = page.get("NextToken")
        if not token:
            return results
        params["NextToken"] = token


# --------------------------------------------------------------------------- cluster answers


@dataclass(frozen=True)
class ClusterInfo:
    """One DescribeClusters entry, in the shape the inventory stores."""

    arn: str
    name: str
    description: str
    node_type: str
    node_count: int
    nodes: list[dict]  # [{id, az, status, endpoint}]
    status: str  # as AWS says it: creating, available, modifying, deleting...
    endpoint: str  # discovery endpoint, host:port
    security_groups: list[str]
    subnet_group: str
    parameter_group: str


def parse_cluster(raw: dict) -> ClusterInfo:
    """A DescribeClusters entry; AWS leaves out what a cluster does not have (yet)."""
    arn = raw["ClusterArn"]
    nodes = _cluster_nodes(raw)
    return ClusterInfo(
        arn=arn,
        name=raw.get("ClusterName", arn.rsplit("/", 1)[-1]),
        description=raw.get("Description", "") or "",
        node_type=raw.get("NodeType", ""),
        node_count=raw.get("TotalNodes") or len(nodes) or 1,
        nodes=nodes,
        status=raw.get("Status", ""),
        endpoint=_discovery_endpoint(raw),
        security_groups=[
            sg.get("SecurityGroupIdentifier", "") for sg in raw.get("SecurityGroups") or []
        ],
        subnet_group=raw.get("SubnetGroup", "") or "",
        parameter_group=(raw.get("ParameterGroup") or {}).get("ParameterGroupName", ""),
    )


def _discovery_endpoint(raw: dict) -> str:
    endpoint = raw.get("ClusterDiscoveryEndpoint") or {}
    address = endpoint.get("Address") or endpoint.get("URL") or ""
    port = endpoint.get("Port")
    return f"{address}:{port}" if address and port else address


def _cluster_nodes(raw: dict) -> list[dict]:
    nodes = []
    for node in raw.get("Nodes") or []:
        endpoint = node.get("Endpoint") or {}
        nodes.append(
            {
                "id": node.get("NodeId", ""),
                "az": node.get("AvailabilityZone", ""),
                "status": node.get("NodeStatus", ""),
                "endpoint": (
                    f"{endpoint.get('Address')}:{endpoint.get('Port')}"
                    if endpoint.get("Address")
                    else ""
                ),
            }
        )
    return nodes
