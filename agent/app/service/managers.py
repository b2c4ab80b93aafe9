"""Each platform's service manager: where its file goes, the commands that enable, start,
stop and query it, and how to read their answers.

Nothing here runs a command: a manager lists :class:`Command` s and reads
``CompletedProcess`` es, so the use cases (:mod:`agent.app.service.manage`) run them through
one seam that tests replace, and ``--dry-run`` prints the same list it would run.
"""

from __future__ import annotations

import csv
import io
import re
import shlex
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.app.service.render import (
    LABEL,
    TASK_ENCODING,
    TASK_NAME,
    UNIT_NAME,
    ServiceSpec,
    render_cron_line,
    render_launchd_plist,
    render_systemd_unit,
    render_task_xml,
)

__all__ = [
    "PLATFORMS",
    "Command",
    "Cron",
    "Launchd",
    "Manager",
    "Places",
    "State",
    "Systemd",
    "TaskScheduler",
    "manager_for",
]

PLATFORMS = ("linux", "macos", "windows", "cron")
CRON_HINT = (
    "use cron instead: `caselog service install --platform cron` prints the line (README, "
    '"Running in the background")'
)

Result = subprocess.CompletedProcess[str]


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    may_fail: bool = False  # stopping what may not be loaded is not an error

    def shown(self, windows: bool = False) -> str:
        return subprocess.list2cmdline(self.argv) if windows else shlex.join(self.argv)


@dataclass(frozen=True)
class Places:
    """Where the seller's own files are: their home folder, the environment, their uid."""

    user_home: Path
    environ: Mapping[str, str]
    uid: int
    home: Path  # CASELOG_HOME


@dataclass(frozen=True)
class State:
    enabled: bool | None  # None: the manager could not say
    running: bool | None
    detail: str  # the manager's own word for it ("active", "running", "Ready"...)


def first_line(result: Result) -> str:
    text = (result.stderr or result.stdout or "").strip()
    return text.splitlines()[0] if text else f"exit status {result.returncode}"


class Manager(ABC):
    platform: str
    name: str  # how the README and the messages call it
    encoding = "utf-8"

    @abstractmethod
    def service_path(self, places: Places) -> Path | None:
        """Where the file goes (None: the seller pastes it, as with cron)."""

    @abstractmethod
    def render(self, spec: ServiceSpec) -> str: ...

    def probe(self, places: Places) -> Command | None:
        """A harmless command that fails when the manager cannot be used here."""
        return None

    @abstractmethod
    def install_commands(self, path: Path, places: Places) -> list[Command]: ...

    @abstractmethod
    def stop_commands(self, places: Places) -> list[Command]:
        """Stop and disable (run before the file is removed)."""

    def forget_commands(self, places: Places) -> list[Command]:
        """Run after the file is removed."""
        return []

    @abstractmethod
    def query_commands(self, places: Places) -> list[Command]: ...

    @abstractmethod
    def state(self, results: Sequence[Result]) -> State: ...

    def missing(self, result: Result) -> str:
        return (
            f"{result.args[0]} is not installed here, so {self.name} cannot run caselog "
            f"watch; {CRON_HINT}"
        )

    def unreachable(self, result: Result) -> str:
        """One sentence: the manager cannot be used here (the probe failed), and instead?"""
        if result.returncode == 127:
            return self.missing(result)
        return f"{self.name} cannot be reached here ({first_line(result)}); {CRON_HINT}"

    def refused(self, result: Result) -> str:
        """One sentence: the manager refused a command."""
        if result.returncode == 127:
            return self.missing(result)
        shown = Command(tuple(result.args)).shown(windows=self.platform == "windows")
        return (
            f"{self.name} refused `{shown}` ({first_line(result)}); run it yourself to see "
            f"why, or {CRON_HINT}"
        )


class Systemd(Manager):
    platform = "linux"
    name = "systemd --user"

    def service_path(self, places: Places) -> Path:
        config = places.environ.get("XDG_CONFIG_HOME") or str(places.user_home / ".config")
        return Path(config) / "systemd" / "user" / UNIT_NAME

    def render(self, spec: ServiceSpec) -> str:
        return render_systemd_unit(spec)

    @staticmethod
    def _ctl(*args: str, may_fail: bool = False) -> Command:
        return Command(("systemctl", "--user", *args), may_fail)

    def probe(self, places: Places) -> Command:
        return self._ctl("show", "--property=Version")

    def install_commands(self, path: Path, places: Places) -> list[Command]:
        # restart, not start: a second install applies a changed unit or credentials file
        return [
            self._ctl("daemon-reload"),
            self._ctl("enable", UNIT_NAME),
            self._ctl("restart", UNIT_NAME),
        ]

    def stop_commands(self, places: Places) -> list[Command]:
        return [self._ctl("disable", "--now", UNIT_NAME, may_fail=True)]

    def forget_commands(self, places: Places) -> list[Command]:
        return [self._ctl("daemon-reload"), self._ctl("reset-failed", UNIT_NAME, may_fail=True)]

    def query_commands(self, places: Places) -> list[Command]:
        return [
            self._ctl("is-enabled", UNIT_NAME, may_fail=True),
            self._ctl("is-active", UNIT_NAME, may_fail=True),
        ]

    def state(self, results: Sequence[Result]) -> State:
        enabled, active = (r.stdout.strip() for r in results)
        return State(
            enabled=enabled in ("enabled", "enabled-runtime", "linked", "alias"),
            running=active == "active",
            detail=f"{enabled or 'unknown'}, {active or 'unknown'}",
        )

    def unreachable(self, result: Result) -> str:
        if result.returncode == 127:
            return self.missing(result)
        return (
            f"systemd --user is not running here ({first_line(result)}); {CRON_HINT}, or "
            "see the unit with `caselog service install --dry-run`"
        )


class Launchd(Manager):
    platform = "macos"
    name = "launchd"

    def service_path(self, places: Places) -> Path:
        return places.user_home / "Library" / "LaunchAgents" / f"{LABEL}.plist"

    def render(self, spec: ServiceSpec) -> str:
        return render_launchd_plist(spec)

    @staticmethod
    def _domain(places: Places) -> str:
        return f"gui/{places.uid}"

    def probe(self, places: Places) -> Command:
        return Command(("launchctl", "print", self._domain(places)))

    def install_commands(self, path: Path, places: Places) -> list[Command]:
        domain = self._domain(places)
        return [
            Command(("launchctl", "bootout", f"{domain}/{LABEL}"), may_fail=True),
            Command(("launchctl", "enable", f"{domain}/{LABEL}")),
            Command(("launchctl", "bootstrap", domain, str(path))),
        ]

    def stop_commands(self, places: Places) -> list[Command]:
        return [Command(("launchctl", "bootout", f"{self._domain(places)}/{LABEL}"), True)]

    def query_commands(self, places: Places) -> list[Command]:
        return [Command(("launchctl", "print", f"{self._domain(places)}/{LABEL}"), True)]

    def state(self, results: Sequence[Result]) -> State:
        (printed,) = results
        if printed.returncode != 0:
            return State(enabled=False, running=False, detail="not loaded")
        match = re.search(r"^\s*state = (\S+)", printed.stdout, re.MULTILINE)
        word = match.group(1) if match else "loaded"
        return State(enabled=True, running=word == "running", detail=word)

    def unreachable(self, result: Result) -> str:
        if result.returncode == 127:
            return self.missing(result)
        return (
            f"launchd has no GUI session for this user ({first_line(result)}); log in at the "
            f"Mac's screen and run this again, or {CRON_HINT}"
        )


class TaskScheduler(Manager):
    platform = "windows"
    name = "Task Scheduler"
    encoding = TASK_ENCODING

    def service_path(self, places: Places) -> Path:
        return places.home / f"{TASK_NAME}.xml"

    def render(self, spec: ServiceSpec) -> str:
        return render_task_xml(spec)

    def install_commands(self, path: Path, places: Places) -> list[Command]:
        return [
            Command(("schtasks", "/Create", "/XML", str(path), "/TN", TASK_NAME, "/F")),
            Command(("schtasks", "/End", "/TN", TASK_NAME), may_fail=True),
            Command(("schtasks", "/Run", "/TN", TASK_NAME)),
        ]

    def stop_commands(self, places: Places) -> list[Command]:
        return [
            Command(("schtasks", "/End", "/TN", TASK_NAME), may_fail=True),
            Command(("schtasks", "/Delete", "/TN", TASK_NAME, "/F"), may_fail=True),
        ]

    def query_commands(self, places: Places) -> list[Command]:
        return [Command(("schtasks", "/Query", "/TN", TASK_NAME, "/FO", "CSV", "/NH"), True)]

    def state(self, results: Sequence[Result]) -> State:
        (query,) = results
        rows = [r for r in csv.reader(io.StringIO(query.stdout)) if len(r) >= 3]
        if query.returncode != 0 or not rows:
            return State(enabled=False, running=False, detail="not registered")
        word = rows[0][2]  # "Ready", "Running", "Disabled" (in the system's language)
        return State(enabled=word != "Disabled", running=word == "Running", detail=word)


class Cron(Manager):
    """Nothing to drive: the line is printed for the seller to add with ``crontab -e``."""

    platform = "cron"
    name = "cron"

    def service_path(self, places: Places) -> Path | None:
        return None

    def render(self, spec: ServiceSpec) -> str:
        return render_cron_line(spec)

    def install_commands(self, path: Path, places: Places) -> list[Command]:
        return []

    def stop_commands(self, places: Places) -> list[Command]:
        return []

    def query_commands(self, places: Places) -> list[Command]:
        return []

    def state(self, results: Sequence[Result]) -> State:
        return State(enabled=None, running=None, detail="see crontab -l")


MANAGERS: dict[str, type[Manager]] = {
    "linux": Systemd,
    "macos": Launchd,
    "windows": TaskScheduler,
    "cron": Cron,
}


def manager_for(platform: str) -> Manager:
    return MANAGERS[platform]()
