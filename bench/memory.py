"""Peak memory (RSS) of each helpline process, sampled in a background thread."""

from __future__ import annotations

import threading
from collections.abc import Callable

import psutil


def tree_rss(pid: int, *, children: bool = True) -> int:
    """Resident memory of a process (and its children), in bytes; 0 when it is gone."""
    try:
        process = psutil.Process(pid)
        members = [process, *(process.children(recursive=True) if children else ())]
    except psutil.Error:
        return 0
    total = 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            continue
    return total


class PeakMemory:
    """Samples the processes `pids()` names every `interval` seconds; keeps each one's peak.

    `pids` maps a name to (pid, whether to count its children too), and is asked again at
    every sample, so a process that is restarted (the gateway, for the profile) or stopped
    (Rasa, for the crisis check) is followed as it changes.
    """

    def __init__(
        self, pids: Callable[[], dict[str, tuple[int, bool]]], *, interval: float = 0.25
    ) -> None:
        self._pids = pids
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-memory", daemon=True)
        self.peaks: dict[str, int] = {}
        self.samples = 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self._interval)

    def sample(self) -> None:
        """Take one sample now."""
        for name, (pid, children) in self._pids().items():
            rss = tree_rss(pid, children=children)
            if rss > self.peaks.get(name, 0):
                self.peaks[name] = rss
        self.samples += 1

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
