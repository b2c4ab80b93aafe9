"""The mock Seller Central in a process of its own, for benchmarks.

A benchmark that serves the mock from its own interpreter measures the mock and the client
fighting over one interpreter lock: the shipped floor did that and came out 3x too slow. Here
the mock is always ``python -m caselog_mock`` started as a subprocess on a free port; its
first line of output is a JSON handshake (URL, admin token, login, its own PID), and
everything else goes through its admin API: resets, the virtual clock, the ground truth and
the server-side request log (``/admin/requests``, fixtures/traffic.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from caselog_mock import AdminClient

__all__ = ["MockProcess", "MockStartError"]


class MockStartError(RuntimeError):
    """The mock did not start (the message has the end of its stderr)."""


class MockProcess:
    """``python -m caselog_mock`` in its own process; a context manager.

    ``params`` are the scenario's (``large``: cases, messages, changed, ...), ``options`` the
    site options (README of the mock, §14).
    """

    def __init__(
        self,
        scenario: str = "large",
        params: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
        python: str = sys.executable,
        start_timeout: float = 120.0,
    ) -> None:
        self.scenario = scenario
        self.params = dict(params or {})
        self.options = dict(options or {})
        self.python = python
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen[str] | None = None
        self.info: dict[str, Any] = {}
        self._stderr: Path | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> MockProcess:
        argv = [self.python, "-m", "caselog_mock", "--scenario", self.scenario, "--port", "0"]
        if self.params:
            argv += ["--params", json.dumps(self.params)]
        if self.options:
            argv += ["--options", json.dumps(self.options)]
        fd, name = tempfile.mkstemp(prefix="caselog-mock-", suffix=".log")
        self._stderr = Path(name)
        with os.fdopen(fd, "w") as err:
            self.proc = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=err,
                stdin=subprocess.DEVNULL,
                text=True,
                start_new_session=True,  # its own process group: never in the client's tree
            )
        line = self._handshake()
        try:
            self.info = json.loads(line)
        except ValueError:
            self.stop()
            raise MockStartError(f"the mock printed {line[:200]!r} instead of its JSON") from None
        if self.info.get("pid") != self.proc.pid:
            self.stop()
            raise MockStartError(
                f"the mock says its PID is {self.info.get('pid')}, not {self.proc.pid}"
            )
        return self

    def _handshake(self) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        stdout = self.proc.stdout
        got: list[str] = []
        reader = threading.Thread(target=lambda: got.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(self.start_timeout)
        if not got or not got[0]:
            tail = self.stderr_tail()
            self.stop()
            raise MockStartError(
                f"the mock did not start within {self.start_timeout:.0f} s: {tail or 'no output'}"
            )
        return got[0]

    def stderr_tail(self, chars: int = 2000) -> str:
        if self._stderr is None or not self._stderr.exists():
            return ""
        return self._stderr.read_text(errors="replace")[-chars:].strip()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        if self._stderr is not None:
            self._stderr.unlink(missing_ok=True)
            self._stderr = None

    def __enter__(self) -> MockProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what it says about itself ---------------------------------------------------------

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def url(self) -> str:
        return str(self.info["url"])

    @property
    def login(self) -> dict[str, str]:
        return {k: str(self.info[k]) for k in ("email", "password", "totp_secret")}

    @property
    def admin(self) -> AdminClient:
        return AdminClient(self.url, str(self.info["admin_token"]), timeout=300)

    def reset(self) -> None:
        """Back to the scenario's start, with this process's params (a reset without them
        would fall back to the scenario's defaults)."""
        self.admin.reset(scenario=self.scenario, params=self.params or None)

    def traffic(self, log: bool = True) -> dict[str, Any]:
        """The server's request log since the last :meth:`clear_traffic`."""
        return self.admin.requests(log=log)

    def clear_traffic(self) -> None:
        self.admin.clear_requests()
