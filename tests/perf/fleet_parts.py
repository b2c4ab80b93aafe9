"""The parts of a fleet on one machine, for its end-to-end test and its benchmark.

- :func:`agency_toml`: a ``caselog.toml`` with N accounts on the mock's ``large`` scenario
  with ``merchants=N`` (one login, a seller each: an agency's), and ``[watch]`` / ``[fleet]``
  settings.
- :class:`FleetProcess`: ``caselog worker`` or ``caselog scheduler``, the real command in a
  session of its own (so ``kill -9`` of it takes its pool and Chromium too, as a lost machine
  would), its output in a file.
- :class:`FleetLedger`: what the fleet wrote in Redis: the tasks the scheduler sent
  (``caselog:published``) and each task's end (``caselog:done:<id>``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
from caselog_mock.scenarios import large_merchant_id
from redis import Redis

from agent.app.fleet import keys
from agent.config import Account, Marketplace, Settings

__all__ = [
    "PASSWORD_ENV",
    "TOTP_ENV",
    "FleetLedger",
    "FleetProcess",
    "agency_env",
    "agency_toml",
    "wait_for",
]

PASSWORD_ENV = "CASELOG_AGENCY_PASSWORD"
TOTP_ENV = "CASELOG_AGENCY_TOTP"
MARKETPLACE = "ATVPDKIKX0DER"


def account_name(k: int) -> str:
    return f"shop{k:02d}"


def agency_toml(url: str, email: str, n: int, **sections: dict[str, Any]) -> str:
    """``caselog.toml`` for accounts ``shop00``... on the mock at ``url`` (merchant ``k`` of
    ``large``), with ``sections`` (``watch={...}``, ``fleet={...}``) as given."""
    accounts = [
        Account(
            name=account_name(k),
            base_url=url,
            merchant_id=large_merchant_id(k),
            email=email,
            password_env=PASSWORD_ENV,
            totp_env=TOTP_ENV,
            timezone="UTC",
            marketplaces=[Marketplace(id=MARKETPLACE, selector_map="modern-en-US")],
        )
        for k in range(n)
    ]
    data = {
        "accounts": [a.model_dump(mode="json", exclude_defaults=True) for a in accounts],
        **sections,
    }
    Settings.model_validate(data)  # what caselog will read: a mistake here fails here
    return tomli_w.dumps(data)


def agency_env(home: Path, login: dict[str, str], **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "CASELOG_HOME": str(home),
        PASSWORD_ENV: login["password"],
        TOTP_ENV: login["totp_secret"],
        **extra,
    }


class FleetProcess:
    """``python -m agent worker|scheduler ...`` in a session of its own."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.log = logs / f"{name}.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "agent", *args],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill9(self) -> None:
        """``kill -9`` of the whole process group: the worker, its pool, its Chromium."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def terminate(self) -> None:
        """SIGTERM to the process (a worker finishes its round, then stops)."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGTERM)

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM, then SIGKILL of what is left of the group (Chromium's helpers)."""
        if self.proc.poll() is None:
            self.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=timeout)
        with contextlib.suppress(ProcessLookupError):  # Chromium helpers left behind
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        return self.proc.returncode


@dataclass
class Sent:
    task_id: str
    account: str
    at: float
    by: int


class FleetLedger:
    """Reads what the fleet's processes wrote in Redis."""

    def __init__(self, client: Redis) -> None:
        self.client = client

    def sent(self) -> list[Sent]:
        out = []
        for raw in self.client.lrange(keys.PUBLISHED, 0, -1):
            d = json.loads(raw)
            out.append(Sent(d["task_id"], d["account"], float(d["at"]), int(d.get("by", 0))))
        return out

    def done(self, task_id: str) -> dict[str, Any] | None:
        raw = self.client.get(keys.done(task_id))
        return json.loads(raw) if raw else None

    def rounds(self, account: str) -> list[dict[str, Any]]:
        return [json.loads(x) for x in self.client.lrange(keys.rounds(account), 0, -1)]

    def pending(self) -> list[Sent]:
        """Tasks sent and not yet run to their end."""
        return [s for s in self.sent() if self.done(s.task_id) is None]


def wait_for(what: str, ok: Callable[[], bool], timeout: float, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not ok():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(every)
