"""Figures from turn results: percentiles, throughput, failures, the gateway's overhead."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass

from bench.load import LevelRun, TurnResult

ANSWERED = ("ok", "lost", "wrong")  # an HTTP 200 came back in time: its latency counts


def percentile(values: Iterable[float], share: float) -> float:
    """The `share` quantile (0..1), interpolated between the two nearest ranks.

    Returns NaN for no values, so that an empty level shows as such instead of as zero.
    """
    if not 0 <= share <= 1:
        raise ValueError("share must lie between 0 and 1")
    ordered = sorted(values)
    if not ordered:
        return math.nan
    position = share * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Latency:
    """Percentiles of answered turns, in milliseconds."""

    count: int
    p50: float
    p95: float
    p99: float
    mean: float
    max: float

    @classmethod
    def of(cls, results: Iterable[TurnResult]) -> Latency:
        """The latency of the turns that were answered (timeouts and errors excluded)."""
        values = [r.latency_ms for r in results if r.outcome in ANSWERED]
        if not values:
            return cls(0, math.nan, math.nan, math.nan, math.nan, math.nan)
        return cls(
            count=len(values),
            p50=percentile(values, 0.50),
            p95=percentile(values, 0.95),
            p99=percentile(values, 0.99),
            mean=sum(values) / len(values),
            max=max(values),
        )


@dataclass(frozen=True)
class LevelStats:
    """What one target did at one concurrency level."""

    target: str
    level: int
    turns: int
    latency: Latency
    throughput: float  # answered turns per second over the level's wall time
    errors: int  # transport errors and non-200 answers
    server_errors: int  # of which 5xx
    timeouts: int
    lost: int  # a 200 without any message
    wrong: int  # a crisis turn answered without the crisis helpline number
    elapsed_s: float

    @property
    def failures(self) -> int:
        """Every turn a person would have missed or been failed by."""
        return self.errors + self.timeouts + self.lost + self.wrong


def level_stats(run: LevelRun, *, path: str | None = None) -> LevelStats:
    """Figures for one level's turns, optionally only those of one gateway path."""
    results = [r for r in run.results if path is None or r.path == path]
    outcomes = [r.outcome for r in results]
    latency = Latency.of(results)
    return LevelStats(
        target=run.target,
        level=run.level,
        turns=len(results),
        latency=latency,
        throughput=latency.count / run.elapsed_s if run.elapsed_s > 0 else math.nan,
        errors=outcomes.count("error"),
        server_errors=sum(1 for r in results if r.status is not None and r.status >= 500),
        timeouts=outcomes.count("timeout"),
        lost=outcomes.count("lost"),
        wrong=outcomes.count("wrong"),
        elapsed_s=run.elapsed_s,
    )


@dataclass(frozen=True)
class Overhead:
    """The gateway's turn against Rasa's own, on turns the gateway passes to Rasa."""

    level: int
    gateway_p50: float
    rasa_p50: float
    gateway_p95: float
    rasa_p95: float

    @property
    def ratio_p50(self) -> float:
        """Gateway median / Rasa median (1.10 means 10 % overhead)."""
        return self.gateway_p50 / self.rasa_p50 if self.rasa_p50 > 0 else math.nan

    @property
    def ratio_p95(self) -> float:
        """The same at the 95th percentile."""
        return self.gateway_p95 / self.rasa_p95 if self.rasa_p95 > 0 else math.nan

    @property
    def added_ms(self) -> float:
        """What the gateway adds to the median turn, in milliseconds."""
        return self.gateway_p50 - self.rasa_p50


def overhead(gateway: LevelRun, rasa: LevelRun) -> Overhead:
    """Compare the turns both targets sent to Rasa (path 'rasa') at one level."""
    if gateway.level != rasa.level:
        raise ValueError("compare runs of the same level")
    ours = Latency.of(r for r in gateway.results if r.path == "rasa")
    theirs = Latency.of(r for r in rasa.results if r.path == "rasa")
    return Overhead(
        level=gateway.level,
        gateway_p50=ours.p50,
        rasa_p50=theirs.p50,
        gateway_p95=ours.p95,
        rasa_p95=theirs.p95,
    )


def saturation_level(stats: list[LevelStats], *, gain: float = 1.10) -> int | None:
    """The first level whose throughput is less than `gain` times the level before it.

    That is where adding people stops adding answered turns: the machine is saturated.
    None when throughput kept growing at every level measured.
    """
    ordered = sorted(stats, key=lambda s: s.level)
    for before, level in itertools.pairwise(ordered):
        if not level.throughput >= gain * before.throughput:
            return level.level
    return None
