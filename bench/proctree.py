"""CPU time of a process and all its descendants, sampled from /proc while they run (Linux).

`os.wait4`'s rusage counts only descendants that were reaped all the way up the tree; Chromium's
renderers and zygotes, killed when Playwright closes the browser, are not: their CPU would be lost.
So the tree is sampled instead, keeping each process's own utime+stime (never cutime, which would
count a reaped child twice). A process that ends between two samples loses at most one interval.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict

HZ = os.sysconf("SC_CLK_TCK")


def _snapshot() -> dict[int, tuple[int, float, str]]:
    """pid -> (parent pid, CPU seconds of its own, name), for every process readable now."""
    out: dict[int, tuple[int, float, str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="latin-1") as f:
                stat = f.read()
        except OSError:  # gone meanwhile
            continue
        name = stat[stat.find("(") + 1 : stat.rfind(")")]
        fields = stat.rsplit(")", 1)[1].split()
        out[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / HZ, name)
    return out


def _kind(pid: int) -> str:
    """":renderer", ":gpu-process"… for a Chromium child process (its --type), else ""."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().replace(b"\0", b" ").split()  # a zygote child rewrites it, spaced
    except OSError:
        return ""
    for arg in args:
        if arg.startswith(b"--type="):
            return ":" + arg[7:].decode("latin-1")
    return ""


class TreeCpu:
    """Samples the tree under `root` every `interval` seconds from a thread until `stop()`."""

    def __init__(self, root: int, interval: float = 0.1) -> None:
        self.root = root
        self.interval = interval
        self._cpu: dict[int, float] = {}
        self._name: dict[int, str] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            self._sample()
            if self._done.wait(self.interval):
                return

    def _sample(self) -> None:
        procs = _snapshot()
        tree = {self.root}
        children: dict[int, list[int]] = defaultdict(list)
        for pid, (ppid, _cpu, _name) in procs.items():
            children[ppid].append(pid)
        stack = [self.root]
        while stack:
            for child in children.get(stack.pop(), ()):
                if child not in tree:
                    tree.add(child)
                    stack.append(child)
        for pid in tree:
            if pid in procs:
                _ppid, cpu, name = procs[pid]
                self._cpu[pid] = max(cpu, self._cpu.get(pid, 0.0))
                if pid not in self._name:
                    self._name[pid] = name + _kind(pid)

    def stop(self) -> dict[str, float]:
        """Ends the sampling (call before the root is reaped); CPU seconds by process name."""
        self._sample()
        self._done.set()
        self._thread.join()
        by_name: dict[str, float] = defaultdict(float)
        for pid, cpu in self._cpu.items():
            by_name[self._name[pid]] += cpu
        return dict(by_name)
