"""A DAX cluster simulation: a real cache model over a synthetic workload.

Pure Python (stdlib only, no boto3). ``sandbox.seed_dax`` turns what this module computes
into AWS resources and CloudWatch metrics in moto.

The model, per cluster:

* one **item cache** and one **query cache** (Query and Scan results share it), each an LRU
  bounded in bytes with a TTL that starts when the entry is written and is not extended by
  hits (DAX semantics, default 5 minutes);
* capacity derived from the node type's memory, divided by ``memory_scale_down`` because the
  simulated workload is a scaled-down copy of a real one (byte gauges are scaled back up);
* writes (PutItem/UpdateItem) go to the table and then write the new item into the item cache
  (write-through); DeleteItem evicts the item; writes never touch the query cache;
* strongly consistent reads pass through to the table uncached: they count as requests but
  neither as hits nor as misses;
* every item-cache miss and every pass-through read consumes read units on its table
  (eventually consistent 0.5 RCU per started 4 KB, strongly consistent 1 RCU per 4 KB); a
  Query or Scan miss consumes read units for its whole result size;
* requests fail as user errors (``ErrorRequestCount``), throttles (``ThrottledRequestCount``,
  which AWS also counts in ``ErrorRequestCount``) or internal faults (``FaultRequestCount``,
  HTTP 500); ``FailedRequestCount`` is errors + faults;
* network bytes per node (``NetworkBytesIn`` / ``NetworkBytesOut``): each request and its
  response, the items returned to the client, and the round trips to DynamoDB on misses,
  pass-through reads and write-through writes;
* burstable nodes (``dax.t*``) earn CPU credits at their baseline and spend one credit per
  vCPU-minute at 100 % CPU (``CPUCreditBalance``); with no credit left a node is held to its
  baseline CPU and throttles more.

Per table the workload has a key space with Zipf-skewed popularity, item sizes around a mean,
a daily traffic sinusoid with a peak hour, a read/write mix, a share of strongly consistent
reads, of BatchGetItem, of queries and a few scans. Requests are simulated one by one, minute
by minute, with a seeded ``random.Random``; reads are spread over the cluster's nodes, writes
go to the primary node (``<cluster>-a``).
"""

from __future__ import annotations

import math
import random
from collections import OrderedDict
from dataclasses import dataclass, field

# --------------------------------------------------------------------------- metric names

# Count metrics, in the order of the per-minute counter lists.
COUNT_METRICS: tuple[str, ...] = (
    "ItemCacheHits",
    "ItemCacheMisses",
    "QueryCacheHits",
    "QueryCacheMisses",
    "ScanCacheHits",
    "ScanCacheMisses",
    "GetItemRequestCount",
    "BatchGetItemRequestCount",
    "QueryRequestCount",
    "ScanRequestCount",
    "PutItemRequestCount",
    "UpdateItemRequestCount",
    "DeleteItemRequestCount",
    "TotalRequestCount",
    "ErrorRequestCount",
    "ThrottledRequestCount",
    "FaultRequestCount",
    "FailedRequestCount",
    "NetworkBytesIn",
    "NetworkBytesOut",
)
GAUGE_METRICS: tuple[str, ...] = (
    "CPUUtilization",
    "CacheMemoryUtilization",
    "EstimatedDbSize",
    "EvictedSize",
    "ClientConnections",
    "CPUCreditBalance",  # burstable node types only
)
METRIC_UNITS: dict[str, str] = {
    **dict.fromkeys(COUNT_METRICS, "Count"),
    "NetworkBytesIn": "Bytes",
    "NetworkBytesOut": "Bytes",
    "CPUUtilization": "Percent",
    "CacheMemoryUtilization": "Percent",
    "EstimatedDbSize": "Bytes",
    "EvictedSize": "Bytes",
    "ClientConnections": "Count",
    "CPUCreditBalance": "Count",  # credits (vCPU-minutes); CloudWatch has no "Credits" unit
}

(
    ITEM_HITS,
    ITEM_MISSES,
    QUERY_HITS,
    QUERY_MISSES,
    SCAN_HITS,
    SCAN_MISSES,
    GET_REQ,
    BATCH_REQ,
    QUERY_REQ,
    SCAN_REQ,
    PUT_REQ,
    UPDATE_REQ,
    DELETE_REQ,
    TOTAL_REQ,
    ERROR_REQ,
    THROTTLED_REQ,
    FAULT_REQ,
    FAILED_REQ,
    NET_IN,
    NET_OUT,
) = range(len(COUNT_METRICS))
# Internal counters kept after the published ones (per table and node, not published).
ITEM_READS_STRONG = len(COUNT_METRICS)  # items read strongly consistently (pass-through)
QUERY_STRONG = ITEM_READS_STRONG + 1  # strongly consistent queries (pass-through)
EVICTED_BYTES = QUERY_STRONG + 1  # simulated bytes evicted (not scaled up)
# Read units that reached the table, by cause.
RU_ITEM_MISSES = EVICTED_BYTES + 1  # item-cache misses (eventually consistent)
RU_STRONG_ITEMS = RU_ITEM_MISSES + 1  # strongly consistent GetItem/BatchGetItem
RU_QUERY_MISSES = RU_STRONG_ITEMS + 1  # query-cache misses of Query
RU_STRONG_QUERIES = RU_QUERY_MISSES + 1  # strongly consistent Query
RU_SCAN_MISSES = RU_STRONG_QUERIES + 1  # query-cache misses of Scan
READ_UNIT_COUNTERS: dict[str, int] = {
    "item_misses": RU_ITEM_MISSES,
    "strong_item_reads": RU_STRONG_ITEMS,
    "query_misses": RU_QUERY_MISSES,
    "strong_queries": RU_STRONG_QUERIES,
    "scan_misses": RU_SCAN_MISSES,
}
N_COUNTERS = RU_SCAN_MISSES + 1

# Operation codes of the simulated requests.
(
    OP_GET,
    OP_GET_STRONG,
    OP_BATCH,
    OP_BATCH_STRONG,
    OP_QUERY,
    OP_QUERY_STRONG,
    OP_SCAN,
    OP_PUT,
    OP_UPDATE,
    OP_DELETE,
) = range(10)
N_OPS = 10
WRITE_OPS = frozenset({OP_PUT, OP_UPDATE, OP_DELETE})

# --------------------------------------------------------------------------- node types

# Memory (GiB) and vCPUs of DAX node types.
NODE_TYPES: dict[str, tuple[float, int]] = {
    "dax.t2.small": (2.0, 1),
    "dax.t2.medium": (4.0, 2),
    "dax.t3.small": (2.0, 2),
    "dax.t3.medium": (4.0, 2),
    "dax.r4.large": (15.25, 2),
    "dax.r4.xlarge": (30.5, 4),
    "dax.r4.2xlarge": (61.0, 8),
    "dax.r5.large": (16.0, 2),
    "dax.r5.xlarge": (32.0, 4),
    "dax.r5.2xlarge": (64.0, 8),
    "dax.r5.4xlarge": (128.0, 16),
    "dax.r5.8xlarge": (256.0, 32),
}
CACHE_MEMORY_FRACTION = 0.8  # share of node memory DAX uses for its caches
# Burstable node types: baseline CPU per vCPU (the EC2 T instance a node runs on). A node
# earns ``baseline x vCPUs`` credits a minute, spends ``CPU % / 100 x vCPUs``, and holds at
# most a day of earnings (EC2's accrual limit).
BURSTABLE_BASELINE: dict[str, float] = {
    "dax.t2.small": 0.2,
    "dax.t2.medium": 0.2,
    "dax.t3.small": 0.2,
    "dax.t3.medium": 0.2,
}
THROTTLE_WITHOUT_CREDITS = 20.0  # throttle rate multiplier while a node has no CPU credit
# Network bytes besides the items themselves.
REQUEST_BYTES = 120  # a client request: headers, table name, key
RESPONSE_BYTES = 80  # a response's envelope
DYNAMODB_TRIP_BYTES = 400  # a request to DynamoDB or its answer's envelope
# Work units (hit = 1) one vCPU does per minute at 100 % in the scaled-down world.
CPU_WORK_PER_VCPU_MINUTE = 1800.0


# --------------------------------------------------------------------------- specs


@dataclass(frozen=True)
class TableSpec:
    """One DynamoDB table and the workload that reaches it through DAX."""

    name: str
    billing_mode: str = "PAY_PER_REQUEST"  # or "PROVISIONED"
    read_capacity: int = 0  # provisioned only
    write_capacity: int = 0  # provisioned only
    key_space: int = 20_000  # distinct items
    zipf_s: float = 1.0  # popularity skew (higher = hotter hot keys)
    item_kb: float = 1.0  # mean item size
    peak_rpm: float = 500.0  # simulated requests per minute at the daily peak
    trough_ratio: float = 0.3  # traffic at the trough relative to the peak
    peak_hour: float = 14.0  # UTC hour of the peak
    write_share: float = 0.08  # share of requests that are writes
    strong_share: float = 0.05  # share of reads (Get/BatchGet/Query) strongly consistent
    query_share: float = 0.15  # share of reads that are queries
    scan_share: float = 0.002  # share of reads that are scans
    batch_share: float = 0.05  # share of item reads sent as BatchGetItem
    batch_size: int = 8  # items per BatchGetItem
    query_kinds: int = 2_000  # distinct query parameter sets
    query_items: float = 6.0  # mean items per query result
    scan_kinds: int = 4  # distinct scan pages
    # Traffic trend over the simulated period: the rate at its end relative to its start
    # (exponential in between, on top of the daily sinusoid; 1.0 = no trend). ``peak_rpm``
    # is the peak rate at the end of the period.
    growth: float = 1.0
    hash_key: str = "pk"


@dataclass(frozen=True)
class ClusterSpec:
    """One DAX cluster and the tables it fronts."""

    name: str
    node_type: str
    nodes: int
    tables: tuple[TableSpec, ...]
    item_ttl_s: float = 300.0
    query_ttl_s: float = 300.0
    description: str = ""
    error_rate: float = 0.0003  # share of requests failing with a user error
    throttle_rate: float = 0.0001  # share of requests throttled at peak load
    fault_rate: float = 0.0  # share of requests failing with an internal error (HTTP 500)
    # CPU credits of each burstable node when the simulation starts (None: half the maximum).
    initial_cpu_credits: float | None = None
    memory_scale_down: int = 1024  # simulated memory = real memory / this
    # Each simulated request stands for this many real ones: the publisher multiplies the
    # counts (requests, hits, misses, read units) by it. A consistent scaled-down copy uses
    # the memory_scale_down factor (key space, memory and traffic all scaled by it).
    traffic_scale: int = 1
    item_cache_share: float = 0.7  # share of cache memory for the item cache
    node_metrics: bool = True  # also publish the ClusterId+NodeId series (as DAX does)

    @property
    def node_ids(self) -> list[str]:
        return [f"{self.name}-{chr(ord('a') + i)}" for i in range(self.nodes)]

    @property
    def cache_bytes(self) -> int:
        """Simulated bytes of cache memory (item + query cache)."""
        mem_gib = NODE_TYPES[self.node_type][0]
        return int(mem_gib * 2**30 * CACHE_MEMORY_FRACTION / self.memory_scale_down)

    @property
    def item_cache_bytes(self) -> int:
        return int(self.cache_bytes * self.item_cache_share)

    @property
    def query_cache_bytes(self) -> int:
        return self.cache_bytes - self.item_cache_bytes

    @property
    def vcpus(self) -> int:
        return NODE_TYPES[self.node_type][1]

    @property
    def burstable(self) -> bool:
        return self.node_type in BURSTABLE_BASELINE

    @property
    def credits_per_minute(self) -> float:
        """CPU credits a burstable node earns a minute (its baseline CPU)."""
        return BURSTABLE_BASELINE.get(self.node_type, 0.0) * self.vcpus

    @property
    def max_cpu_credits(self) -> float:
        return self.credits_per_minute * 60 * 24


# --------------------------------------------------------------------------- cache


class LruTtlCache:
    """An LRU cache bounded in bytes whose entries expire ``ttl`` seconds after being written.

    Hits move an entry to the most-recently-used end but do not extend its TTL. Expired
    entries are dropped lazily when looked up (a miss) or when they reach the LRU end (not
    counted as evicted then).
    """

    __slots__ = ("capacity", "ttl", "used", "_entries")

    def __init__(self, capacity_bytes: int, ttl_s: float):
        self.capacity = capacity_bytes
        self.ttl = ttl_s
        self.used = 0
        self._entries: OrderedDict[object, tuple[float, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def keys(self) -> list[object]:
        """Keys from least to most recently used."""
        return list(self._entries)

    def get(self, key: object, now: float) -> bool:
        """True on a hit; an expired entry is removed and reported as a miss."""
        entry = self._entries.get(key)
        if entry is None:
            return False
        if entry[0] <= now:
            del self._entries[key]
            self.used -= entry[1]
            return False
        self._entries.move_to_end(key)
        return True

    def put(self, key: object, size: int, now: float) -> int:
        """Write an entry (fresh TTL); returns the bytes evicted to make room.

        Entries dropped to make room whose TTL had already run out are not evictions: they
        were expired and only waited to be reclaimed (their bytes are not counted).
        """
        entries = self._entries
        old = entries.pop(key, None)
        if old is not None:
            self.used -= old[1]
        entries[key] = (now + self.ttl, size)
        self.used += size
        evicted = 0
        while self.used > self.capacity and entries:
            _, (expires, old_size) = entries.popitem(last=False)
            self.used -= old_size
            if expires > now:
                evicted += old_size
        return evicted

    def delete(self, key: object) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.used -= entry[1]


# --------------------------------------------------------------------------- workload


def zipf_cum_weights(n: int, s: float) -> list[float]:
    """Cumulative Zipf weights for ranks 0..n-1 (rank 0 is the most popular)."""
    total = 0.0
    cum = []
    for rank in range(1, n + 1):
        total += rank**-s
        cum.append(total)
    return cum


def read_units(size_bytes: int, strong: bool) -> float:
    """DynamoDB read units for reading ``size_bytes`` (per started 4 KB)."""
    units = max(1, math.ceil(size_bytes / 4096))
    return float(units) if strong else units / 2


def daily_factor(spec: TableSpec, epoch_s: float) -> float:
    """Traffic at this time of day relative to the peak (between trough_ratio and 1)."""
    hour = (epoch_s / 3600.0) % 24.0
    wave = (1.0 + math.cos(2 * math.pi * (hour - spec.peak_hour) / 24.0)) / 2.0
    return spec.trough_ratio + (1.0 - spec.trough_ratio) * wave


def trend_factor(growth: float, epoch_s: float, start: float, end: float) -> float:
    """``growth ** ((epoch_s - end) / (end - start))``: 1 at ``end``, 1/growth at ``start``."""
    if end <= start:
        return 1.0
    return growth ** ((epoch_s - end) / (end - start))


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class TableWorkload:
    """Precomputed per-table data: key popularity, item sizes, query results, op mix."""

    def __init__(self, spec: TableSpec, index: int, seed: object):
        self.spec = spec
        self.index = index
        rng = random.Random(f"{seed}:table:{spec.name}")
        self.key_range = range(spec.key_space)
        self.key_cw = zipf_cum_weights(spec.key_space, spec.zipf_s)
        mean_b = spec.item_kb * 1024
        self.item_bytes = [
            max(64, int(mean_b * rng.lognormvariate(0.0, 0.35))) for _ in self.key_range
        ]
        self.ru_eventual = [read_units(b, False) for b in self.item_bytes]
        self.ru_strong = [read_units(b, True) for b in self.item_bytes]
        self.query_bytes = [
            int(mean_b * (1 + int(rng.expovariate(1.0 / spec.query_items))))
            for _ in range(spec.query_kinds)
        ]
        self.query_ru_eventual = [read_units(b, False) for b in self.query_bytes]
        self.query_ru_strong = [read_units(b, True) for b in self.query_bytes]
        # A scan page is at most 1 MB of items.
        page = min(2**20, int(mean_b * min(spec.key_space, 1000)))
        self.scan_bytes = [page] * spec.scan_kinds
        self.scan_ru = [read_units(b, False) for b in self.scan_bytes]
        # Keys in the caches are ints: table index in the high bits.
        self.key_base = index << 32
        self.scan_base = self.key_base + (1 << 31)
        self.op_cw = self._op_cum_weights()

    def _op_cum_weights(self) -> list[float]:
        s = self.spec
        reads = 1.0 - s.write_share
        scan = reads * s.scan_share
        query = reads * s.query_share
        items = reads - scan - query
        batch = items * s.batch_share
        get = items - batch
        strong = s.strong_share
        weights = [0.0] * N_OPS
        weights[OP_GET] = get * (1 - strong)
        weights[OP_GET_STRONG] = get * strong
        weights[OP_BATCH] = batch * (1 - strong)
        weights[OP_BATCH_STRONG] = batch * strong
        weights[OP_QUERY] = query * (1 - strong)
        weights[OP_QUERY_STRONG] = query * strong
        weights[OP_SCAN] = scan
        weights[OP_PUT] = s.write_share * 0.5
        weights[OP_UPDATE] = s.write_share * 0.4
        weights[OP_DELETE] = s.write_share * 0.1
        cum, total = [], 0.0
        for w in weights:
            total += w
            cum.append(total)
        return cum

    def rate(self, epoch_s: float, period: tuple[float, float] | None) -> float:
        """Expected requests per minute at ``epoch_s`` (daily sinusoid times the trend)."""
        rate = self.spec.peak_rpm * daily_factor(self.spec, epoch_s)
        if period is not None and self.spec.growth != 1.0:
            start, end = period
            rate *= trend_factor(self.spec.growth, epoch_s, start, end)
        return rate

    def requests_in_minute(
        self, rng: random.Random, epoch_s: float, period: tuple[float, float] | None = None
    ) -> int:
        rate = self.rate(epoch_s + 30, period)
        rate *= max(0.0, rng.gauss(1.0, 0.05))
        return int(rate + rng.random())  # stochastic rounding


# --------------------------------------------------------------------------- cluster


@dataclass
class MinuteResult:
    """What one simulated minute produced."""

    epoch_s: float
    node_counts: list[list[float]]  # per node: N_COUNTERS counters
    node_gauges: list[dict[str, float]]  # per node: GAUGE_METRICS (EvictedSize scaled up)
    table_counts: list[list[float]]  # per table: N_COUNTERS counters

    @property
    def table_read_units(self) -> list[float]:
        """Per table: read units that reached the table (all causes)."""
        return [sum(row[RU_ITEM_MISSES : RU_SCAN_MISSES + 1]) for row in self.table_counts]


@dataclass
class ClusterSim:
    """Caches and workload of one cluster; call :meth:`run_minute` minute after minute."""

    spec: ClusterSpec
    seed: object = 42
    period: tuple[float, float] | None = None  # (start, end) epoch of the tables' growth
    rng: random.Random = field(init=False)
    item_cache: LruTtlCache = field(init=False)
    query_cache: LruTtlCache = field(init=False)
    tables: list[TableWorkload] = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(f"{self.seed}:cluster:{self.spec.name}")
        self.item_cache = LruTtlCache(self.spec.item_cache_bytes, self.spec.item_ttl_s)
        self.query_cache = LruTtlCache(self.spec.query_cache_bytes, self.spec.query_ttl_s)
        self.tables = [TableWorkload(t, i, self.seed) for i, t in enumerate(self.spec.tables)]
        self._peak_rpm = sum(t.peak_rpm for t in self.spec.tables) or 1.0
        start = self.spec.initial_cpu_credits
        if start is None:
            start = self.spec.max_cpu_credits / 2
        # Per node, burstable node types only.
        self.cpu_credits = [float(start)] * self.spec.nodes if self.spec.burstable else []

    # ----- single requests (used by the minute loop and directly by tests)

    def execute(self, op: int, table: int, key: int, now: float, counts: list[float]) -> None:
        """Run one request against the caches, adding what it did to ``counts``."""
        tw = self.tables[table]
        counts[NET_IN] += REQUEST_BYTES
        counts[NET_OUT] += RESPONSE_BYTES
        if op == OP_GET:
            counts[GET_REQ] += 1
            self._read_item(tw, key, now, counts)
        elif op in (OP_QUERY, OP_SCAN):
            scan = op == OP_SCAN
            if scan:
                counts[SCAN_REQ] += 1
                qid = key % len(tw.scan_bytes)
                ckey, size, units = tw.scan_base + qid, tw.scan_bytes[qid], tw.scan_ru[qid]
                ru_counter = RU_SCAN_MISSES
            else:
                counts[QUERY_REQ] += 1
                qid = key % len(tw.query_bytes)
                ckey, size = tw.key_base + qid, tw.query_bytes[qid]
                units = tw.query_ru_eventual[qid]
                ru_counter = RU_QUERY_MISSES
            counts[NET_OUT] += size  # the result, to the client
            if self.query_cache.get(ckey, now):
                counts[SCAN_HITS if scan else QUERY_HITS] += 1
            else:
                counts[SCAN_MISSES if scan else QUERY_MISSES] += 1
                counts[ru_counter] += units
                _dynamodb_trip(counts, size, 0)
                counts[EVICTED_BYTES] += self.query_cache.put(ckey, size, now)
        elif op == OP_BATCH:
            counts[BATCH_REQ] += 1
            n = self.spec.tables[table].batch_size
            keys = self.rng.choices(tw.key_range, cum_weights=tw.key_cw, k=n - 1)
            keys.append(key)
            for k in set(keys):
                self._read_item(tw, k, now, counts)
        elif op in (OP_PUT, OP_UPDATE):
            counts[PUT_REQ if op == OP_PUT else UPDATE_REQ] += 1
            counts[NET_IN] += tw.item_bytes[key]  # from the client
            _dynamodb_trip(counts, 0, tw.item_bytes[key])  # written through
            counts[EVICTED_BYTES] += self.item_cache.put(tw.key_base + key, tw.item_bytes[key], now)
        elif op == OP_DELETE:
            counts[DELETE_REQ] += 1
            _dynamodb_trip(counts, 0, 0)
            self.item_cache.delete(tw.key_base + key)
        elif op == OP_GET_STRONG:
            counts[GET_REQ] += 1
            counts[ITEM_READS_STRONG] += 1
            counts[RU_STRONG_ITEMS] += tw.ru_strong[key]
            counts[NET_OUT] += tw.item_bytes[key]
            _dynamodb_trip(counts, tw.item_bytes[key], 0)
        elif op == OP_BATCH_STRONG:
            counts[BATCH_REQ] += 1
            n = self.spec.tables[table].batch_size
            keys = set(self.rng.choices(tw.key_range, cum_weights=tw.key_cw, k=n - 1))
            keys.add(key)
            counts[ITEM_READS_STRONG] += len(keys)
            counts[RU_STRONG_ITEMS] += sum(tw.ru_strong[k] for k in keys)
            size = sum(tw.item_bytes[k] for k in keys)
            counts[NET_OUT] += size
            _dynamodb_trip(counts, size, 0)
        elif op == OP_QUERY_STRONG:
            counts[QUERY_REQ] += 1
            counts[QUERY_STRONG] += 1
            counts[RU_STRONG_QUERIES] += tw.query_ru_strong[key % len(tw.query_bytes)]
            size = tw.query_bytes[key % len(tw.query_bytes)]
            counts[NET_OUT] += size
            _dynamodb_trip(counts, size, 0)
        else:  # pragma: no cover - defensive
            raise ValueError(f"unknown op {op}")

    def _read_item(self, tw: TableWorkload, key: int, now: float, counts: list[float]) -> None:
        ckey = tw.key_base + key
        counts[NET_OUT] += tw.item_bytes[key]  # the item, to the client
        if self.item_cache.get(ckey, now):
            counts[ITEM_HITS] += 1
        else:
            counts[ITEM_MISSES] += 1
            counts[RU_ITEM_MISSES] += tw.ru_eventual[key]
            _dynamodb_trip(counts, tw.item_bytes[key], 0)
            counts[EVICTED_BYTES] += self.item_cache.put(ckey, tw.item_bytes[key], now)

    # ----- one minute

    def run_minute(self, epoch_s: float) -> MinuteResult:
        rng = self.rng
        spec = self.spec
        n_nodes = spec.nodes
        n_tables = len(self.tables)
        nodes = range(n_nodes)
        events: list[tuple[int, int, int, int]] = []
        for tw in self.tables:
            n = tw.requests_in_minute(rng, epoch_s, self.period)
            if n <= 0:
                continue
            ops = rng.choices(range(N_OPS), cum_weights=tw.op_cw, k=n)
            keys = rng.choices(tw.key_range, cum_weights=tw.key_cw, k=n)
            node_of = rng.choices(nodes, k=n)
            ti = tw.index
            events.extend(
                (ti, op, key, 0 if op in WRITE_OPS else node)
                for op, key, node in zip(ops, keys, node_of, strict=True)
            )
        if n_tables > 1:
            rng.shuffle(events)
        total = len(events)

        # Requests that fail: user errors anywhere, throttles more likely near the peak (and
        # while a burstable node is out of CPU credits), internal faults anywhere.
        load = sum(t.rate(epoch_s + 30, self.period) for t in self.tables) / self._peak_rpm
        throttle_rate = spec.throttle_rate * load**4
        if any(credits <= 0 for credits in self.cpu_credits):
            throttle_rate *= THROTTLE_WITHOUT_CREDITS
        n_err = min(total, _poisson(rng, total * spec.error_rate))
        n_thr = min(total - n_err, _poisson(rng, total * throttle_rate))
        n_fault = min(total - n_err - n_thr, _poisson(rng, total * spec.fault_rate))
        failed: dict[int, int] = {}
        if n_err or n_thr or n_fault:
            picked = rng.sample(range(total), n_err + n_thr + n_fault)
            failed = dict.fromkeys(picked[:n_err], ERROR_REQ)
            failed.update(dict.fromkeys(picked[n_err : n_err + n_thr], THROTTLED_REQ))
            failed.update(dict.fromkeys(picked[n_err + n_thr :], FAULT_REQ))

        # Counters per (node, table).
        cells = [[0.0] * N_COUNTERS for _ in range(n_nodes * n_tables)]
        dt = 60.0 / total if total else 0.0
        execute = self.execute
        for i, (ti, op, key, node) in enumerate(events):
            counts = cells[node * n_tables + ti]
            if failed and i in failed:
                counts[failed[i]] += 1
                if failed[i] == THROTTLED_REQ:  # AWS counts throttles as errors too
                    counts[ERROR_REQ] += 1
                counts[_REQUEST_COUNTER[op]] += 1
                counts[NET_IN] += REQUEST_BYTES
                counts[NET_OUT] += RESPONSE_BYTES
                continue
            execute(op, ti, key, epoch_s + i * dt, counts)

        node_counts = []
        for node in nodes:
            row = [0.0] * N_COUNTERS
            for ti in range(n_tables):
                for j, v in enumerate(cells[node * n_tables + ti]):
                    row[j] += v
            node_counts.append(row)
        table_counts = []
        for ti in range(n_tables):
            row = [0.0] * N_COUNTERS
            for node in nodes:
                for j, v in enumerate(cells[node * n_tables + ti]):
                    row[j] += v
            table_counts.append(row)
        for row in (*node_counts, *table_counts):
            row[TOTAL_REQ] = sum(row[GET_REQ : DELETE_REQ + 1])
            row[FAILED_REQ] = row[ERROR_REQ] + row[FAULT_REQ]
        return MinuteResult(
            epoch_s=epoch_s,
            node_counts=node_counts,
            node_gauges=[self._gauges(node, node_counts[node]) for node in nodes],
            table_counts=table_counts,
        )

    def _gauges(self, node: int, c: list[float]) -> dict[str, float]:
        spec = self.spec
        rng = self.rng
        work = (
            c[ITEM_HITS]
            + c[QUERY_HITS]
            + 3 * (c[ITEM_MISSES] + c[QUERY_MISSES] + c[ITEM_READS_STRONG] + c[QUERY_STRONG])
            + 2 * c[SCAN_HITS]
            + 25 * c[SCAN_MISSES]
            + 2 * (c[BATCH_REQ])
            + 4 * (c[PUT_REQ] + c[UPDATE_REQ] + c[DELETE_REQ])
        )
        capacity = spec.vcpus * CPU_WORK_PER_VCPU_MINUTE
        cpu = 2.0 + (1.5 if node == 0 else 0.0) + 90.0 * work / capacity + rng.uniform(-0.5, 0.5)
        cpu = round(min(99.5, max(0.5, cpu)), 2)
        used = self.item_cache.used + self.query_cache.used
        memory_pct = 100.0 * used / max(1, spec.cache_bytes)
        scale = spec.memory_scale_down
        gauges = {
            "CPUUtilization": cpu,
            "CacheMemoryUtilization": round(memory_pct, 2),
            "EstimatedDbSize": float(used * scale),
            "EvictedSize": float(c[EVICTED_BYTES] * scale),
            "ClientConnections": float(2 + round(c[TOTAL_REQ] / 40 + rng.random() * 2)),
        }
        if spec.burstable:
            gauges["CPUUtilization"], gauges["CPUCreditBalance"] = self._spend_credits(node, cpu)
        return gauges

    def _spend_credits(self, node: int, cpu: float) -> tuple[float, float]:
        """A burstable node's minute: (CPU %, credit balance at its end). Without credits
        the node cannot go above its baseline."""
        spec = self.spec
        earned = spec.credits_per_minute
        if self.cpu_credits[node] <= 0:
            cpu = min(cpu, round(100.0 * earned / spec.vcpus, 2))
        balance = self.cpu_credits[node] + earned - cpu / 100.0 * spec.vcpus
        self.cpu_credits[node] = min(spec.max_cpu_credits, max(0.0, balance))
        return cpu, round(self.cpu_credits[node], 2)


def _dynamodb_trip(counts: list[float], received: float, sent: float) -> None:
    """A round trip to DynamoDB: ``received`` bytes of items in, ``sent`` bytes out."""
    counts[NET_IN] += DYNAMODB_TRIP_BYTES + received
    counts[NET_OUT] += DYNAMODB_TRIP_BYTES + sent


_REQUEST_COUNTER = {
    OP_GET: GET_REQ,
    OP_GET_STRONG: GET_REQ,
    OP_BATCH: BATCH_REQ,
    OP_BATCH_STRONG: BATCH_REQ,
    OP_QUERY: QUERY_REQ,
    OP_QUERY_STRONG: QUERY_REQ,
    OP_SCAN: SCAN_REQ,
    OP_PUT: PUT_REQ,
    OP_UPDATE: UPDATE_REQ,
    OP_DELETE: DELETE_REQ,
}


def simulate(
    spec: ClusterSpec, start_epoch: float, minutes: int, seed: object = 42, warmup: int = 10
) -> list[MinuteResult]:
    """Simulate ``minutes`` minutes from ``start_epoch`` after ``warmup`` unrecorded minutes.

    A table's ``growth`` runs over these minutes: its rate at the last one is ``growth`` times
    the rate at the first (daily sinusoid aside).
    """
    sim = ClusterSim(spec, seed, period=(start_epoch, start_epoch + 60 * minutes))
    for m in range(warmup, 0, -1):
        sim.run_minute(start_epoch - 60 * m)
    return [sim.run_minute(start_epoch + 60 * m) for m in range(minutes)]


def scale_counts(results: list[MinuteResult], factor: float) -> None:
    """Multiply every count of ``results`` in place by ``factor`` (not the simulated evicted
    bytes, which the EvictedSize gauge already scaled by ``memory_scale_down``)."""
    if factor == 1:
        return
    for minute in results:
        for row in (*minute.node_counts, *minute.table_counts):
            for j in range(N_COUNTERS):
                if j != EVICTED_BYTES and row[j]:
                    row[j] *= factor


def hit_ratio(
    results: list[MinuteResult], hits: int = ITEM_HITS, misses: int = ITEM_MISSES
) -> float:
    """Hit ratio over all nodes and minutes (item cache by default)."""
    h = sum(r.node_counts[n][hits] for r in results for n in range(len(r.node_counts)))
    m = sum(r.node_counts[n][misses] for r in results for n in range(len(r.node_counts)))
    return h / (h + m) if h + m else 0.0


__all__ = [
    "COUNT_METRICS",
    "GAUGE_METRICS",
    "METRIC_UNITS",
    "NODE_TYPES",
    "ClusterSim",
    "ClusterSpec",
    "LruTtlCache",
    "MinuteResult",
    "TableSpec",
    "daily_factor",
    "hit_ratio",
    "read_units",
    "scale_counts",
    "simulate",
    "trend_factor",
    "zipf_cum_weights",
]
