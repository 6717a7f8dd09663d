"""CPU time and memory of a process tree, read from /proc (Linux only).

An engine is measured as the tree under the processes the harness started: lod serve's master, its
workers and their query children for `lod serve`; the one server process for the peers.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    return text[text.rindex(")") + 2:].split()


def tree(roots: Iterable[int]) -> list[int]:
    """The live processes in the trees under ``roots`` (roots included)."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    pending = [pid for pid in roots if (PROC / str(pid)).exists()]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, ()))
    return found


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU of ``pids`` and of their children that have ended and been waited for.

    Summing over a whole tree counts nothing twice: a live child is not yet in its parent's
    cutime/cstime, an ended one is only there."""
    total = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            # utime, stime, cutime, cstime are fields 14-17 of stat; index 11-14 after the name.
            total += sum(int(value) for value in fields[11:15])
    return total / TICKS


def _status_kib(pid: int, key: str) -> int:
    try:
        with open(PROC / str(pid) / "status") as file:
            for line in file:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_rss_bytes(pids: Iterable[int]) -> int:
    """The sum of each process's peak resident set (VmHWM). Pages that forked processes share
    count once per process, so for a forking server this is an upper bound."""
    return 1024 * sum(_status_kib(pid, "VmHWM:") for pid in pids)


def pss_bytes(pids: Iterable[int]) -> int:
    """The proportional set size of ``pids`` now: shared pages divided among their sharers."""
    total = 0
    for pid in pids:
        try:
            with open(PROC / str(pid) / "smaps_rollup") as file:
                for line in file:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total * 1024


@dataclass
class MemoryPeak:
    """Peaks seen by a :class:`MemorySampler` for one engine."""

    pss: int = 0
    rss_hwm: int = 0


class MemorySampler:
    """Samples the PSS of several process trees a few times a second and keeps each peak."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.roots: dict[str, Callable[[], list[int]]] = {}
        self.peaks: dict[str, MemoryPeak] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)
        self._lock = threading.Lock()

    def watch(self, name: str, roots: Callable[[], list[int]]) -> None:
        with self._lock:
            self.roots[name] = roots
            self.peaks.setdefault(name, MemoryPeak())

    def sample(self, name: str) -> None:
        with self._lock:
            roots = self.roots.get(name)
        if roots is None:
            return
        pids = tree(roots())
        peak = self.peaks[name]
        peak.pss = max(peak.pss, pss_bytes(pids))
        peak.rss_hwm = max(peak.rss_hwm, peak_rss_bytes(pids))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for name in list(self.roots):
                self.sample(name)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def wait_until_idle(pids: Callable[[], list[int]], *, threshold: float = 0.05, window: float = 0.3,
                    limit: float = 120.0) -> float:
    """Wait until the tree uses less than ``threshold`` of a core over ``window`` seconds, so that
    work left over from one measurement (requests the client gave up on) does not run into the
    next. Returns the seconds waited; stops waiting after ``limit``."""
    started = time.monotonic()
    while True:
        before = cpu_seconds(tree(pids()))
        time.sleep(window)
        used = cpu_seconds(tree(pids())) - before
        if used < threshold * window or time.monotonic() - started > limit:
            return time.monotonic() - started
