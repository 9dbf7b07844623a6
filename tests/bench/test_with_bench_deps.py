"""The parts that need the `bench` dependency group (`make bench` installs it).

Skipped when matplotlib, psutil or pyinstrument are missing: `make test` runs without them.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from tests.bench.test_report import report


def test_the_plot_is_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the bench dependency group is not installed")
    from bench.plot import plot_levels

    path = tmp_path / "results" / "latency.png"
    plot_levels(report().levels, path, subtitle="test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_peak_memory_follows_the_processes_it_is_given() -> None:
    pytest.importorskip("psutil", reason="the bench dependency group is not installed")
    from bench.memory import PeakMemory, tree_rss

    assert tree_rss(os.getpid(), children=False) > 10 * 2**20
    assert tree_rss(2**22 + 12345) == 0  # no such process
    names = {"me": (os.getpid(), False)}
    with PeakMemory(lambda: names, interval=0.01) as memory:
        time.sleep(0.05)
        names = {"gone": (2**22 + 12345, True)}
    assert memory.peaks["me"] > 10 * 2**20
    assert "gone" not in memory.peaks
    assert memory.samples >= 2


def test_handler_profiles_skip_the_warm_up_and_merge_threads(tmp_path: Path) -> None:
    pytest.importorskip("pyinstrument", reason="the bench dependency group is not installed")
    from bench.profiled_gateway import HandlerProfiles, write_profiles

    def handler(*, text: str) -> str:
        deadline = time.perf_counter() + 0.02
        while time.perf_counter() < deadline:
            pass
        return text.upper()

    profiles = HandlerProfiles(skip=2)
    wrapped = profiles.wrap(handler)
    assert [wrapped(text="a"), wrapped(text="b")] == ["A", "B"]
    assert profiles.warm.is_set() and profiles.sessions == []
    threads = [threading.Thread(target=wrapped, kwargs={"text": "c"}) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert profiles.warm.is_set()
    assert len(profiles.sessions) == 3
    combined = profiles.combined()
    assert combined is not None
    roots = {stack[0] for stack, _ in combined.frame_records}
    assert len(roots) == 1
    write_profiles(tmp_path, combined, len(profiles.sessions), None)
    assert "3 calls of handle_inbound" in (tmp_path / "profile-handler.txt").read_text()
    assert (tmp_path / "profile-handler.html").stat().st_size > 0
    assert (tmp_path / "profile-breakdown.json").exists()


def test_the_command_line(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the bench dependency group is not installed")
    pytest.importorskip("psutil", reason="the bench dependency group is not installed")
    from bench.run import parse_args

    args = parse_args(["--levels", "20,1,5,5", "--turns", "20", "--out", str(tmp_path)])
    assert args.levels == [1, 5, 20]
    assert (args.turns, args.out) == (20, tmp_path)
    for bad in (["--levels", "a,b"], ["--levels", "0,5"], ["--turns", "0"], ["--timeout", "-1"]):
        with pytest.raises(SystemExit):
            parse_args(bad)
