"""The real ``caselog`` command, timed from outside: process start to exit.

Every figure the benchmarks print about the agent is one of these runs: ``python -m agent
ARGS`` started as a subprocess in a prepared ``CASELOG_HOME`` (credentials in its
environment), in a session of its own (so its whole tree, Chromium included, can be found and
stopped), its output written to files. It is forked by a small launcher (:mod:`spawn`, which
says why) that times it: wall seconds from just before the fork to just after the command was
reaped; CPU seconds and the largest process's peak RSS from ``wait4`` (the command plus the
children it reaped: the browser driver, which reaps Chromium). With ``sample_memory`` the
tree is sampled as it runs (:mod:`proc_tree`); the benchmarks do that only in runs they do
not time.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from tests.perf.proc_tree import TreeMemory, TreeSampler, available, session_pids

__all__ = ["CommandFailed", "CommandRun", "Commander"]

SPAWN = Path(__file__).with_name("spawn.py")


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
        how_path = self.scratch / f"cmd-{self._n}.json"
        # spawn.py forks the command and times it (see there: why not from this process)
        launcher = [sys.executable, "-I", str(SPAWN), str(how_path), "--"]
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(
                launcher + self.argv(args, python_flags),
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,  # its session holds the command and all it starts
            )
            sampler = TreeSampler(proc.pid) if sample_memory and available() else None
            if sampler is not None:
                sampler.start()
            timed_out = threading.Event()
            watchdog = threading.Timer(self.timeout, self._kill, (proc.pid, timed_out))
            watchdog.daemon = True
            watchdog.start()
            proc.wait()
            watchdog.cancel()
            memory = sampler.stop() if sampler is not None else None
        try:
            how = json.loads(how_path.read_text())
        except (OSError, ValueError):  # killed before it could write
            how = {"wall_s": 0.0, "cpu_s": 0.0, "max_rss_kb": 0, "started_at": 0.0}
            how["ended_at"], how["exit_code"] = 0.0, proc.returncode
        run = CommandRun(
            args=args,
            exit_code=int(how["exit_code"]),
            wall_s=float(how["wall_s"]),
            cpu_s=float(how["cpu_s"]),
            max_rss_kb=int(how["max_rss_kb"]),
            started_at=float(how["started_at"]),
            ended_at=float(how["ended_at"]),
            stdout=out_path.read_text(errors="replace"),
            stderr=err_path.read_text(errors="replace"),
            memory=memory,
            timed_out=timed_out.is_set(),
        )
        for path in (out_path, err_path, how_path):
            path.unlink(missing_ok=True)
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
