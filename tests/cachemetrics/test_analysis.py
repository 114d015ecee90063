"""Pure analysis: hit ratios, per-table split, savings arithmetic, break-even, flags.

The expected numbers are worked out by hand in the comments.
"""

import ast
from pathlib import Path

import pytest

from cachemetrics import analysis, pricing
from cachemetrics.analysis import (
    CacheCounts,
    HealthInput,
    TableReads,
    TableUse,
    health_flags,
    per_table,
    savings,
)


def test_hit_ratio_is_hits_over_hits_plus_misses_and_none_without_lookups():
    assert analysis.hit_ratio(90, 10) == 0.9
    assert analysis.hit_ratio(0, 0) is None
    assert analysis.hit_ratio(0, 5) == 0.0


def test_combined_ratio_pools_item_query_and_scan_caches():
    counts = CacheCounts(item_hits=80, item_misses=20, query_hits=10, query_misses=30)
    assert counts.item == 0.8
    assert counts.query == 0.25
    assert counts.scan is None
    assert counts.combined == 90 / 140


def test_bucket_ratios_leave_buckets_without_lookups_empty():
    assert analysis.bucket_ratios([3, 0, None], [1, 0, 2]) == [0.75, None, 0.0]


def test_read_units_are_half_a_unit_per_started_4_kb():
    assert pricing.eventual_read_units(0.2) == 0.5
    assert pricing.eventual_read_units(4.0) == 0.5
    assert pricing.eventual_read_units(4.1) == 1.0
    assert pricing.eventual_read_units(9) == 1.5
    assert pricing.strong_read_units(6) == 2.0


def test_a_single_table_cluster_gets_exact_figures():
    cluster = CacheCounts(item_hits=900, item_misses=100)

    [figures] = per_table(cluster, [TableReads("Orders", consumed_read_units=70)])

    assert figures.exact and figures.label == "exact"
    assert figures.counts == cluster
    assert figures.hit_ratio == 0.9


def test_a_two_table_cluster_is_split_by_share_of_reads_and_marked_estimated():
    cluster = CacheCounts(item_hits=900, item_misses=100)
    # Products: 300 RCU of 3 KB items = 600 reads; Reviews: 400 RCU of 6 KB items = 400 reads
    tables = [
        TableReads("Products", consumed_read_units=300, item_kb=3),
        TableReads("Reviews", consumed_read_units=400, item_kb=6),
    ]

    products, reviews = per_table(cluster, tables)

    assert (products.share, reviews.share) == (pytest.approx(0.6), pytest.approx(0.4))
    assert products.counts.item_hits == pytest.approx(540)
    assert reviews.counts.item_misses == pytest.approx(40)
    assert not products.exact and products.label == "estimated"
    assert "share of the read requests" in products.method


def test_on_demand_savings_against_node_cost_by_hand():
    # 1,000,000 hits in 1 h of 1.5 KB items: 500,000 RRU x $0.125/M = $0.0625 per hour,
    # x 730 h = $45.625 a month. Three dax.r5.large: 3 x $0.269 x 730 = $589.11 a month.
    cost = pricing.cluster_monthly_usd(0.269, 3)
    result = savings(
        [TableUse("Orders", hits=1_000_000, lookups=1_250_000, item_kb=1.5)],
        window_hours=1,
        monthly_cost_usd=cost,
    )

    assert cost == pytest.approx(589.11)
    assert result.read_units_saved == 500_000
    assert result.saved_usd_window == pytest.approx(0.0625)
    assert result.monthly_saving_usd == pytest.approx(45.625)
    assert result.net_monthly_usd == pytest.approx(45.625 - 589.11)
    assert result.pays_for_itself is False
    # Every one of the 1.25 M lookups a hit: $0.078125/h -> $57.03125/month;
    # break-even = 589.11 / 57.03125 = 10.33 -> more than 100 %: never pays off.
    assert result.break_even_hit_ratio == pytest.approx(589.11 / 57.03125)
    assert result.break_even_reachable is False


def test_break_even_hit_ratio_is_reachable_for_a_busy_table():
    # 2,000 lookups/s of 8 KB items for 24 h = 172.8 M lookups; value of a hit: 1 RRU.
    # All hits: 172.8 M x $0.125/M = $21.60 a day -> x 730/24 = $657.00 a month.
    # One dax.t3.small: $0.04 x 730 = $29.20 -> break-even 29.20 / 657 = 4.44 %.
    lookups = 2000 * 86400
    result = savings(
        [TableUse("Hot", hits=0.9 * lookups, lookups=lookups, item_kb=8)],
        window_hours=24,
        monthly_cost_usd=29.2,
    )
    assert result.break_even_hit_ratio == pytest.approx(29.2 / 657.0)
    assert result.monthly_saving_usd == pytest.approx(0.9 * 657.0)
    assert result.net_monthly_usd == pytest.approx(0.9 * 657.0 - 29.2)
    assert result.pays_for_itself is True


def test_provisioned_savings_price_released_rcu_hours_and_carry_the_caveat():
    # 3,600,000 hits in 1 h of 2 KB items = 1,800,000 RCU-seconds = 500 RCU for the hour:
    # 500 x $0.00013 = $0.065 for the hour -> $47.45 a month.
    result = savings(
        [
            TableUse(
                "Products", hits=3_600_000, lookups=4_000_000, item_kb=2, billing_mode="PROVISIONED"
            )
        ],
        window_hours=1,
        monthly_cost_usd=None,
    )
    assert result.saved_usd_window == pytest.approx(0.065)
    assert result.monthly_saving_usd == pytest.approx(47.45)
    assert result.net_monthly_usd is None and result.break_even_hit_ratio is None
    assert analysis.PROVISIONED_CAVEAT in result.caveats


def test_a_healthy_cluster_has_no_flags():
    assert (
        health_flags(
            HealthInput(
                item_hit_ratio=0.95,
                total_requests=10_000,
                memory_avg_pct=40,
                cpu_avg_pct=20,
                cpu_max_pct=35,
                table_reads=1400,
                cache_misses=500,
                net_monthly_usd=10,
            )
        )
        == []
    )


def test_flags_say_why():
    flags = health_flags(
        HealthInput(
            item_hit_ratio=0.62,
            threshold=0.8,
            total_requests=10_000,
            error_requests=205,  # AWS counts the throttled requests in ErrorRequestCount
            throttled_requests=5,
            evicted_first_half=1_000,
            evicted_second_half=3_000,
            memory_avg_pct=92,
            cpu_avg_pct=75,
            cpu_max_pct=97,
            table_reads=4_000,
            cache_misses=1_000,
            net_monthly_usd=-120.5,
        )
    )
    reasons = {f.code: f.reason for f in flags}

    assert list(reasons) == [
        "low_hit_ratio",
        "cache_too_small",
        "throttled",
        "errors",
        "cpu_high",
        "bypass",
        "costs_more",
    ]
    assert "62.0 % is below this cluster's threshold of 80.0 %" in reasons["low_hit_ratio"]
    assert "3.0×" in reasons["cache_too_small"] and "92 %" in reasons["cache_too_small"]
    assert "5 requests were throttled (0.1 % of requests)" in reasons["throttled"]
    assert "200 requests failed with a user error (2.0 % of requests)" in reasons["errors"]
    assert "4.0× the cache misses" in reasons["bypass"]
    assert "$120.50 a month more" in reasons["costs_more"]


def test_evictions_alone_are_not_a_full_cache_when_memory_is_low():
    flags = health_flags(
        HealthInput(evicted_first_half=10, evicted_second_half=100, memory_avg_pct=30)
    )
    assert flags == []


def test_the_analysis_modules_import_only_the_standard_library():
    allowed_local = {"cachemetrics", "cachemetrics.catalog", "cachemetrics.pricing"}
    for name in ("analysis.py", "pricing.py", "catalog.py"):
        tree = ast.parse((Path(analysis.__file__).parent / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                assert module in allowed_local or top in {
                    "__future__",
                    "collections",
                    "dataclasses",
                    "datetime",
                    "math",
                    "typing",
                }, f"{name} imports {module}"


def test_throttled_requests_are_not_counted_again_as_user_errors():
    # AWS counts throttled requests in ErrorRequestCount: 300 errors, 300 of them throttles.
    flags = health_flags(
        HealthInput(total_requests=10_000, error_requests=300, throttled_requests=300)
    )
    assert [f.code for f in flags] == ["throttled"]


@pytest.mark.parametrize(("faults", "level"), [(3, "warning"), (150, "critical")])
def test_any_internal_error_is_flagged_and_says_where_to_look(faults, level):
    [flag] = health_flags(HealthInput(total_requests=10_000, fault_requests=faults))

    assert (flag.code, flag.level, flag.title) == ("faults", level, "Internal errors")
    assert f"{faults} requests failed with an internal error (HTTP 500" in flag.reason
    assert "SystemErrors" in flag.reason


def test_no_fault_no_fault_flag():
    assert health_flags(HealthInput(total_requests=10_000, fault_requests=0)) == []


@pytest.mark.parametrize(
    ("lowest", "level", "title", "says"),
    [
        (12.5, "warning", "CPU credits near zero", "Node cache-b fell to 12.5 CPU credits"),
        (0.0, "critical", "Out of CPU credits", "Node cache-b ran out of CPU credits"),
    ],
)
def test_cpu_credits_near_zero_are_flagged_with_what_it_means(lowest, level, title, says):
    [flag] = health_flags(HealthInput(cpu_credits_lowest=lowest, cpu_credits_node="cache-b"))

    assert (flag.code, flag.level, flag.title) == ("cpu_credits", level, title)
    assert says in flag.reason
    assert "held to its baseline" in flag.reason and "throttles" in flag.reason


def test_enough_cpu_credits_or_no_burstable_node_is_not_flagged():
    assert health_flags(HealthInput(cpu_credits_lowest=analysis.LOW_CPU_CREDITS)) == []
    assert health_flags(HealthInput(cpu_credits_lowest=None)) == []


def test_a_minute_with_cpu_but_no_credit_balance_had_a_zero_balance():
    # DAX publishes only non-zero values.
    assert analysis.lowest_credit_balance(35.0, credit_minutes=58, cpu_minutes=60) == 0.0
    assert analysis.lowest_credit_balance(35.0, credit_minutes=60, cpu_minutes=60) == 35.0
    assert analysis.lowest_credit_balance(None, credit_minutes=0, cpu_minutes=0) is None


def test_scan_share_is_scans_over_queries_plus_scans():
    assert analysis.scan_share(queries=90, scans=10) == pytest.approx(0.1)
    assert analysis.scan_share(0, 0) is None
