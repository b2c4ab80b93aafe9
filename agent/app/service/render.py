"""The files that run ``caselog watch`` in the background, one renderer per service manager.

Pure: a :class:`ServiceSpec` in, the file's text out; nothing here reads the environment or
the disk, so every file can be generated (and checked) for any platform on any machine.

- **No secret is ever written here.** The spec carries the *names* of the environment
  variables the accounts need (``password_env``, ``totp_env``), never their values. The values
  live in one private file in the home (``service.env``, mode 0600) that the seller fills in:
  systemd reads it itself (``EnvironmentFile=``); launchd and Task Scheduler have no such
  thing, so they pass it to ``caselog watch --env-file``.
- **systemd** (user unit): ``Restart=on-failure`` except for exit 2 (a bad ``caselog.toml``
  does not heal by restarting); ``KillMode=mixed`` sends SIGTERM to ``caselog watch`` alone,
  which stops after the current job and closes its Chromium itself (SIGTERM to the whole
  group would kill Chromium mid-sync); output is appended to the log in the home.
- **launchd**: ``KeepAlive`` restarts only after a failed exit (``SuccessfulExit = false``),
  throttled to once per 30 s; written by :mod:`plistlib`.
- **Task Scheduler**: schema 1.2, UTF-16 with a byte-order mark as ``schtasks /Create /XML``
  expects. ``RestartOnFailure`` only covers a task that failed to *start*, so the logon
  trigger also repeats every 15 minutes: with ``MultipleInstancesPolicy = IgnoreNew`` that
  starts ``caselog watch`` again only when it is not running. No console window: it runs
  ``pythonw.exe`` where there is one, with ``--log-file`` instead of a terminal.
- Anything a file format could misread (a newline in a path, a variable name with ``=``) is
  refused with one sentence rather than written.
"""

from __future__ import annotations

import plistlib
import re
import shlex
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from agent.errors import ConfigError

__all__ = [
    "ENV_FILE",
    "LABEL",
    "LOG_FILE",
    "TASK_ENCODING",
    "TASK_NAME",
    "TASK_NS",
    "UNIT_NAME",
    "ServiceSpec",
    "render_cron_line",
    "render_env_file",
    "render_launchd_plist",
    "render_systemd_unit",
    "render_task_xml",
]

UNIT_NAME = "caselog-watch.service"
LABEL = "com.caselog.watch"
TASK_NAME = "caselog-watch"
TASK_NS = "http://schemas.microsoft.com/windows/2004/02/mit/task"
ENV_FILE = "service.env"
LOG_FILE = "caselog-service.log"  # in the home's logs/ folder

DESCRIPTION = "caselog watch: monitors the Seller Central Case Log (sync, rules, notices)"
RESTART_SECONDS = 30
STOP_SECONDS = 120
KEEPALIVE = "PT15M"

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ServiceSpec:
    """What the service runs, where, and with which environment (names only, no values).

    ``command`` is the program and its leading arguments: the ``caselog`` script beside
    the running interpreter, or the interpreter with ``-m agent``. Paths are strings so a
    file for another platform can be rendered here.
    """

    command: tuple[str, ...]
    home: str
    env_file: str
    log_file: str
    env_names: tuple[str, ...] = ()
    # other variables the service needs, set in the unit (never secrets: the home, a browser)
    plain_env: tuple[tuple[str, str], ...] = ()
    config: str | None = None
    user: str = ""  # the Windows account the task runs as (DOMAIN\user)

    def watch_argv(self, *, env_file: bool = False, log_file: bool = False) -> list[str]:
        """``caselog watch`` with the options this service passes."""
        argv = [*self.command, "watch"]
        if self.config:
            argv += ["--config", self.config]
        if env_file:
            argv += ["--env-file", self.env_file]
        if log_file:
            argv += ["--log-file", self.log_file]
        return argv

    @property
    def environment(self) -> dict[str, str]:
        """The non-secret variables written into the file: the home first."""
        return {"CASELOG_HOME": self.home, **dict(self.plain_env)}

    def check(self) -> ServiceSpec:
        """Refuse what a service file could misread; return the spec."""
        for name in self.env_names:
            if not _ENV_NAME.match(name):
                raise ConfigError(
                    f"{name!r} (password_env or totp_env in caselog.toml) is not a usable "
                    "environment variable name; use letters, digits and '_' only"
                )
        texts = [*self.command, self.home, self.env_file, self.log_file, self.user]
        texts += [self.config or "", *(v for _, v in self.plain_env)]
        for text in texts:
            if _CONTROL.search(text):
                raise ConfigError(
                    f"{text!r} contains a control character (a newline?) that a service file "
                    "cannot hold; move the home or the program to a plain path"
                )
        if not self.command:
            raise ConfigError("the service needs a program to run")
        return self


# --- systemd --------------------------------------------------------------------------------


def _systemd_quoted(value: str, *, command: bool = False) -> str:
    """A double-quoted systemd value: C escapes, ``%`` doubled (specifiers), and in a
    command line ``$`` doubled too (``Environment=`` expands no variables)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    return '"' + (escaped.replace("$", "$$") if command else escaped) + '"'


def _systemd_path(path: str) -> str:
    """A path setting (``WorkingDirectory=``...): only specifiers need escaping."""
    return path.replace("%", "%%")


def render_systemd_unit(spec: ServiceSpec) -> str:
    """``caselog-watch.service``, a systemd user unit."""
    spec.check()
    program, *args = spec.watch_argv()
    if any(c in program for c in "\"'\\"):
        raise ConfigError(
            f"systemd cannot start a program whose path holds a quote or a backslash "
            f"({program}); install caselog under a plain path"
        )
    words = [_systemd_quoted(program), *(_systemd_quoted(a, command=True) for a in args)]
    exec_start = " ".join(words)
    env = [f"Environment={_systemd_quoted(f'{k}={v}')}" for k, v in spec.environment.items()]
    log = _systemd_path(spec.log_file)
    lines = [
        "# Written by `caselog service install`; `caselog service uninstall` removes it.",
        f"# Credentials are read from {spec.env_file} (mode 0600), never from this file:",
        f"# {', '.join(spec.env_names) or '(none named in caselog.toml)'}.",
        "[Unit]",
        f"Description={DESCRIPTION}",
        "",
        "[Service]",
        "Type=simple",
        f"ExecStart={exec_start}",
        f"WorkingDirectory={_systemd_path(spec.home)}",
        *env,
        f"EnvironmentFile={_systemd_path(spec.env_file)}",
        "Restart=on-failure",
        f"RestartSec={RESTART_SECONDS}",
        "RestartPreventExitStatus=2",
        "KillSignal=SIGTERM",
        "KillMode=mixed",
        f"TimeoutStopSec={STOP_SECONDS}",
        "UMask=0077",
        f"StandardOutput=append:{log}",
        f"StandardError=append:{log}",
        "",
        "[Install]",
        "WantedBy=default.target",
        "",
    ]
    return "\n".join(lines)


# --- launchd --------------------------------------------------------------------------------


def render_launchd_plist(spec: ServiceSpec) -> str:
    """``com.caselog.watch.plist``, a launchd agent of the logged-in user."""
    spec.check()
    plist = {
        "Label": LABEL,
        "ProgramArguments": spec.watch_argv(env_file=True),
        "EnvironmentVariables": spec.environment,
        "WorkingDirectory": spec.home,
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "ThrottleInterval": RESTART_SECONDS,
        "ExitTimeOut": STOP_SECONDS,
        "ProcessType": "Background",
        "Umask": 0o077,
        "StandardOutPath": spec.log_file,
        "StandardErrorPath": spec.log_file,
    }
    return plistlib.dumps(plist, sort_keys=False).decode("utf-8")


# --- Task Scheduler -------------------------------------------------------------------------


def _element(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    child = ET.SubElement(parent, f"{{{TASK_NS}}}{tag}", attrs)
    if text is not None:
        child.text = text
    return child


def _elements(parent: ET.Element, values: dict[str, str]) -> None:
    for tag, text in values.items():
        _element(parent, tag, text)


def render_task_xml(spec: ServiceSpec) -> str:
    """The Task Scheduler task (schema 1.2). Write it as UTF-16 (:data:`TASK_ENCODING`)."""
    spec.check()
    ET.register_namespace("", TASK_NS)
    task = ET.Element(f"{{{TASK_NS}}}Task", {"version": "1.2"})
    info = _element(task, "RegistrationInfo")
    _elements(info, {"Author": spec.user, "Description": DESCRIPTION})

    logon = _element(_element(task, "Triggers"), "LogonTrigger")
    # triggerBaseType is a sequence: Enabled, StartBoundary, EndBoundary, Repetition, ...
    _element(logon, "Enabled", "true")
    repeat = _element(logon, "Repetition")
    _elements(repeat, {"Interval": KEEPALIVE, "StopAtDurationEnd": "false"})
    _element(logon, "UserId", spec.user)

    principal = _element(_element(task, "Principals"), "Principal", id="Author")
    _elements(
        principal,
        {"UserId": spec.user, "LogonType": "InteractiveToken", "RunLevel": "LeastPrivilege"},
    )

    settings = _element(task, "Settings")
    _elements(
        settings,
        {
            "MultipleInstancesPolicy": "IgnoreNew",
            "DisallowStartIfOnBatteries": "false",
            "StopIfGoingOnBatteries": "false",
            "AllowHardTerminate": "true",
            "StartWhenAvailable": "true",
            "RunOnlyIfNetworkAvailable": "false",
        },
    )
    idle = _element(settings, "IdleSettings")
    _elements(idle, {"StopOnIdleEnd": "false", "RestartOnIdle": "false"})
    _elements(
        settings,
        {
            "AllowStartOnDemand": "true",
            "Enabled": "true",
            "Hidden": "false",
            "RunOnlyIfIdle": "false",
            "WakeToRun": "false",
            "ExecutionTimeLimit": "PT0S",  # no limit: it runs until stopped
            "Priority": "7",
        },
    )
    restart = _element(settings, "RestartOnFailure")
    _elements(restart, {"Interval": "PT1M", "Count": "255"})  # Count is an unsignedByte

    exec_ = _element(_element(task, "Actions", Context="Author"), "Exec")
    program, *args = spec.watch_argv(env_file=True, log_file=True)
    _elements(
        exec_,
        {
            "Command": program,
            "Arguments": subprocess.list2cmdline(args),
            "WorkingDirectory": spec.home,
        },
    )
    ET.indent(task, space="  ")
    body = ET.tostring(task, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-16"?>\n{body}\n'


TASK_ENCODING = "utf-16"  # Python's utf-16 codec writes the byte-order mark schtasks wants


# --- the environment file and cron ----------------------------------------------------------


def render_env_file(spec: ServiceSpec) -> str:
    """The template of ``service.env``: one ``NAME=`` line per variable, values left empty."""
    spec.check()
    lines = [
        "# Credentials for `caselog watch` run in the background (`caselog service`). Private",
        "# to you (mode 0600): caselog never copies them anywhere else.",
        "# One NAME=value per line; put a value with spaces, quotes, '#' or '\\' in single",
        "# quotes: NAME='value'. The names are password_env / totp_env in caselog.toml.",
    ]
    if not spec.env_names:
        lines.append("# (no account in caselog.toml names an environment variable)")
    lines += [f"{name}=" for name in spec.env_names]
    return "\n".join(lines) + "\n"


def render_cron_line(spec: ServiceSpec) -> str:
    """A crontab line that keeps ``caselog watch`` running: every 15 minutes ``flock -n``
    starts it unless it already runs (Linux: util-linux's flock)."""
    spec.check()
    lock = spec.home.rstrip("/") + "/watch.lock"
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in spec.environment.items())
    argv = ["flock", "-n", lock, *spec.watch_argv(env_file=True, log_file=True)]
    command = f"{env} {shlex.join(argv)}".replace("%", "\\%")  # cron turns % into newlines
    header = "# caselog watch, kept running by cron: flock -n starts it unless it already runs"
    return f"{header}\n*/15 * * * * {command}\n"
