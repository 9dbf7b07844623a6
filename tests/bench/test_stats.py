"""Percentiles, per-level figures, overhead and saturation from fixed numbers."""

from __future__ import annotations

import math

import pytest

from bench.load import LevelRun, TurnResult
from bench.stats import Latency, LevelStats, level_stats, overhead, percentile, saturation_level


def turn(
    ms: float, outcome: str = "ok", path: str = "rasa", status: int | None = None
) -> TurnResult:
    return TurnResult(
        target="gateway",
        script="en-latin-screening",
        kind="entitlement",
        path=path,
        outcome=outcome,
        latency_ms=ms,
        status=status,
    )


def test_percentiles_interpolate_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 0.5) == pytest.approx(50.5)
    assert percentile(values, 0.95) == pytest.approx(95.05)
    assert percentile(values, 0.0) == 1.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([7.0], 0.99) == 7.0
    assert percentile(reversed(values), 0.5) == pytest.approx(50.5)


def test_no_values_is_nan_not_zero() -> None:
    assert math.isnan(percentile([], 0.5))
    assert Latency.of([]).count == 0


def test_a_share_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError):
        percentile([1.0], 1.5)


def test_timeouts_and_errors_count_but_have_no_latency() -> None:
    results = (
        turn(100),
        turn(200),
        turn(300, outcome="lost"),
        turn(400, outcome="wrong", path="crisis"),
        turn(15_000, outcome="timeout"),
        turn(5, outcome="error", status=502),
        turn(3, outcome="error"),
    )
    stats = level_stats(LevelRun("gateway", 20, elapsed_s=2.0, results=results))

    assert stats.turns == 7
    assert stats.latency.count == 4
    assert stats.latency.p50 == pytest.approx(250)
    assert stats.latency.max == 400
    assert stats.throughput == pytest.approx(2.0)
    assert (stats.errors, stats.server_errors, stats.timeouts, stats.lost, stats.wrong) == (
        2,
        1,
        1,
        1,
        1,
    )
    assert stats.failures == 5
    crisis = level_stats(LevelRun("gateway", 20, elapsed_s=2.0, results=results), path="crisis")
    assert (crisis.turns, crisis.wrong) == (1, 1)


def test_overhead_compares_only_turns_both_sent_to_rasa() -> None:
    gateway = LevelRun(
        "gateway",
        5,
        1.0,
        (turn(110), turn(120), turn(130), turn(10, path="menu"), turn(50, path="crisis")),
    )
    rasa = LevelRun("rasa", 5, 1.0, (turn(100), turn(100), turn(100), turn(90, path="menu")))
    figures = overhead(gateway, rasa)
    assert figures.ratio_p50 == pytest.approx(1.2)
    assert figures.added_ms == pytest.approx(20)
    assert figures.ratio_p95 == pytest.approx(129 / 100)


def test_overhead_needs_the_same_level() -> None:
    with pytest.raises(ValueError):
        overhead(LevelRun("gateway", 5, 1.0, ()), LevelRun("rasa", 20, 1.0, ()))


def _at(level: int, throughput: float) -> LevelStats:
    run = LevelRun("gateway", level, 1.0, tuple(turn(100) for _ in range(int(throughput))))
    return level_stats(run)


def test_saturation_is_where_throughput_stops_growing() -> None:
    stats = [_at(1, 8), _at(5, 20), _at(20, 21), _at(50, 19)]
    assert saturation_level(stats) == 20
    assert saturation_level([_at(1, 8), _at(5, 20), _at(20, 40)]) is None
    assert saturation_level([]) is None
