"""``caselog service install | uninstall | status``: run ``caselog watch`` in the background
under the platform's own service manager.

- ``install`` renders the file (:mod:`~agent.app.service.render`), writes it where the
  manager looks, creates the credentials file ``service.env`` in the home (0600, values
  empty, never overwritten: the seller fills it in) and the ``logs/`` folder, then enables
  and (re)starts the service. Before writing anything it asks the manager a harmless
  question, so a machine without one (a container without ``systemd --user``) gets one
  sentence and :class:`~agent.errors.ServiceUnavailable`, not a half-done install.
- ``--dry-run`` builds the same :class:`InstallPlan` and prints it; nothing is written or run.
  A plan for another platform is only ever a dry run.
- ``uninstall`` stops and disables, then removes the service file; the credentials file and
  the log stay (they are the seller's) and the report says so.
- ``status`` reads the manager's answer: installed (the file), enabled, running.
- Commands run through one seam (:data:`Run`), replaced in tests.
"""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from agent.app.service.managers import PLATFORMS, Command, Manager, Places, manager_for
from agent.app.service.render import ENV_FILE, LOG_FILE, ServiceSpec, render_env_file
from agent.app.service.runtime import missing_values
from agent.config import Settings
from agent.errors import ConfigError, ServiceUnavailable
from agent.home import Home, write_private

__all__ = [
    "InstallPlan",
    "Run",
    "ServiceStatus",
    "UninstallReport",
    "current_platform",
    "install",
    "plan_install",
    "run_command",
    "service_command",
    "service_status",
    "uninstall",
]

Run = Callable[[Sequence[str]], subprocess.CompletedProcess[str]]

# Not secrets, and needed to find the same browser: copied into the service when set.
PASSED_THROUGH = ("CASELOG_CHROMIUM", "PLAYWRIGHT_BROWSERS_PATH")
COMMAND_TIMEOUT = 60


def run_command(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run a service manager's command; a missing program is exit status 127."""
    try:
        return subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError:
        return subprocess.CompletedProcess(list(argv), 127, "", f"{argv[0]}: not found")
    except subprocess.TimeoutExpired:
        msg = f"no answer in {COMMAND_TIMEOUT} s"
        return subprocess.CompletedProcess(list(argv), 124, "", msg)


def current_platform(sys_platform: str | None = None) -> str:
    """This machine's platform as ``--platform`` names it."""
    sys_platform = sys_platform or sys.platform
    if sys_platform.startswith("linux"):
        return "linux"
    if sys_platform == "darwin":
        return "macos"
    if sys_platform in ("win32", "cygwin"):
        return "windows"
    raise ServiceUnavailable(
        f"caselog service knows systemd (Linux), launchd (macOS) and Task Scheduler "
        f'(Windows), not {sys_platform}; use the cron line in README ("Running in the '
        'background")'
    )


def service_command(platform: str, executable: str = sys.executable) -> tuple[str, ...]:
    """How the service starts caselog: the ``caselog`` script of this very installation
    (beside the interpreter), else the interpreter with ``-m agent``. On Windows
    ``pythonw.exe`` first: it opens no console window."""
    python = Path(executable).absolute()  # not resolved: a venv's python is a link
    folder = python.parent
    if platform == "windows":
        pythonw = folder / "pythonw.exe"
        if pythonw.is_file():
            return (str(pythonw), "-m", "agent")
        script = folder / "caselog.exe"
    else:
        script = folder / "caselog"
    if script.is_file():
        return (str(script),)
    return (str(python), "-m", "agent")


def env_names(settings: Settings) -> tuple[str, ...]:
    """The environment variables the configured accounts read their credentials from."""
    names: list[str] = []
    for account in settings.accounts:
        for name in (account.password_env, account.totp_env):
            if name and name not in names:
                names.append(name)
    return tuple(names)


def _windows_user(environ: Mapping[str, str]) -> str:
    user = environ.get("USERNAME") or getpass.getuser()
    domain = environ.get("USERDOMAIN")
    return f"{domain}\\{user}" if domain else user


def _places(home: Home, user_home: Path | None, environ: Mapping[str, str]) -> Places:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Places(user_home or Path.home(), environ, uid, home.root.absolute())


def _this_machine(
    home: Home, user_home: Path | None, environ: Mapping[str, str]
) -> tuple[Manager, Places, Path | None]:
    """This platform's manager, the seller's places, and where its service file goes."""
    manager = manager_for(current_platform())
    places = _places(home, user_home, environ)
    return manager, places, manager.service_path(places)


def _plain(value: Any) -> Any:
    """A report's value as JSON: paths as strings, commands as their argv."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Command):
        return list(value.argv)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "as_dict"):
        return value.as_dict()
    return value


class Report:
    """``as_dict()``: every field, ready for ``--json``."""

    def as_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True)
class PlannedFile(Report):
    path: Path | None  # None: printed for the seller to paste (cron)
    text: str
    encoding: str = "utf-8"
    keep_existing: bool = False  # the credentials file is the seller's once it exists

    @property
    def data(self) -> bytes:
        return self.text.encode(self.encoding)


@dataclass
class InstallPlan(Report):
    platform: str
    manager: str
    service_file: PlannedFile
    env_file: PlannedFile
    log_file: Path
    env_names: tuple[str, ...]
    commands: list[Command]
    probe: Command | None = None
    dry_run: bool = True
    # filled in by install():
    ran: list[Command] = field(default_factory=list)
    env_file_kept: bool = False
    missing_env: list[str] = field(default_factory=list)

    def shown(self, command: Command) -> str:
        return command.shown(windows=self.platform == "windows")


def plan_install(
    home: Home,
    settings: Settings,
    *,
    platform: str | None = None,
    config: Path | None = None,
    dry_run: bool = False,
    user_home: Path | None = None,
    environ: Mapping[str, str] = os.environ,
    executable: str = sys.executable,
) -> InstallPlan:
    """What ``install`` would write and run (refused: no account, a foreign platform)."""
    settings.account(None)  # no account configured: one sentence, exit 2
    target = platform or current_platform()
    if target not in PLATFORMS:
        raise ConfigError(f"--platform {target} is not one of {', '.join(PLATFORMS)}")
    if not dry_run:
        here = current_platform()
        if target == "cron" and here == "windows":
            raise ConfigError("cron does not run on Windows; install the Task Scheduler task")
        if target not in (here, "cron"):
            raise ConfigError(
                f"--platform {target} is not this machine's platform ({here}); add --dry-run "
                "to print its files without installing them"
            )
    manager = manager_for(target)
    places = _places(home, user_home, environ)
    root = places.home
    spec = ServiceSpec(
        command=service_command(target, executable),
        home=str(root),
        env_file=str(root / ENV_FILE),
        log_file=str(root / "logs" / LOG_FILE),
        env_names=env_names(settings),
        plain_env=tuple((k, environ[k]) for k in PASSED_THROUGH if environ.get(k)),
        config=str(config.absolute()) if config else None,
        user=_windows_user(environ),
    ).check()
    path = manager.service_path(places)
    return InstallPlan(
        platform=target,
        manager=manager.name,
        service_file=PlannedFile(path, manager.render(spec), manager.encoding),
        env_file=PlannedFile(Path(spec.env_file), render_env_file(spec), keep_existing=True),
        log_file=Path(spec.log_file),
        env_names=spec.env_names,
        commands=manager.install_commands(path, places) if path else [],
        probe=manager.probe(places),
        dry_run=dry_run,
    )


def _run(manager: Manager, commands: Sequence[Command], run: Run) -> list[Command]:
    ran = []
    for command in commands:
        result = run(command.argv)
        ran.append(command)
        if result.returncode != 0 and not command.may_fail:
            raise ServiceUnavailable(manager.refused(result))
    return ran


def _check_manager(manager: Manager, probe: Command | None, run: Run) -> None:
    """Ask the manager a harmless question first: unreachable is one sentence."""
    if probe is None:
        return
    result = run(probe.argv)
    if result.returncode != 0:
        raise ServiceUnavailable(manager.unreachable(result))


def install(plan: InstallPlan, run: Run | None = None) -> InstallPlan:
    """Carry out ``plan`` (a dry run only reads the credentials file); return it filled in."""
    run = run or run_command
    env_path = plan.env_file.path
    assert env_path is not None
    if plan.dry_run:
        plan.missing_env = _missing(env_path, plan.env_names)
        return plan
    manager = manager_for(plan.platform)
    _check_manager(manager, plan.probe, run)
    plan.log_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if env_path.exists():
        os.chmod(env_path, 0o600)
        plan.env_file_kept = True
    else:
        write_private(env_path, plan.env_file.data)
    if plan.service_file.path is not None:
        plan.service_file.path.parent.mkdir(parents=True, exist_ok=True)
        write_private(plan.service_file.path, plan.service_file.data)
    plan.missing_env = _missing(env_path, plan.env_names)
    plan.ran = _run(manager, plan.commands, run)
    return plan


def _missing(env_file: Path, names: Sequence[str]) -> list[str]:
    try:
        text = env_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return list(names)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {env_file} ({exc}); fix its permissions") from None
    return missing_values(text, names)


@dataclass
class UninstallReport(Report):
    platform: str
    manager: str
    service_file: Path | None
    removed: bool
    kept: list[Path]
    ran: list[Command]


def uninstall(
    home: Home,
    *,
    run: Run | None = None,
    user_home: Path | None = None,
    environ: Mapping[str, str] = os.environ,
) -> UninstallReport:
    """Stop, disable and remove the service of this platform; keep credentials and log."""
    run = run or run_command
    manager, places, path = _this_machine(home, user_home, environ)
    platform = manager.platform
    kept = [p for p in (places.home / ENV_FILE, places.home / "logs" / LOG_FILE) if p.exists()]
    if path is None or not path.exists():
        return UninstallReport(platform, manager.name, path, False, kept, [])
    try:
        _check_manager(manager, manager.probe(places), run)
    except ServiceUnavailable as exc:
        raise ServiceUnavailable(f"{exc}; {path} is left in place") from None
    ran = _run(manager, manager.stop_commands(places), run)
    path.unlink()
    ran += _run(manager, manager.forget_commands(places), run)
    return UninstallReport(platform, manager.name, path, True, kept, ran)


@dataclass
class ServiceStatus(Report):
    platform: str
    manager: str
    service_file: Path | None
    installed: bool
    enabled: bool | None
    running: bool | None
    detail: str
    env_file: Path
    log_file: Path
    missing_env: list[str]
    problem: str | None = None  # the manager could not be asked: one sentence


def service_status(
    home: Home,
    settings: Settings,
    *,
    run: Run | None = None,
    user_home: Path | None = None,
    environ: Mapping[str, str] = os.environ,
) -> ServiceStatus:
    """Installed, enabled, running: the file, then the manager's own answer."""
    run = run or run_command
    manager, places, path = _this_machine(home, user_home, environ)
    env_file = places.home / ENV_FILE
    status = ServiceStatus(
        platform=manager.platform,
        manager=manager.name,
        service_file=path,
        installed=bool(path and path.exists()),
        enabled=None,
        running=None,
        detail="",
        env_file=env_file,
        log_file=places.home / "logs" / LOG_FILE,
        missing_env=_missing(env_file, env_names(settings)),
    )
    if not status.installed:
        status.enabled, status.running, status.detail = False, False, "not installed"
        return status
    try:
        _check_manager(manager, manager.probe(places), run)
    except ServiceUnavailable as exc:
        status.problem = str(exc)
        status.detail = "unknown"
        return status
    queries = manager.query_commands(places)
    state = manager.state([run(c.argv) for c in queries])
    status.enabled, status.running, status.detail = state.enabled, state.running, state.detail
    return status
