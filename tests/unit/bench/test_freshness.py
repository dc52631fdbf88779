"""bench.freshness's latency model: a post waits for the next run that starts after it, then for its page."""

from __future__ import annotations

import statistics

from bench.freshness import FLUSH_SECONDS, simulate_latency, summary


def test_a_short_run_every_tick_costs_half_a_tick_plus_the_pages_position() -> None:
    # 100 requests at 1 s fit in a 300 s tick: a run starts on every tick
    latencies = simulate_latency([(100, [9])], posts=2000, interval=300, delay=1.0, seed=1)
    assert len(latencies) == 2000
    assert all(10 + FLUSH_SECONDS <= x <= 300 + 10 + FLUSH_SECONDS for x in latencies)
    assert 130 + 15 <= statistics.median(latencies) <= 170 + 15  # half a tick, uniform arrivals


def test_a_run_longer_than_the_interval_skips_ticks_until_it_ends() -> None:
    # 1000 s runs on a 300 s schedule start every 1200 s (ticks during a run are skipped)
    latencies = simulate_latency([(1000, [999])], posts=2000, interval=300, delay=1.0, seed=2)
    assert all(1000 + FLUSH_SECONDS <= x <= 1200 + 1000 + FLUSH_SECONDS for x in latencies)
    assert 600 + 1005 - 60 <= statistics.median(latencies) <= 600 + 1005 + 60


def test_runs_are_taken_in_turn_and_a_run_without_new_pages_borrows_the_pooled_positions() -> None:
    latencies = simulate_latency([(10, []), (10, [4])], posts=500, interval=300, delay=1.0, seed=3)
    assert min(latencies) >= 5 + FLUSH_SECONDS
    assert summary(latencies)["max_s"] <= 300 + 5 + FLUSH_SECONDS
    assert summary([])["median_s"] != summary([])["median_s"]  # NaN: nothing to report
