"""What a set of figures was measured on: printed in every benchmark's header and saved
with its figures, so that two runs are compared only knowing what differed.

Everything is read from outside the agent: the CPU from ``/proc/cpuinfo``, the Chromium the
agent really launched from the executable of a process in its tree (``--version`` of it), the
agent's version from ``caselog --version``, the code from ``git``.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["chromium_version", "describe", "git_revision", "is_chromium", "one_line"]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _version_of(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise OSError(done.stderr.strip())
    return done.stdout.strip()


def git_revision(repo: Path) -> str:
    """``abc1234`` or ``abc1234+changes`` (uncommitted changes), or ``unknown``."""
    try:
        head = _git(repo, "rev-parse", "--short", "HEAD")
        dirty = _git(repo, "status", "--porcelain", "--untracked-files=no")
    except OSError:
        return "unknown"
    return head + ("+changes" if dirty else "")


def is_chromium(exe: str) -> bool:
    """The browser itself (not a helper such as ``chrome_crashpad_handler``)."""
    name = Path(exe).name.lower()
    return ("chrom" in name or "headless_shell" in name) and "crashpad" not in name


def chromium_version(executables: Iterable[str]) -> str:
    """The version of the Chromium among ``executables`` (paths of a run's processes)."""
    for exe in sorted(set(executables)):
        if is_chromium(exe):
            try:
                out = subprocess.run(
                    [exe, "--version"], capture_output=True, text=True, timeout=30
                ).stdout.strip()
            except (OSError, subprocess.TimeoutExpired):
                continue
            if re.search(r"\d+\.\d+", out):
                return f"{out} ({exe})"
    return "unknown (no Chromium process seen)"


def describe(repo: Path, agent_version: str, chromium: str) -> dict[str, Any]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    return {
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "cpu": _cpu_model(),
        "memory_gb": _memory_gb(),
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "python_executable": sys.executable,
        "playwright": _version_of("playwright"),
        "chromium": chromium,
        "agent": agent_version,
        "revision": git_revision(repo),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def one_line(machine: dict[str, Any]) -> list[str]:
    """The header lines for ``machine``."""
    load = machine.get("load_average_at_start") or []
    end = machine.get("load_average_at_end") or []
    loads = "/".join(f"{x:.2f}" for x in load)
    if end:
        loads += " at start, " + "/".join(f"{x:.2f}" for x in end) + " at end"
    chromium = re.sub(r"\s+", " ", str(machine.get("chromium", "")))
    return [
        f"machine: {machine.get('cores')} cores ({machine.get('usable_cores')} usable), "
        f"{machine.get('cpu')}, {machine.get('memory_gb')} GB, {machine.get('os')}",
        f"software: {machine.get('python')}, Playwright {machine.get('playwright')}, "
        f"{chromium}, {machine.get('agent')} at {machine.get('revision')}",
        f"load average (1/5/15 min): {loads}",
    ]
