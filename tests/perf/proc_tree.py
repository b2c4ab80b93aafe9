"""Memory of a process and everything it started, sampled from ``/proc`` (Linux).

A process tree is the root and every process whose parent chain leads to it, plus every
process in the root's session (the harness starts each command in a session of its own, so a
Chromium helper that was re-parented still counts). The root is the harness's small launcher
(:mod:`spawn`): it is left out of the sums, and its child, the command, is the *main* process.
For each sample the tree's resident memory is summed twice:

- RSS: what ``top`` shows, summed; Chromium's processes share much of their memory, so the
  sum counts shared pages more than once and overstates;
- PSS (``smaps_rollup``): each shared page divided among the processes that share it; the sum
  is what the tree really costs, and the figure to compare.

Each executable is noted with the time it was first seen (to the sampling interval), which
tells from outside when the browser driver and Chromium started, and each process's CPU
(user + system) as last seen, which counts Chromium's renderers that no parent reaps. The
main process alone is reported as ``VmHWM``, the kernel's own high-water mark of its resident
memory, read at each sample (growth in the last interval before exit can be missed).
Sampling costs CPU on a small machine, so the benchmarks sample in runs of their own, never in
the runs they time.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "TreeMemory",
    "TreeSampler",
    "available",
    "cpu_seconds",
    "session_pids",
    "tree_pids",
]

_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024 if hasattr(os, "sysconf") else 4


def available() -> bool:
    return Path("/proc/self/stat").exists()


def _stat(pid: str) -> tuple[int, int] | None:
    """(parent PID, session ID) of ``pid``, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the name may hold spaces and parentheses
    return int(fields[1]), int(fields[3])


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds ``pid`` has used so far (its threads included)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def session_pids(sid: int) -> set[int]:
    """The processes of session ``sid``."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(entry)
            if st is not None and st[1] == sid:
                found.add(int(entry))
    return found


def tree_pids(root: int) -> set[int]:
    """``root``, its descendants, and the processes of its session."""
    parent: dict[int, int] = {}
    in_session: set[int] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        st = _stat(entry)
        if st is None:
            continue
        pid = int(entry)
        parent[pid] = st[0]
        if st[1] == root:
            in_session.add(pid)
    children: dict[int, list[int]] = {}
    for pid, ppid in parent.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid in found or pid not in parent:
            continue
        found.add(pid)
        todo += children.get(pid, [])
    return found | in_session


def _rss_kb(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


def _field_kb(path: str, name: str) -> int:
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith(name):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


@dataclass
class TreeMemory:
    """Peaks over one run, in KiB."""

    tree_rss_kb: int = 0
    tree_pss_kb: int = 0
    main_hwm_kb: int = 0
    largest_kb: int = 0
    processes: int = 0
    samples: int = 0
    first_seen: dict[str, float] = field(default_factory=dict)  # executable -> epoch seconds
    cpu_by_pid: dict[int, float] = field(default_factory=dict)  # the last user+system seen

    @property
    def executables(self) -> set[str]:
        return set(self.first_seen)

    @property
    def cpu_seconds(self) -> float:
        """CPU of every process seen in the tree, each as last sampled: a process that ends
        between two samples loses what it used since the last one."""
        return sum(self.cpu_by_pid.values())


class TreeSampler(threading.Thread):
    """Samples the tree of ``root``, ``root`` itself left out, every ``interval`` seconds
    until :meth:`stop`."""

    def __init__(self, root: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True, name="tree-sampler")
        self.root = root
        self.main: int | None = None  # the root's first child: the command
        self.interval = interval
        self.memory = TreeMemory()
        self._done = threading.Event()

    def run(self) -> None:
        while True:
            self.sample()
            if self._done.wait(self.interval):
                return

    def sample(self) -> None:
        m = self.memory
        pids = tree_pids(self.root) - {self.root}
        if not pids:
            return
        if self.main is None:
            children = [p for p in sorted(pids) if (_stat(str(p)) or (0, 0))[0] == self.root]
            self.main = children[0] if children else None
        rss = {p: _rss_kb(p) for p in pids}
        m.tree_rss_kb = max(m.tree_rss_kb, sum(rss.values()))
        m.tree_pss_kb = max(
            m.tree_pss_kb, sum(_field_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids)
        )
        m.largest_kb = max(m.largest_kb, max(rss.values()))
        if self.main is not None:
            m.main_hwm_kb = max(m.main_hwm_kb, _field_kb(f"/proc/{self.main}/status", "VmHWM:"))
        m.processes = max(m.processes, len(pids))
        m.samples += 1
        now = time.time()
        for p in pids:
            with contextlib.suppress(OSError):
                m.first_seen.setdefault(os.readlink(f"/proc/{p}/exe"), now)
            used = cpu_seconds(p)
            if used is not None:
                m.cpu_by_pid[p] = max(used, m.cpu_by_pid.get(p, 0.0))

    def stop(self) -> TreeMemory:
        self._done.set()
        self.join()
        return self.memory
