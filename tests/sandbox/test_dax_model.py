"""The DAX cache model (sandbox.daxsim): pure Python, no AWS."""

from dataclasses import replace

import pytest

from sandbox import daxsim
from sandbox.daxsim import (
    ClusterSim,
    ClusterSpec,
    LruTtlCache,
    TableSpec,
    hit_ratio,
    read_units,
    simulate,
)

T0 = 1_767_225_600.0  # 2026-01-01 00:00 UTC


def counters() -> list[float]:
    return [0.0] * daxsim.N_COUNTERS


def one_table_cluster(**table_kwargs) -> ClusterSpec:
    table = TableSpec(name="Things", key_space=1_000, item_kb=2.0, **table_kwargs)
    return ClusterSpec(name="things-cache", node_type="dax.r5.large", nodes=2, tables=(table,))


# --------------------------------------------------------------------------- LRU + TTL


def test_an_entry_hits_before_its_ttl_and_misses_after_it_expired():
    cache = LruTtlCache(capacity_bytes=10_000, ttl_s=300)
    cache.put("k", 100, now=0.0)
    assert cache.get("k", now=299.0)
    assert not cache.get("k", now=300.0)
    assert "k" not in cache
    assert cache.used == 0


def test_a_hit_does_not_extend_the_ttl():
    cache = LruTtlCache(capacity_bytes=10_000, ttl_s=60)
    cache.put("k", 100, now=0.0)
    assert cache.get("k", now=50.0)
    assert not cache.get("k", now=61.0)


def test_writing_an_entry_again_restarts_its_ttl():
    cache = LruTtlCache(capacity_bytes=10_000, ttl_s=60)
    cache.put("k", 100, now=0.0)
    cache.put("k", 120, now=50.0)
    assert cache.get("k", now=100.0)
    assert cache.used == 120


def test_the_least_recently_used_entry_is_evicted_first():
    cache = LruTtlCache(capacity_bytes=300, ttl_s=300)
    for key in ("a", "b", "c"):
        cache.put(key, 100, now=0.0)
    assert cache.get("a", now=1.0)  # a becomes the most recently used
    evicted = cache.put("d", 100, now=2.0)
    assert evicted == 100
    assert cache.keys() == ["c", "a", "d"]
    assert "b" not in cache


def test_eviction_frees_as_many_bytes_as_a_large_entry_needs():
    cache = LruTtlCache(capacity_bytes=300, ttl_s=300)
    for key in ("a", "b", "c"):
        cache.put(key, 100, now=0.0)
    assert cache.put("big", 250, now=1.0) == 300
    assert cache.keys() == ["big"]
    assert cache.used == 250


# --------------------------------------------------------------------------- read units


@pytest.mark.parametrize(
    ("size", "strong", "units"),
    [(1, False, 0.5), (4096, False, 0.5), (4097, False, 1.0), (4097, True, 2.0), (100, True, 1.0)],
)
def test_read_units_are_counted_per_started_4_kb(size, strong, units):
    assert read_units(size, strong) == units


# --------------------------------------------------------------------------- requests


def test_a_get_item_misses_then_hits_and_only_the_miss_reaches_the_table():
    sim = ClusterSim(one_table_cluster(), seed=1)
    tw = sim.tables[0]
    counts = counters()
    sim.execute(daxsim.OP_GET, 0, 7, T0, counts)
    sim.execute(daxsim.OP_GET, 0, 7, T0 + 1, counts)
    assert counts[daxsim.ITEM_MISSES] == 1
    assert counts[daxsim.ITEM_HITS] == 1
    assert counts[daxsim.GET_REQ] == 2
    assert counts[daxsim.RU_ITEM_MISSES] == tw.ru_eventual[7]


def test_put_item_writes_through_into_the_item_cache():
    sim = ClusterSim(one_table_cluster(), seed=1)
    counts = counters()
    sim.execute(daxsim.OP_PUT, 0, 11, T0, counts)
    sim.execute(daxsim.OP_GET, 0, 11, T0 + 1, counts)
    assert counts[daxsim.PUT_REQ] == 1
    assert counts[daxsim.ITEM_HITS] == 1
    assert counts[daxsim.ITEM_MISSES] == 0
    assert counts[daxsim.RU_ITEM_MISSES] == 0


def test_update_item_refreshes_an_item_whose_ttl_ran_out():
    sim = ClusterSim(one_table_cluster(), seed=1)
    counts = counters()
    sim.execute(daxsim.OP_GET, 0, 3, T0, counts)  # miss, cached until T0 + 300
    sim.execute(daxsim.OP_UPDATE, 0, 3, T0 + 290, counts)  # write-through: until T0 + 590
    sim.execute(daxsim.OP_GET, 0, 3, T0 + 400, counts)
    assert counts[daxsim.ITEM_HITS] == 1
    assert counts[daxsim.UPDATE_REQ] == 1


def test_delete_item_evicts_the_item_from_the_item_cache():
    sim = ClusterSim(one_table_cluster(), seed=1)
    counts = counters()
    sim.execute(daxsim.OP_GET, 0, 5, T0, counts)
    sim.execute(daxsim.OP_DELETE, 0, 5, T0 + 1, counts)
    sim.execute(daxsim.OP_GET, 0, 5, T0 + 2, counts)
    assert counts[daxsim.ITEM_MISSES] == 2
    assert counts[daxsim.DELETE_REQ] == 1


def test_writes_do_not_invalidate_the_query_cache():
    sim = ClusterSim(one_table_cluster(), seed=1)
    counts = counters()
    sim.execute(daxsim.OP_QUERY, 0, 42, T0, counts)
    for op in (daxsim.OP_PUT, daxsim.OP_UPDATE, daxsim.OP_DELETE):
        sim.execute(op, 0, 42, T0 + 1, counts)
    sim.execute(daxsim.OP_QUERY, 0, 42, T0 + 2, counts)
    assert counts[daxsim.QUERY_MISSES] == 1
    assert counts[daxsim.QUERY_HITS] == 1


def test_a_query_miss_consumes_read_units_for_its_whole_result():
    sim = ClusterSim(one_table_cluster(query_items=20), seed=1)
    tw = sim.tables[0]
    counts = counters()
    sim.execute(daxsim.OP_QUERY, 0, 9, T0, counts)
    assert counts[daxsim.RU_QUERY_MISSES] == read_units(tw.query_bytes[9], strong=False)


def test_scans_share_the_query_cache_and_count_as_scan_hits_and_misses():
    sim = ClusterSim(one_table_cluster(), seed=1)
    counts = counters()
    sim.execute(daxsim.OP_SCAN, 0, 0, T0, counts)
    sim.execute(daxsim.OP_SCAN, 0, 0, T0 + 1, counts)
    assert counts[daxsim.SCAN_MISSES] == 1
    assert counts[daxsim.SCAN_HITS] == 1
    assert counts[daxsim.QUERY_HITS] + counts[daxsim.QUERY_MISSES] == 0
    assert len(sim.query_cache) == 1


def test_strongly_consistent_reads_bypass_the_cache():
    sim = ClusterSim(one_table_cluster(), seed=1)
    tw = sim.tables[0]
    counts = counters()
    sim.execute(daxsim.OP_GET, 0, 2, T0, counts)  # cached
    sim.execute(daxsim.OP_GET_STRONG, 0, 2, T0 + 1, counts)
    sim.execute(daxsim.OP_GET_STRONG, 0, 8, T0 + 2, counts)  # not cached, stays so
    assert counts[daxsim.GET_REQ] == 3
    assert counts[daxsim.ITEM_HITS] + counts[daxsim.ITEM_MISSES] == 1
    assert counts[daxsim.ITEM_READS_STRONG] == 2
    assert counts[daxsim.RU_STRONG_ITEMS] == tw.ru_strong[2] + tw.ru_strong[8]
    assert tw.key_base + 8 not in sim.item_cache


def test_strongly_consistent_queries_bypass_the_query_cache():
    sim = ClusterSim(one_table_cluster(), seed=1)
    counts = counters()
    sim.execute(daxsim.OP_QUERY_STRONG, 0, 4, T0, counts)
    sim.execute(daxsim.OP_QUERY_STRONG, 0, 4, T0 + 1, counts)
    assert counts[daxsim.QUERY_REQ] == 2
    assert counts[daxsim.QUERY_HITS] + counts[daxsim.QUERY_MISSES] == 0
    assert len(sim.query_cache) == 0


def test_batch_get_item_is_one_request_with_one_cache_lookup_per_item():
    sim = ClusterSim(one_table_cluster(batch_size=8), seed=1)
    counts = counters()
    sim.execute(daxsim.OP_BATCH, 0, 1, T0, counts)
    assert counts[daxsim.BATCH_REQ] == 1
    assert 1 <= counts[daxsim.ITEM_MISSES] <= 8
    assert len(sim.item_cache) == counts[daxsim.ITEM_MISSES]


# --------------------------------------------------------------------------- minutes


def test_higher_zipf_skew_gives_a_higher_hit_ratio():
    ratios = []
    for skew in (0.6, 1.0, 1.4):
        spec = one_table_cluster(zipf_s=skew, peak_rpm=400)
        ratios.append(hit_ratio(simulate(spec, T0, 30, seed=3)))
    assert ratios[0] < ratios[1] < ratios[2]


def test_a_longer_ttl_gives_a_higher_hit_ratio():
    spec = one_table_cluster(zipf_s=0.8, peak_rpm=400)
    short = hit_ratio(simulate(replace(spec, item_ttl_s=30), T0, 30, seed=3))
    long = hit_ratio(simulate(replace(spec, item_ttl_s=600), T0, 30, seed=3))
    assert short < long


def test_an_undersized_cache_evicts_and_reports_evicted_bytes():
    spec = ClusterSpec(
        name="tiny-cache",
        node_type="dax.t3.small",
        nodes=1,
        memory_scale_down=65_536,
        tables=(TableSpec(name="Big", key_space=20_000, item_kb=8.0, zipf_s=0.8),),
    )
    minutes = simulate(spec, T0, 20, seed=5)
    assert sum(m.node_counts[0][daxsim.EVICTED_BYTES] for m in minutes) > 0
    assert all(
        m.node_gauges[0]["EvictedSize"] == m.node_counts[0][daxsim.EVICTED_BYTES] * 65_536
        for m in minutes
    )
    # The item cache (70 % of the memory) is full.
    assert max(m.node_gauges[0]["CacheMemoryUtilization"] for m in minutes) > 60


def test_the_same_seed_gives_the_same_minutes_and_another_seed_does_not():
    spec = one_table_cluster()
    first, again = simulate(spec, T0, 5, seed=9), simulate(spec, T0, 5, seed=9)
    other = simulate(spec, T0, 5, seed=10)
    assert [m.node_counts for m in first] == [m.node_counts for m in again]
    assert [m.node_counts for m in first] != [m.node_counts for m in other]


def test_writes_go_to_the_primary_node_and_reads_spread_over_all_nodes():
    spec = replace(one_table_cluster(write_share=0.2), nodes=3)
    minutes = simulate(spec, T0, 10, seed=2)
    writes = [sum(m.node_counts[n][daxsim.PUT_REQ] for m in minutes) for n in range(3)]
    reads = [sum(m.node_counts[n][daxsim.GET_REQ] for m in minutes) for n in range(3)]
    assert writes[0] > 0
    assert writes[1] == writes[2] == 0
    assert all(r > 0 for r in reads)


def test_item_hits_plus_misses_are_the_eventually_consistent_get_items():
    spec = replace(
        one_table_cluster(strong_share=0.3, batch_share=0.0), error_rate=0.0, throttle_rate=0.0
    )
    minutes = simulate(spec, T0, 10, seed=4)
    table = [sum(m.table_counts[0][i] for m in minutes) for i in range(daxsim.N_COUNTERS)]
    assert table[daxsim.ITEM_READS_STRONG] > 0
    eventual_gets = table[daxsim.GET_REQ] - table[daxsim.ITEM_READS_STRONG]
    assert table[daxsim.ITEM_HITS] + table[daxsim.ITEM_MISSES] == eventual_gets


def test_failed_requests_count_as_requests_but_touch_no_cache():
    spec = replace(
        one_table_cluster(
            batch_share=0.0, strong_share=0.0, query_share=0.0, scan_share=0.0, write_share=0.0
        ),
        error_rate=0.05,
    )
    minutes = simulate(spec, T0, 5, seed=4)
    table = [sum(m.table_counts[0][i] for m in minutes) for i in range(daxsim.N_COUNTERS)]
    failed = table[daxsim.FAILED_REQ]
    assert failed > 0
    assert failed == table[daxsim.ERROR_REQ] + table[daxsim.FAULT_REQ]
    assert table[daxsim.ITEM_HITS] + table[daxsim.ITEM_MISSES] == table[daxsim.GET_REQ] - failed


def test_total_requests_are_the_sum_of_the_operation_counts():
    minutes = simulate(one_table_cluster(), T0, 5, seed=4)
    for m in minutes:
        for row in m.node_counts:
            ops = row[daxsim.GET_REQ : daxsim.DELETE_REQ + 1]
            assert row[daxsim.TOTAL_REQ] == sum(ops)


def test_traffic_peaks_at_the_tables_peak_hour():
    table = TableSpec(name="Peaky", peak_hour=14.0, trough_ratio=0.2)
    assert daxsim.daily_factor(table, T0 + 14 * 3600) == pytest.approx(1.0)
    assert daxsim.daily_factor(table, T0 + 2 * 3600) == pytest.approx(0.2)


def test_cpu_follows_the_request_load():
    spec = one_table_cluster(peak_hour=12.0, trough_ratio=0.1, peak_rpm=3000)
    peak = simulate(spec, T0 + 12 * 3600, 5, seed=1)
    trough = simulate(spec, T0, 5, seed=1)
    cpu = [
        sum(m.node_gauges[0]["CPUUtilization"] for m in minutes) / 5 for minutes in (peak, trough)
    ]
    assert cpu[0] > cpu[1]


def test_entries_dropped_after_their_ttl_are_not_counted_as_evicted():
    cache = LruTtlCache(capacity_bytes=200, ttl_s=60)
    cache.put("old", 100, now=0.0)
    cache.put("live", 100, now=50.0)
    assert cache.put("new", 100, now=70.0) == 0  # "old" had expired: reclaimed, not evicted
    assert cache.put("newer", 100, now=71.0) == 100  # "live" had not
    assert cache.keys() == ["new", "newer"]


def test_growth_multiplies_the_rate_over_the_simulated_period():
    table = TableSpec(name="Growing", trough_ratio=1.0, peak_rpm=600, growth=3.0)
    spec = ClusterSpec(name="growing-cache", node_type="dax.r5.large", nodes=1, tables=(table,))
    minutes = simulate(spec, T0, 60, seed=1, warmup=0)
    first = sum(m.node_counts[0][daxsim.TOTAL_REQ] for m in minutes[:10])
    last = sum(m.node_counts[0][daxsim.TOTAL_REQ] for m in minutes[-10:])
    assert 2.0 < last / first < 3.0  # 3 ** (50 / 60) = 2.5 between the two middles
    assert daxsim.trend_factor(3.0, T0, T0, T0 + 3600) == pytest.approx(1 / 3)


def test_scale_counts_multiplies_counts_but_not_the_simulated_evicted_bytes():
    minutes = simulate(one_table_cluster(), T0, 3, seed=2)
    before = [row[:] for m in minutes for row in (*m.node_counts, *m.table_counts)]
    daxsim.scale_counts(minutes, 1024)
    after = [row for m in minutes for row in (*m.node_counts, *m.table_counts)]
    for old, new in zip(before, after, strict=True):
        assert new[daxsim.TOTAL_REQ] == old[daxsim.TOTAL_REQ] * 1024
        assert new[daxsim.RU_ITEM_MISSES] == old[daxsim.RU_ITEM_MISSES] * 1024
        assert new[daxsim.EVICTED_BYTES] == old[daxsim.EVICTED_BYTES]


# --------------------------------------------------------------------------- failures, network


def test_throttles_count_as_errors_and_failed_requests_are_errors_plus_faults():
    spec = replace(one_table_cluster(), error_rate=0.02, throttle_rate=0.05, fault_rate=0.02)
    minutes = simulate(spec, T0 + 14 * 3600, 5, seed=4)  # the table's peak: throttles likely
    for m in minutes:
        for row in m.node_counts:
            assert row[daxsim.ERROR_REQ] >= row[daxsim.THROTTLED_REQ]
            assert row[daxsim.FAILED_REQ] == row[daxsim.ERROR_REQ] + row[daxsim.FAULT_REQ]
    faults = sum(m.node_counts[n][daxsim.FAULT_REQ] for m in minutes for n in (0, 1))
    throttled = sum(m.node_counts[n][daxsim.THROTTLED_REQ] for m in minutes for n in (0, 1))
    assert faults > 0 and throttled > 0


def test_no_fault_without_a_fault_rate():
    minutes = simulate(one_table_cluster(), T0, 10, seed=4)
    assert not any(row[daxsim.FAULT_REQ] for m in minutes for row in m.node_counts)


def test_network_bytes_carry_requests_items_and_the_trips_to_dynamodb():
    sim = ClusterSim(one_table_cluster(), seed=1)
    tw = sim.tables[0]
    hit, miss = counters(), counters()
    sim.execute(daxsim.OP_GET, 0, 7, T0, miss)  # miss: fetched from DynamoDB
    sim.execute(daxsim.OP_GET, 0, 7, T0 + 1, hit)  # hit: from the cache
    size = tw.item_bytes[7]
    assert hit[daxsim.NET_IN] == daxsim.REQUEST_BYTES
    assert hit[daxsim.NET_OUT] == daxsim.RESPONSE_BYTES + size
    assert miss[daxsim.NET_IN] == daxsim.REQUEST_BYTES + daxsim.DYNAMODB_TRIP_BYTES + size
    assert miss[daxsim.NET_OUT] == hit[daxsim.NET_OUT] + daxsim.DYNAMODB_TRIP_BYTES
    write = counters()
    sim.execute(daxsim.OP_PUT, 0, 8, T0 + 2, write)  # from the client, then written through
    assert write[daxsim.NET_IN] == daxsim.REQUEST_BYTES + tw.item_bytes[8] + (
        daxsim.DYNAMODB_TRIP_BYTES
    )
    assert (
        write[daxsim.NET_OUT]
        == daxsim.RESPONSE_BYTES + daxsim.DYNAMODB_TRIP_BYTES + (tw.item_bytes[8])
    )


def test_network_bytes_scale_with_the_traffic_like_the_other_counts():
    spec = one_table_cluster()
    minutes = simulate(spec, T0, 3, seed=2)
    before = minutes[0].node_counts[0][daxsim.NET_OUT]
    daxsim.scale_counts(minutes, 4)
    assert minutes[0].node_counts[0][daxsim.NET_OUT] == before * 4


def burstable(**kwargs) -> ClusterSpec:
    table = TableSpec(name="Hot", key_space=500, item_kb=1.0, peak_rpm=6000, trough_ratio=1.0)
    return ClusterSpec(
        name="small-cache", node_type="dax.t3.small", nodes=1, tables=(table,), **kwargs
    )


def test_only_burstable_nodes_have_a_cpu_credit_balance():
    assert burstable().burstable and not one_table_cluster().burstable
    [m] = simulate(one_table_cluster(), T0, 1, seed=1)
    assert "CPUCreditBalance" not in m.node_gauges[0]
    # t3.small: 2 vCPUs at a 20 % baseline earn 0.4 credits a minute, a day of them at most
    assert burstable().credits_per_minute == pytest.approx(0.4)
    assert burstable().max_cpu_credits == pytest.approx(576)


def test_credits_drain_above_the_baseline_and_then_hold_the_node_to_it():
    spec = burstable(initial_cpu_credits=30.0)
    minutes = simulate(spec, T0, 60, seed=1, warmup=0)
    balances = [m.node_gauges[0]["CPUCreditBalance"] for m in minutes]
    cpu = [m.node_gauges[0]["CPUUtilization"] for m in minutes]
    assert cpu[0] > 20  # busy: above the 20 % baseline
    assert balances[0] < 30 and balances == sorted(balances, reverse=True)
    assert balances[-1] == 0.0
    empty = balances.index(0.0)
    assert all(c <= 20.0 for c in cpu[empty + 1 :])  # held to the baseline without credits


def test_an_idle_burstable_node_earns_credits_up_to_a_day_of_them():
    spec = burstable(initial_cpu_credits=575.9)
    quiet = replace(spec, tables=(replace(spec.tables[0], peak_rpm=1.0),))
    minutes = simulate(quiet, T0, 5, seed=1, warmup=0)
    assert [m.node_gauges[0]["CPUCreditBalance"] for m in minutes][-1] == 576.0
