"""Run `caselog` commands, each in a fork of one process that has imported the CLI already:
the same command in its own process and session (:meth:`ForkedCli.kill` ends it with its
Playwright driver and Chromium, at once), without paying Python's start and imports
each time (1.5 to 3 s on a loaded 2-core machine).

Run as a script with the environment the commands need; one JSON line on stdin per command
(``{"args": [...], "stderr": path}``), and for each, two JSON lines on stdout:
``{"pid": N}`` when it started and ``{"exit": code}`` when it ended (a negative code: killed
by that signal). A command's standard output goes to /dev/null, its standard error to the
file named. :class:`ForkedCli` drives it from a test.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path


def _serve() -> None:
    import importlib

    import agent.cli
    import agent.cli.act  # what `reply`, `reopen`, `cc` and `outbox` run (the CLI is lazy)

    for module in sys.argv[1:]:  # what else the commands run (`agent.cli.session`: sync)
        importlib.import_module(module)

    for line in sys.stdin:
        command = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            os.setsid()
            null = os.open(os.devnull, os.O_RDWR)
            err = os.open(command["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            for fd, to in ((0, null), (1, null), (2, err)):
                os.dup2(to, fd)
            sys.argv = ["caselog", *command["args"]]
            code = 1
            try:
                agent.cli.main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
            finally:
                os._exit(code)
        print(json.dumps({"pid": pid}), flush=True)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"exit": os.waitstatus_to_exitcode(status)}), flush=True)


class ForkedCli:
    """The launcher as a test sees it: :meth:`start` a command, :meth:`wait` for its end."""

    def __init__(self, env: Mapping[str, str], preload: tuple[str, ...] = ()) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__)), *preload],
            env=dict(env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._lines: queue.Queue[dict[str, int]] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.pid: int | None = None
        self.exit: int | None = None

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(json.loads(line))

    def start(self, *args: str, stderr: Path) -> int:
        """Start one command, its standard error to ``stderr``; its process ID."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"args": list(args), "stderr": str(stderr)}) + "\n")
        self.proc.stdin.flush()
        self.pid, self.exit = self._lines.get(timeout=60)["pid"], None
        return self.pid

    def wait(self, timeout: float | None = None) -> int | None:
        """The command's exit code, or None when it is still running after ``timeout``."""
        if self.exit is None:
            try:
                self.exit = self._lines.get(timeout=timeout)["exit"]
            except queue.Empty:
                return None
        return self.exit

    def kill(self) -> bool:
        """``kill -9`` the running command as a power cut would: its process group, and what
        it started in sessions of their own (Playwright starts Chromium detached). False when
        the command had ended (and been reaped) just before: nothing was killed."""
        assert self.pid is not None
        tree = _descendants(self.pid)
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            return False
        for pid in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return True

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def _descendants(root: int) -> list[int]:
    """Every process below ``root`` (from /proc: Linux)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


if __name__ == "__main__":
    _serve()
