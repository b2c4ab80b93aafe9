"""What ``caselog watch`` and its notices leave in the home for ``caselog status``.

- ``monitor/watch.json``: per account, the watch process that looks after it (pid, host,
  interval, started, last heard of, stopped), its last round (when, result, duration, cases,
  events, due, the sentence of a failure) and its next scheduled run. Each account's entry
  is its own, so two ``caselog watch --account`` processes can share the file.
- ``monitor/notify.json``: per notification target (named as apprise shows it with its
  secrets masked), when a notice was last accepted and last refused, and why.

Both are small JSON files written whole (temp file, rename, 0600). They are a report, not
state anything depends on: a file that cannot be read is treated as empty, and one that
cannot be written is logged once and otherwise ignored (monitoring goes on).
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from agent.core.models import utcnow
from agent.errors import CaselogError
from agent.home import Home, write_private

__all__ = [
    "NOTIFY_FILE",
    "WATCH_FILE",
    "NotifyJournal",
    "RoundRecord",
    "WatchJournal",
    "process_alive",
    "read_notify",
    "read_watch",
]

WATCH_FILE = "watch.json"
NOTIFY_FILE = "notify.json"

log = logging.getLogger("caselog.journal")

Clock = Callable[[], datetime]


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class _Journal:
    """Read-modify-write of one small JSON file; a failed write is said once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._warned = False

    def update(self, change: Callable[[dict[str, Any]], None]) -> None:
        try:
            # several processes keep one file (fleet workers on a shared home): one at a time
            with FileLock(str(self.path.with_name(f".{self.path.name}.lock")), timeout=10):
                data = _read(self.path)
                change(data)
                write_private(self.path, json.dumps(data, indent=2, sort_keys=True).encode())
        except (CaselogError, Timeout, OSError) as exc:
            if not self._warned:
                log.warning("cannot keep %s for `caselog status`: %s", self.path.name, exc)
                self._warned = True


@dataclass(frozen=True)
class RoundRecord:
    """One round of one account, as ``caselog status`` shows it."""

    at: str
    result: str  # complete | incomplete | needs_person | failed
    seconds: float
    detail: str = ""
    cases: int | None = None
    events: int | None = None
    due: int | None = None


class WatchJournal:
    """``monitor/watch.json`` as one ``caselog watch`` process keeps it."""

    def __init__(
        self,
        home: Home,
        interval_minutes: float,
        clock: Clock = utcnow,
        pid: int | None = None,
        host: str | None = None,
    ) -> None:
        self._file = _Journal(home.monitor_file(WATCH_FILE))
        self.interval_minutes = interval_minutes
        self.clock = clock
        self.pid = os.getpid() if pid is None else pid
        self.host = host or socket.gethostname()
        self._next: dict[str, str] = {}

    def _entries(self, data: dict[str, Any], names: list[str]) -> list[dict[str, Any]]:
        accounts: dict[str, Any] = data.setdefault("accounts", {})
        now = self.clock().isoformat()
        entries = []
        for name in names:
            entry = accounts.setdefault(name, {})
            entry.update(pid=self.pid, host=self.host, heard_at=now)
            entries.append(entry)
        return entries

    def started(self, accounts: list[str]) -> None:
        now = self.clock().isoformat()

        def change(data: dict[str, Any]) -> None:
            for entry in self._entries(data, accounts):
                entry.update(
                    started_at=now,
                    stopped_at=None,
                    interval_minutes=self.interval_minutes,
                    next_run_at=None,
                )

        self._file.update(change)

    def round(self, account: str, record: RoundRecord) -> None:
        def change(data: dict[str, Any]) -> None:
            (entry,) = self._entries(data, [account])
            entry["last_round"] = asdict(record)
            if record.result == "complete":
                entry["last_complete_round_at"] = record.at

        self._file.update(change)

    def next_runs(self, runs: dict[str, datetime]) -> None:
        """Record each account's next scheduled run (written only when one changed)."""
        stamped = {name: at.isoformat() for name, at in runs.items()}
        if stamped == self._next:
            return
        self._next = stamped

        def change(data: dict[str, Any]) -> None:
            for name, at in stamped.items():
                (entry,) = self._entries(data, [name])
                entry["next_run_at"] = at

        self._file.update(change)

    def stopped(self, accounts: list[str]) -> None:
        now = self.clock().isoformat()

        def change(data: dict[str, Any]) -> None:
            for entry in self._entries(data, accounts):
                entry.update(stopped_at=now, next_run_at=None)

        self._file.update(change)


def read_watch(home: Home) -> dict[str, dict[str, Any]]:
    """Each account's entry of ``monitor/watch.json`` (none when there is no file)."""
    accounts = _read(home.monitor_file(WATCH_FILE)).get("accounts", {})
    return {k: v for k, v in accounts.items() if isinstance(v, dict)}


def process_alive(entry: dict[str, Any]) -> bool | None:
    """Whether the watch process of ``entry`` still runs: None when it ran on another host
    (only its own machine can tell)."""
    if entry.get("stopped_at"):
        return False
    pid = entry.get("pid")
    if entry.get("host") != socket.gethostname() or not isinstance(pid, int):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, as another user
    except OSError:
        return None
    return True


class NotifyJournal:
    """``monitor/notify.json``: each notification target's last success and failure."""

    def __init__(self, home: Home, clock: Clock = utcnow) -> None:
        self._file = _Journal(home.monitor_file(NOTIFY_FILE))
        self.clock = clock

    def record(self, target: str, ok: bool, error: str = "") -> None:
        now = self.clock().isoformat()

        def change(data: dict[str, Any]) -> None:
            entry = data.setdefault("targets", {}).setdefault(target, {})
            if ok:
                entry["last_success_at"] = now
            else:
                entry.update(last_failure_at=now, last_error=error)

        self._file.update(change)


def read_notify(home: Home) -> dict[str, dict[str, Any]]:
    targets = _read(home.monitor_file(NOTIFY_FILE)).get("targets", {})
    return {k: v for k, v in targets.items() if isinstance(v, dict)}
