"""What we collect: the AWS/DAX and AWS/DynamoDB metrics, their statistic and their meaning.

Pure constants (stdlib only), shared by the collector, the analysis and the charts.

DAX publishes a datapoint only when the value is non-zero, so for the count metrics (Sum) a
missing minute means 0; for gauges (Average / Maximum) a missing minute means "no data".
"""

DAX_NAMESPACE = "AWS/DAX"
DYNAMODB_NAMESPACE = "AWS/DynamoDB"
PERIOD_S = 60

SUM, AVERAGE, MAXIMUM, MINIMUM = "Sum", "Average", "Maximum", "Minimum"

ITEM_HITS, ITEM_MISSES = "ItemCacheHits", "ItemCacheMisses"
QUERY_HITS, QUERY_MISSES = "QueryCacheHits", "QueryCacheMisses"
SCAN_HITS, SCAN_MISSES = "ScanCacheHits", "ScanCacheMisses"
TOTAL_REQUESTS = "TotalRequestCount"
ERROR_REQUESTS = "ErrorRequestCount"
THROTTLED_REQUESTS = "ThrottledRequestCount"  # also counted in ErrorRequestCount
FAULT_REQUESTS = "FaultRequestCount"  # internal errors (HTTP 500) of DAX or DynamoDB
FAILED_REQUESTS = "FailedRequestCount"  # every request that ended in an error
NETWORK_IN, NETWORK_OUT = "NetworkBytesIn", "NetworkBytesOut"
QUERY_REQUESTS, SCAN_REQUESTS = "QueryRequestCount", "ScanRequestCount"
CPU_CREDITS = "CPUCreditBalance"  # burstable (T) node types only
CPU = "CPUUtilization"
MEMORY = "CacheMemoryUtilization"
DB_SIZE = "EstimatedDbSize"
EVICTED = "EvictedSize"
CONNECTIONS = "ClientConnections"
CONSUMED_READS = "ConsumedReadCapacityUnits"

# Request counts by operation, in the order shown in the "request mix" chart.
OPERATIONS: dict[str, str] = {
    "GetItem": "GetItemRequestCount",
    "BatchGetItem": "BatchGetItemRequestCount",
    "Query": "QueryRequestCount",
    "Scan": "ScanRequestCount",
    "PutItem": "PutItemRequestCount",
    "UpdateItem": "UpdateItemRequestCount",
    "DeleteItem": "DeleteItemRequestCount",
}

CACHE_TYPES: dict[str, tuple[str, str]] = {
    "item": (ITEM_HITS, ITEM_MISSES),
    "query": (QUERY_HITS, QUERY_MISSES),
    "scan": (SCAN_HITS, SCAN_MISSES),
}

# Per cluster (dimension ClusterId): (metric, statistic).
CLUSTER_METRICS: tuple[tuple[str, str], ...] = (
    (ITEM_HITS, SUM),
    (ITEM_MISSES, SUM),
    (QUERY_HITS, SUM),
    (QUERY_MISSES, SUM),
    (SCAN_HITS, SUM),
    (SCAN_MISSES, SUM),
    *((metric, SUM) for metric in OPERATIONS.values()),
    (TOTAL_REQUESTS, SUM),
    (ERROR_REQUESTS, SUM),
    (THROTTLED_REQUESTS, SUM),
    (FAULT_REQUESTS, SUM),
    (FAILED_REQUESTS, SUM),
    (NETWORK_IN, SUM),  # bytes per minute
    (NETWORK_OUT, SUM),
    (CPU, AVERAGE),
    (MEMORY, AVERAGE),
    (DB_SIZE, AVERAGE),
    (EVICTED, SUM),
    (CONNECTIONS, MAXIMUM),
)

# Per node (dimensions ClusterId + NodeId): enough for the per-node breakdown.
NODE_METRICS: tuple[tuple[str, str], ...] = (
    (ITEM_HITS, SUM),
    (ITEM_MISSES, SUM),
    (QUERY_HITS, SUM),
    (QUERY_MISSES, SUM),
    (QUERY_REQUESTS, SUM),
    (SCAN_REQUESTS, SUM),
    (TOTAL_REQUESTS, SUM),
    (CPU, AVERAGE),
    (MEMORY, AVERAGE),
    (EVICTED, SUM),
)

# Per node of a burstable node type only: each node has its own credits, and the lowest
# one is what matters (Minimum). DAX publishes only non-zero values, so a minute without a
# balance while the node published its CPU means the balance was 0.
BURSTABLE_NODE_METRICS: tuple[tuple[str, str], ...] = ((CPU_CREDITS, MINIMUM),)

# Per fronted table (dimension TableName): what reached DynamoDB.
TABLE_METRICS: tuple[tuple[str, str], ...] = ((CONSUMED_READS, SUM),)

UNITS: dict[str, str] = {
    CPU: "%",
    MEMORY: "%",
    DB_SIZE: "bytes",
    EVICTED: "bytes",
    CONNECTIONS: "connections",
    CONSUMED_READS: "RCU",
    NETWORK_IN: "bytes",
    NETWORK_OUT: "bytes",
    CPU_CREDITS: "credits",
}


def is_burstable(node_type: str) -> bool:
    """T node types (dax.t2.*, dax.t3.*, dax.t4g.*) run on CPU credits."""
    family = node_type.split(".")[1] if node_type.count(".") >= 2 else ""
    return family[:1] == "t" and family[1:2].isdigit()


def zero_when_missing(statistic: str) -> bool:
    """Counts (Sum) are published only when non-zero: a missing minute is 0."""
    return statistic == SUM


def node_metrics(node_type: str) -> tuple[tuple[str, str], ...]:
    """(metric, statistic) collected per node of a cluster of ``node_type``."""
    return NODE_METRICS + (BURSTABLE_NODE_METRICS if is_burstable(node_type) else ())


def series_per_cluster(node_count: int, node_type: str = "") -> int:
    """Metric series collected for one cluster with ``node_count`` nodes (tables not included)."""
    return len(CLUSTER_METRICS) + node_count * len(node_metrics(node_type))
