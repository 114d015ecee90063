"""Cache efficiency and economics: pure functions over metric totals (stdlib only).

* Hit ratio = hits / (hits + misses), per cache (item, query, scan) and combined.
* Per table: CloudWatch has no per-table DAX dimension. A cluster fronting one table gives
  exact figures; for several tables the cluster's hits and misses are apportioned by each
  table's share of the reads that reached DynamoDB (``ESTIMATE_METHOD``), marked "estimated".
* Savings: every cache hit is an eventually consistent read DynamoDB did not serve
  (0.5 RCU per started 4 KB), priced on-demand per read request unit or, for provisioned
  tables, as the RCU-hours that could be released; against the cluster's node-hours.
* Health flags with the reason spelled out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cachemetrics import catalog
from cachemetrics.pricing import HOURS_PER_MONTH, ReadPrices, eventual_read_units

ON_DEMAND = "PAY_PER_REQUEST"
PROVISIONED = "PROVISIONED"

ESTIMATE_METHOD = (
    "Estimated: CloudWatch has no per-table DAX metrics, so the cluster's hits and misses "
    "are split by each table's share of the read requests that reached DynamoDB "
    "(ConsumedReadCapacityUnits ÷ read units per read for the table's item size). "
    "This assumes every table behind the cluster has the same hit ratio."
)
EXACT_METHOD = (
    "Exact: the cluster fronts only this table, so all its hits and misses are this table's."
)
PROVISIONED_CAVEAT = (
    "Provisioned table: the saving is real only if the table's provisioned read capacity is "
    "lowered by the reads the cache absorbs (and sized for the cache being cold after a "
    "failover)."
)
QUERY_HIT_NOTE = "A query or scan cache hit is counted as one item-sized read."

# Health thresholds
EVICTION_GROWTH = 1.25  # second half of the window evicts 25 % more than the first
MEMORY_HIGH_PCT = 80.0
CPU_AVG_HIGH_PCT = 70.0
CPU_MAX_HIGH_PCT = 90.0
ERROR_SHARE_HIGH = 0.01
BYPASS_FACTOR = 3.0  # table reads above 3 x cache misses (query misses read several items)
BYPASS_MIN_READS = 100
# One CPU credit = one vCPU at 100 % for one minute: 20 credits is ten minutes of a two-vCPU
# node at full speed.
LOW_CPU_CREDITS = 20.0


def hit_ratio(hits: float, misses: float) -> float | None:
    """hits / (hits + misses); None when there was no lookup."""
    lookups = hits + misses
    return hits / lookups if lookups > 0 else None


@dataclass(frozen=True)
class CacheCounts:
    item_hits: float = 0.0
    item_misses: float = 0.0
    query_hits: float = 0.0
    query_misses: float = 0.0
    scan_hits: float = 0.0
    scan_misses: float = 0.0

    @classmethod
    def from_totals(cls, totals: Mapping[str, float]) -> CacheCounts:
        get = lambda name: float(totals.get(name) or 0.0)  # noqa: E731
        return cls(
            item_hits=get(catalog.ITEM_HITS),
            item_misses=get(catalog.ITEM_MISSES),
            query_hits=get(catalog.QUERY_HITS),
            query_misses=get(catalog.QUERY_MISSES),
            scan_hits=get(catalog.SCAN_HITS),
            scan_misses=get(catalog.SCAN_MISSES),
        )

    @property
    def hits(self) -> float:
        return self.item_hits + self.query_hits + self.scan_hits

    @property
    def misses(self) -> float:
        return self.item_misses + self.query_misses + self.scan_misses

    @property
    def lookups(self) -> float:
        return self.hits + self.misses

    @property
    def item(self) -> float | None:
        return hit_ratio(self.item_hits, self.item_misses)

    @property
    def query(self) -> float | None:
        return hit_ratio(self.query_hits, self.query_misses)

    @property
    def scan(self) -> float | None:
        return hit_ratio(self.scan_hits, self.scan_misses)

    @property
    def combined(self) -> float | None:
        return hit_ratio(self.hits, self.misses)

    def scaled(self, share: float) -> CacheCounts:
        return CacheCounts(
            *(getattr(self, f) * share for f in self.__dataclass_fields__)  # type: ignore[arg-type]
        )

    def ratios(self) -> dict[str, float | None]:
        return {
            "item": self.item,
            "query": self.query,
            "scan": self.scan,
            "combined": self.combined,
        }


def scan_share(queries: float, scans: float) -> float | None:
    """Scans / (queries + scans); None without either."""
    total = queries + scans
    return scans / total if total > 0 else None


def lowest_credit_balance(
    lowest_published: float | None, credit_minutes: int, cpu_minutes: int
) -> float | None:
    """The lowest CPU credit balance of a node over minutes where it published ``cpu_minutes``
    CPU values and ``credit_minutes`` balances: DAX publishes only non-zero values, so a minute
    with a CPU value but no balance had a balance of 0."""
    if cpu_minutes > credit_minutes:
        return 0.0
    return lowest_published


def bucket_ratios(
    hits: Sequence[float | None], misses: Sequence[float | None]
) -> list[float | None]:
    """Hit ratio per time bucket (None where a bucket had no lookup)."""
    return [hit_ratio(h or 0.0, m or 0.0) for h, m in zip(hits, misses, strict=True)]


# --------------------------------------------------------------------------- per table


@dataclass(frozen=True)
class TableReads:
    """What we know of one table behind a cluster."""

    name: str
    consumed_read_units: float  # AWS/DynamoDB ConsumedReadCapacityUnits, Sum over the window
    item_kb: float = 1.0
    billing_mode: str = ON_DEMAND

    @property
    def reads_reaching_table(self) -> float:
        """Read requests that reached DynamoDB, assuming eventually consistent item reads."""
        return self.consumed_read_units / eventual_read_units(self.item_kb)


@dataclass(frozen=True)
class TableFigures:
    name: str
    counts: CacheCounts
    share: float  # of the cluster's hits and misses
    exact: bool
    method: str

    @property
    def hit_ratio(self) -> float | None:
        return self.counts.item

    @property
    def label(self) -> str:
        return "exact" if self.exact else "estimated"


def per_table(cluster: CacheCounts, tables: Sequence[TableReads]) -> list[TableFigures]:
    """Split a cluster's counts between its tables: exact for one, estimated for several."""
    if not tables:
        return []
    if len(tables) == 1:
        return [TableFigures(tables[0].name, cluster, 1.0, True, EXACT_METHOD)]
    reads = [t.reads_reaching_table for t in tables]
    total = sum(reads)
    shares = [r / total for r in reads] if total > 0 else [1 / len(tables)] * len(tables)
    return [
        TableFigures(t.name, cluster.scaled(share), share, False, ESTIMATE_METHOD)
        for t, share in zip(tables, shares, strict=True)
    ]


# --------------------------------------------------------------------------- savings


def value_per_hit_usd(item_kb: float, billing_mode: str, prices: ReadPrices) -> float:
    """What one cache hit saves: an eventually consistent read DynamoDB did not serve."""
    units = eventual_read_units(item_kb)
    if billing_mode == PROVISIONED:
        # one read unit for one second = 1/3600 RCU-hour of capacity that can be released
        return units * prices.provisioned_per_rcu_hour / 3600.0
    return units * prices.on_demand_per_million_rru / 1_000_000


@dataclass(frozen=True)
class TableUse:
    """Cache use of one table over the window (exact or estimated)."""

    name: str
    hits: float
    lookups: float
    item_kb: float = 1.0
    billing_mode: str = ON_DEMAND


@dataclass(frozen=True)
class Savings:
    window_hours: float
    hits: float
    read_units_saved: float
    saved_usd_window: float
    monthly_saving_usd: float
    monthly_cost_usd: float | None
    net_monthly_usd: float | None
    break_even_hit_ratio: float | None  # None: no traffic or unknown cost
    caveats: tuple[str, ...] = field(default_factory=tuple)

    @property
    def pays_for_itself(self) -> bool | None:
        return None if self.net_monthly_usd is None else self.net_monthly_usd >= 0

    @property
    def break_even_reachable(self) -> bool | None:
        return None if self.break_even_hit_ratio is None else self.break_even_hit_ratio <= 1.0


def savings(
    tables: Sequence[TableUse],
    window_hours: float,
    monthly_cost_usd: float | None,
    prices: ReadPrices | None = None,
) -> Savings:
    """Monthly read savings of the cache against its monthly node cost.

    The window's figures are extrapolated to a month (730 h). The break-even hit ratio is the
    ratio at which the same lookups would save exactly the node cost.
    """
    prices = prices or ReadPrices()
    if window_hours <= 0:
        raise ValueError("window_hours must be positive")
    scale = HOURS_PER_MONTH / window_hours
    hits = sum(t.hits for t in tables)
    units = sum(t.hits * eventual_read_units(t.item_kb) for t in tables)
    saved = sum(t.hits * value_per_hit_usd(t.item_kb, t.billing_mode, prices) for t in tables)
    value_if_all_hit = sum(
        t.lookups * value_per_hit_usd(t.item_kb, t.billing_mode, prices) for t in tables
    )
    monthly = saved * scale
    net = None if monthly_cost_usd is None else monthly - monthly_cost_usd
    break_even = None
    if monthly_cost_usd is not None and value_if_all_hit > 0:
        break_even = monthly_cost_usd / (value_if_all_hit * scale)
    caveats = []
    if any(t.billing_mode == PROVISIONED for t in tables):
        caveats.append(PROVISIONED_CAVEAT)
    caveats.append(QUERY_HIT_NOTE)
    return Savings(
        window_hours=window_hours,
        hits=hits,
        read_units_saved=units,
        saved_usd_window=saved,
        monthly_saving_usd=monthly,
        monthly_cost_usd=monthly_cost_usd,
        net_monthly_usd=net,
        break_even_hit_ratio=break_even,
        caveats=tuple(caveats),
    )


# --------------------------------------------------------------------------- health


@dataclass(frozen=True)
class Flag:
    code: str
    level: str  # "critical", "warning" or "info"
    title: str
    reason: str


@dataclass(frozen=True)
class HealthInput:
    item_hit_ratio: float | None = None
    threshold: float = 0.8
    total_requests: float = 0.0
    error_requests: float = 0.0
    throttled_requests: float = 0.0  # AWS counts them in error_requests too
    fault_requests: float = 0.0
    evicted_first_half: float = 0.0
    evicted_second_half: float = 0.0
    memory_avg_pct: float | None = None
    cpu_avg_pct: float | None = None
    cpu_max_pct: float | None = None
    table_reads: float | None = None  # read requests that reached the fronted tables
    cache_misses: float = 0.0
    net_monthly_usd: float | None = None
    cpu_credits_lowest: float | None = None  # lowest balance of a burstable node, None if none
    cpu_credits_node: str = ""


def _pct(x: float) -> str:
    return f"{x * 100:.1f} %"


def health_flags(h: HealthInput) -> list[Flag]:
    flags: list[Flag] = []
    if h.item_hit_ratio is not None and h.item_hit_ratio < h.threshold:
        flags.append(
            Flag(
                "low_hit_ratio",
                "warning",
                "Low hit ratio",
                f"Item cache hit ratio {_pct(h.item_hit_ratio)} is below this cluster's "
                f"threshold of {_pct(h.threshold)}.",
            )
        )
    rising = h.evicted_second_half > h.evicted_first_half * EVICTION_GROWTH
    if (
        rising
        and h.evicted_second_half > 0
        and h.memory_avg_pct is not None
        and h.memory_avg_pct >= MEMORY_HIGH_PCT
    ):
        growth = (
            f"{h.evicted_second_half / h.evicted_first_half:.1f}×"
            if h.evicted_first_half
            else "from nothing"
        )
        flags.append(
            Flag(
                "cache_too_small",
                "warning",
                "Cache too small",
                f"Evictions are rising ({growth} in the second half of the period) while cache "
                f"memory utilization averages {h.memory_avg_pct:.0f} %: items leave the cache "
                "before they are read again. Consider a larger node type.",
            )
        )
    if h.throttled_requests > 0:
        share = h.throttled_requests / h.total_requests if h.total_requests else 0.0
        flags.append(
            Flag(
                "throttled",
                "critical" if share >= ERROR_SHARE_HIGH else "warning",
                "Throttled requests",
                f"{h.throttled_requests:,.0f} requests were throttled ({_pct(share)} of "
                "requests): the cluster is at capacity.",
            )
        )
    user_errors = max(0.0, h.error_requests - h.throttled_requests)
    if h.total_requests and user_errors / h.total_requests >= ERROR_SHARE_HIGH:
        flags.append(
            Flag(
                "errors",
                "warning",
                "Failed requests",
                f"{user_errors:,.0f} requests failed with a user error "
                f"({_pct(user_errors / h.total_requests)} of requests): invalid requests, "
                "failed conditions or missing permissions (throttled requests aside).",
            )
        )
    if h.fault_requests > 0:
        share = h.fault_requests / h.total_requests if h.total_requests else 0.0
        flags.append(
            Flag(
                "faults",
                "critical" if share >= ERROR_SHARE_HIGH else "warning",
                "Internal errors",
                f"{h.fault_requests:,.0f} requests failed with an internal error (HTTP 500, "
                f"{_pct(share)} of requests), in DAX itself or in the DynamoDB table behind it "
                "(see the table's SystemErrors metric). Clients retry them; if they go on, "
                "contact AWS Support.",
            )
        )
    cpu_high = (h.cpu_avg_pct is not None and h.cpu_avg_pct >= CPU_AVG_HIGH_PCT) or (
        h.cpu_max_pct is not None and h.cpu_max_pct >= CPU_MAX_HIGH_PCT
    )
    if cpu_high:
        flags.append(
            Flag(
                "cpu_high",
                "warning",
                "High CPU",
                f"CPU utilization averages {h.cpu_avg_pct or 0:.0f} % (peak "
                f"{h.cpu_max_pct or 0:.0f} %); add nodes or use a larger node type.",
            )
        )
    if h.cpu_credits_lowest is not None and h.cpu_credits_lowest < LOW_CPU_CREDITS:
        out = h.cpu_credits_lowest <= 0
        fell = "ran out of" if out else f"fell to {h.cpu_credits_lowest:,.1f}"
        flags.append(
            Flag(
                "cpu_credits",
                "critical" if out else "warning",
                "Out of CPU credits" if out else "CPU credits near zero",
                f"Node {h.cpu_credits_node} {fell} CPU credits"
                " (one credit is one vCPU at 100 % for a minute). A burstable T node earns "
                "credits while it runs below its baseline CPU and spends them above it; without "
                "credits it is held to its baseline, so DAX throttles requests and latency "
                "rises. If this recurs, move to a larger or an R node type (no credits).",
            )
        )
    if (
        h.table_reads is not None
        and h.table_reads >= BYPASS_MIN_READS
        and h.table_reads > BYPASS_FACTOR * h.cache_misses
    ):
        ratio = h.table_reads / h.cache_misses if h.cache_misses else float("inf")
        times = f"{ratio:.1f}×" if ratio != float("inf") else "far above"
        flags.append(
            Flag(
                "bypass",
                "warning",
                "Reads bypass the cache",
                f"The tables served {h.table_reads:,.0f} reads, {times} the cache misses "
                f"({h.cache_misses:,.0f}): strongly consistent reads, or clients not going "
                "through DAX, bypass the cache. (Reads are counted as item-sized eventually "
                "consistent reads; query misses that read many items also raise this figure.)",
            )
        )
    if h.net_monthly_usd is not None and h.net_monthly_usd < 0:
        flags.append(
            Flag(
                "costs_more",
                "info",
                "Costs more than it saves",
                f"The nodes cost ${-h.net_monthly_usd:,.2f} a month more than the reads the "
                "cache absorbs; it pays only for latency.",
            )
        )
    return flags
