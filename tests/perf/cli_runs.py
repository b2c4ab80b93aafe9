"""The real ``caselog`` command, timed from outside: process start to exit.

Every figure the benchmarks print about the agent is one of these runs: ``python -m agent
ARGS`` started as a subprocess in a prepared ``CASELOG_HOME`` (credentials in its
environment), in a session of its own (so its whole tree, Chromium included, can be found and
stopped), its output written to files. Wall seconds run from just before the process is
created to just after it has been reaped; CPU seconds and the largest process's peak RSS come
from ``wait4`` (the command plus the children it reaped: the browser driver, which reaps
Chromium). With ``sample_memory`` the tree is sampled as it runs (:mod:`proc_tree`); the
benchmarks do that only in runs they do not time.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tests.perf.proc_tree import TreeMemory, TreeSampler, available, session_pids

__all__ = ["CommandFailed", "CommandRun", "Commander"]


class CommandFailed(RuntimeError):
    """A command the benchmark needs exited with an error (the message has its stderr)."""


@dataclass
class CommandRun:
    args: list[str]
    exit_code: int
    wall_s: float
    cpu_s: float
    max_rss_kb: int
    started_at: float  # epoch seconds, comparable with the mock's request log
    ended_at: float
    stdout: str
    stderr: str
    memory: TreeMemory | None = None
    timed_out: bool = False

    def check(self) -> CommandRun:
        """This run, or :class:`CommandFailed` if it did not exit 0."""
        if self.exit_code != 0 or self.timed_out:
            why = "timed out" if self.timed_out else f"exited {self.exit_code}"
            raise CommandFailed(
                f"`caselog {' '.join(self.args)}` {why}: {self.stderr.strip()[-1500:]}"
            )
        return self


class Commander:
    """Runs ``python -m agent ...`` with one environment, from one folder."""

    def __init__(
        self,
        env: dict[str, str],
        cwd: Path,
        scratch: Path,
        python: str = sys.executable,
        timeout: float = 900.0,
    ) -> None:
        self.env = env
        self.cwd = cwd
        self.scratch = scratch
        self.python = python
        self.timeout = timeout
        self._n = 0

    def argv(self, args: list[str], python_flags: tuple[str, ...] = ()) -> list[str]:
        return [self.python, *python_flags, "-m", "agent", *args]

    def run(
        self,
        args: list[str],
        *,
        sample_memory: bool = False,
        python_flags: tuple[str, ...] = (),
    ) -> CommandRun:
        self._n += 1
        out_path = self.scratch / f"cmd-{self._n}.out"
        err_path = self.scratch / f"cmd-{self._n}.err"
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            started_at = time.time()
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                self.argv(args, python_flags),
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
            sampler = TreeSampler(proc.pid) if sample_memory and available() else None
            if sampler is not None:
                sampler.start()
            timed_out = threading.Event()
            watchdog = threading.Timer(self.timeout, self._kill, (proc.pid, timed_out))
            watchdog.daemon = True
            watchdog.start()
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
            ended_at = time.time()
            watchdog.cancel()
            proc.returncode = os.waitstatus_to_exitcode(status)
            memory = sampler.stop() if sampler is not None else None
        run = CommandRun(
            args=args,
            exit_code=proc.returncode,
            wall_s=wall,
            cpu_s=usage.ru_utime + usage.ru_stime,
            max_rss_kb=usage.ru_maxrss,
            started_at=started_at,
            ended_at=ended_at,
            stdout=out_path.read_text(errors="replace"),
            stderr=err_path.read_text(errors="replace"),
            memory=memory,
            timed_out=timed_out.is_set(),
        )
        out_path.unlink()
        err_path.unlink()
        self._reap_leftovers(proc.pid)
        return run

    @staticmethod
    def _kill(pid: int, flag: threading.Event) -> None:
        flag.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)

    @staticmethod
    def _reap_leftovers(pid: int) -> None:
        """A Chromium helper that outlived its command would skew the next run: the
        command's own session (and nothing else) is ended."""
        if available() and not session_pids(pid):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
