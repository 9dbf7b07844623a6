"""Latency and throughput against concurrency, gateway beside Rasa, as a PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and in CI

import matplotlib.pyplot as plt

from bench.report import TARGET_P95_LEVEL, TARGET_P95_MS, LevelFigures


def plot_levels(levels: tuple[LevelFigures, ...], path: Path, *, subtitle: str = "") -> None:
    """Write the two panels (turn latency, throughput) to `path`."""
    people = [f.level for f in levels]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    for name, colour, pick in (
        ("gateway", "tab:blue", lambda f: f.gateway),
        ("Rasa direct (paired)", "tab:orange", lambda f: f.rasa),
    ):
        stats = [pick(f) for f in levels]
        left.plot(people, [s.latency.p50 for s in stats], "o-", color=colour, label=f"{name} p50")
        left.plot(people, [s.latency.p95 for s in stats], "s--", color=colour, label=f"{name} p95")
        left.plot(people, [s.latency.p99 for s in stats], ":", color=colour, label=f"{name} p99")
    right.plot(
        people, [f.gateway.throughput for f in levels], "o-", color="tab:blue", label="gateway"
    )
    right.plot(
        people,
        [f.paired_throughput for f in levels],
        "o-",
        color="tab:orange",
        label="paired (half gateway, half Rasa direct)",
    )
    left.plot([TARGET_P95_LEVEL], [TARGET_P95_MS], "r*", markersize=12, label="p95 target at 20")
    for axis in (left, right):
        axis.set_xscale("log")
        axis.set_xticks(people, [str(p) for p in people])
        axis.set_xlabel("people talking at once")
        axis.grid(True, alpha=0.3)
    left.set_yscale("log")
    left.set_ylabel("turn latency (ms)")
    left.set_title("Turn latency")
    left.legend(fontsize=7)
    right.set_ylim(bottom=0)
    right.set_ylabel("answered turns per second")
    right.set_title("Throughput")
    right.legend(fontsize=8)
    figure.suptitle("Sahay: gateway beside Rasa direct" + (f" — {subtitle}" if subtitle else ""))
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
