"""`caselog service`: each platform's file generated and validated by what reads it where we
can (systemd-analyze verify, systemd's own loader, plistlib, an XML parser and the Task
Scheduler schema's rules), no secret in any of them, and install / uninstall / status driven
through a fake service manager (never the machine's own)."""

from __future__ import annotations

import json
import os
import plistlib
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agent.app.service import manage
from agent.app.service.managers import PLATFORMS
from agent.app.service.render import (
    LABEL,
    TASK_NS,
    ServiceSpec,
    render_cron_line,
    render_env_file,
    render_launchd_plist,
    render_systemd_unit,
    render_task_xml,
)
from agent.app.service.runtime import load_env_file, missing_values, parse_env_file
from agent.cli import app
from agent.config import Account, Settings
from agent.errors import ConfigError, ExitCode, ServiceUnavailable
from agent.home import Home

SECRET = "hunter2-NEVER-IN-A-FILE"
TOTP = "JBSWY3DPEHPK3PXP"
NAMES = ("CASELOG_OUTDOOR_PASSWORD", "CASELOG_OUTDOOR_TOTP")
SETTINGS = Settings(
    accounts=[
        Account(
            name="outdoor",
            base_url="https://sellercentral.amazon.com",
            email="seller@example.com",
            password_env=NAMES[0],
            totp_env=NAMES[1],
        )
    ]
)
# a home a service file could get wrong: a space, a specifier, a variable, quotes, a backslash
AWKWARD = '/tmp/caselog home %q $HOME "it\'s"\\dir'


def spec_for(home: str, command: Sequence[str] = (sys.executable, "-m", "agent")) -> ServiceSpec:
    return ServiceSpec(
        command=tuple(command),
        home=home,
        env_file=f"{home}/service.env",
        log_file=f"{home}/logs/caselog-service.log",
        env_names=NAMES,
        plain_env=(("CASELOG_CHROMIUM", "/usr/bin/chromium"),),
        user="SHOP\\seller",
    )


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The credentials are set in this environment: they must not reach any file."""
    monkeypatch.setenv(NAMES[0], SECRET)
    monkeypatch.setenv(NAMES[1], TOTP)


# --- systemd ----------------------------------------------------------------------------------


def unit_settings(text: str) -> dict[str, dict[str, list[str]]]:
    """A unit file as ``section -> key -> values`` (keys such as Environment= repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        assert current is not None, f"setting before any section: {line!r}"
        key, sep, value = line.partition("=")
        assert sep, f"not KEY=value: {line!r}"
        current.setdefault(key, []).append(value)
    return sections


def test_systemd_unit_has_what_the_service_needs() -> None:
    unit = unit_settings(render_systemd_unit(spec_for("/home/seller/.local/share/caselog")))
    service = unit["Service"]
    home = "/home/seller/.local/share/caselog"
    assert service["Type"] == ["simple"]
    assert service["Restart"] == ["on-failure"]
    assert service["RestartSec"] == ["30"]
    assert service["RestartPreventExitStatus"] == ["2"]  # a bad caselog.toml: no restart loop
    assert service["KillSignal"] == ["SIGTERM"]
    assert service["KillMode"] == ["mixed"]  # SIGTERM to watch only, not to its Chromium
    assert shlex.split(service["ExecStart"][0]) == [sys.executable, "-m", "agent", "watch"]
    assert service["WorkingDirectory"] == [home]
    assert service["Environment"] == [
        f'"CASELOG_HOME={home}"',
        '"CASELOG_CHROMIUM=/usr/bin/chromium"',
    ]
    assert service["EnvironmentFile"] == [f"{home}/service.env"]
    assert service["StandardOutput"] == [f"append:{home}/logs/caselog-service.log"]
    assert service["StandardError"] == service["StandardOutput"]
    assert unit["Install"]["WantedBy"] == ["default.target"]


def systemd_analyze_verify(unit_text: str, folder: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("systemd-analyze")
    assert exe
    path = folder / "caselog-watch.service"
    path.write_text(unit_text)
    runtime = folder / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    return subprocess.run(
        [exe, "--user", "verify", str(path)],
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# A developer's machine without systemd (macOS, Windows) skips these; CI (CI=true, a Debian
# machine with systemd) never does: there a missing binary fails the test instead.
IN_CI = bool(os.environ.get("CI"))

needs_systemd_analyze = pytest.mark.skipif(
    not IN_CI and not shutil.which("systemd-analyze"),
    reason="systemd-analyze is not installed (Debian: systemd)",
)


@needs_systemd_analyze
@pytest.mark.parametrize("home", ["/home/seller/caselog", AWKWARD], ids=["plain", "awkward"])
def test_systemd_analyze_verify_accepts_the_unit(home: str, tmp_path: Path) -> None:
    proc = systemd_analyze_verify(render_systemd_unit(spec_for(home)), tmp_path)
    assert (proc.returncode, proc.stdout + proc.stderr) == (0, "")


@needs_systemd_analyze
@pytest.mark.parametrize(
    ("good", "bad", "complaint"),
    [
        ("KillMode=mixed", "KillMode=gently", "kill mode"),
        ("Restart=on-failure", "Restart=sometimes", "restart"),
        (f'ExecStart="{sys.executable}"', 'ExecStart="/nonexistent/caselog"', "not executable"),
    ],
    ids=["kill-mode", "restart", "program"],
)
def test_systemd_analyze_verify_would_catch_a_broken_unit(
    good: str, bad: str, complaint: str, tmp_path: Path
) -> None:
    text = render_systemd_unit(spec_for("/home/seller/caselog"))
    assert good in text
    proc = systemd_analyze_verify(text.replace(good, bad), tmp_path)
    assert complaint in (proc.stdout + proc.stderr).lower()


def systemd_binary() -> str | None:
    for path in ("/lib/systemd/systemd", "/usr/lib/systemd/systemd"):
        if os.access(path, os.X_OK):
            return path
    return None


def loaded_by_systemd(unit_text: str) -> dict[str, list[str]]:
    """How systemd itself reads the unit: ``systemd --test --user`` loads it (starting
    nothing) and dumps every setting after unquoting and specifier expansion. systemd will
    not do that as root, so root runs it as nobody (setpriv)."""
    exe = systemd_binary()
    assert exe
    prefix: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="caselog-unit-"))
    try:
        runtime = folder / "runtime"
        runtime.mkdir(mode=0o700)
        if os.geteuid() == 0:
            prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            folder.chmod(0o755)
            os.chown(runtime, 65534, 65534)
        (folder / "caselog-watch.service").write_text(unit_text)
        (folder / "caselog-watch.service").chmod(0o644)
        proc = subprocess.run(
            [*prefix, exe, "--test", "--user", "--unit=caselog-watch.service", "--no-pager"],
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": str(folder),
                "XDG_RUNTIME_DIR": str(runtime),
                "SYSTEMD_UNIT_PATH": f"{folder}:",
            },
            cwd="/",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr
    block = proc.stdout.split("-> Unit caselog-watch.service:\n", 1)[1].split("\n\t-> Unit ")[0]
    settings: dict[str, list[str]] = {}
    for line in block.splitlines():
        key, sep, value = line.strip().partition(": ")
        if sep:
            settings.setdefault(key, []).append(value)
    return settings


needs_systemd_loader = pytest.mark.skipif(
    not IN_CI and (systemd_binary() is None or (os.geteuid() == 0 and not shutil.which("setpriv"))),
    reason="no systemd binary here (or root without setpriv to run it as nobody)",
)


@needs_systemd_loader
@pytest.mark.parametrize("home", ["/home/seller/caselog", AWKWARD], ids=["plain", "awkward"])
def test_systemd_reads_back_the_home_and_command_as_written(home: str) -> None:
    loaded = loaded_by_systemd(render_systemd_unit(spec_for(home)))
    assert loaded["Unit Load State"] == ["loaded"]
    assert loaded["WorkingDirectory"] == [home]
    assert loaded["Environment"] == [f"CASELOG_HOME={home}", "CASELOG_CHROMIUM=/usr/bin/chromium"]
    assert loaded["EnvironmentFile"] == [f"{home}/service.env"]
    log = f"{home}/logs/caselog-service.log"
    assert loaded["StandardOutputFileToAppend"] == loaded["StandardErrorFileToAppend"] == [log]
    assert (loaded["Restart"], loaded["KillMode"]) == (["on-failure"], ["mixed"])
    # the dump quotes like a shell; "$$" is what becomes "$" when the command runs
    argv = [a.replace("$$", "$") for a in shlex.split(loaded["Command Line"][0])]
    assert argv == [sys.executable, "-m", "agent", "watch"]


@needs_systemd_loader
def test_systemd_reader_sees_a_home_escaped_wrongly() -> None:
    """The check above can fail: an unescaped specifier changes what systemd reads."""
    text = render_systemd_unit(spec_for("/home/seller/100%%done")).replace("%%%%", "%%")
    assert loaded_by_systemd(text)["WorkingDirectory"] != ["/home/seller/100%%done"]


def test_systemd_refuses_a_program_it_cannot_start() -> None:
    with pytest.raises(ConfigError, match="systemd cannot start a program whose path holds"):
        render_systemd_unit(spec_for("/home/seller/caselog", ['/opt/it"s/caselog']))


# --- launchd ----------------------------------------------------------------------------------


@pytest.mark.parametrize("home", ["/Users/seller/caselog", AWKWARD], ids=["plain", "awkward"])
def test_launchd_plist_round_trips_through_plistlib(home: str) -> None:
    text = render_launchd_plist(spec_for(home, ["/Users/seller/.venv/bin/caselog"]))
    plist = plistlib.loads(text.encode("utf-8"))
    assert plistlib.loads(plistlib.dumps(plist)) == plist
    assert plist["Label"] == LABEL
    assert plist["ProgramArguments"] == [
        "/Users/seller/.venv/bin/caselog",
        "watch",
        "--env-file",
        f"{home}/service.env",
    ]
    assert plist["EnvironmentVariables"] == {
        "CASELOG_HOME": home,
        "CASELOG_CHROMIUM": "/usr/bin/chromium",
    }
    assert plist["RunAtLoad"] is True
    assert plist["KeepAlive"] == {"SuccessfulExit": False}  # restart after a failure only
    assert (
        plist["StandardOutPath"] == plist["StandardErrorPath"] == f"{home}/logs/caselog-service.log"
    )
    assert plist["WorkingDirectory"] == home


# --- Task Scheduler ---------------------------------------------------------------------------

# The rules of the Task Scheduler schema (task schema 1.2) that our file touches: which
# children each element may have, and where the schema says sequence, in which order.
ALLOWED: dict[str, list[str]] = {
    "Task": ["RegistrationInfo", "Triggers", "Settings", "Data", "Principals", "Actions"],
    "RegistrationInfo": ["URI", "SecurityDescriptor", "Source", "Date", "Author", "Version",
                         "Description", "Documentation"],
    "Triggers": ["BootTrigger", "RegistrationTrigger", "IdleTrigger", "TimeTrigger",
                 "EventTrigger", "LogonTrigger", "SessionStateChangeTrigger", "CalendarTrigger"],
    "Principals": ["Principal"],
    "Principal": ["UserId", "LogonType", "GroupId", "DisplayName", "RunLevel",
                  "ProcessTokenSidType", "RequiredPrivileges"],
    "Settings": ["AllowStartOnDemand", "RestartOnFailure", "MultipleInstancesPolicy",
                 "DisallowStartIfOnBatteries", "StopIfGoingOnBatteries", "AllowHardTerminate",
                 "StartWhenAvailable", "NetworkProfileName", "RunOnlyIfNetworkAvailable",
                 "WakeToRun", "Enabled", "Hidden", "DeleteExpiredTaskAfter", "IdleSettings",
                 "NetworkSettings", "ExecutionTimeLimit", "Priority", "RunOnlyIfIdle"],
    "IdleSettings": ["Duration", "WaitTimeout", "StopOnIdleEnd", "RestartOnIdle"],
    "RestartOnFailure": ["Interval", "Count"],
    "Repetition": ["Interval", "Duration", "StopAtDurationEnd"],
    "Actions": ["Exec", "ComHandler", "SendEmail", "ShowMessage"],
}  # fmt: skip
SEQUENCES: dict[str, list[str]] = {
    "LogonTrigger": ["Enabled", "StartBoundary", "EndBoundary", "Repetition",
                     "ExecutionTimeLimit", "UserId", "Delay"],
    "Exec": ["Command", "Arguments", "WorkingDirectory"],
}  # fmt: skip
DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def seconds(duration: str) -> int:
    match = DURATION.match(duration)
    assert match, f"not an xs:duration we write: {duration}"
    d, h, m, s = (int(x or 0) for x in match.groups())
    return ((d * 24 + h) * 60 + m) * 60 + s


def schema_problems(root: ET.Element) -> list[str]:
    problems = []
    if root.tag != f"{{{TASK_NS}}}Task":
        problems.append(f"root is {root.tag}")
    if root.get("version") != "1.2":
        problems.append(f"version {root.get('version')}")
    for element in root.iter():
        ns, _, tag = element.tag[1:].partition("}")
        if ns != TASK_NS:
            problems.append(f"{tag} is outside the task namespace")
        children = [c.tag.split("}")[1] for c in element]
        if tag in ALLOWED:
            problems += [f"{c} may not be in {tag}" for c in children if c not in ALLOWED[tag]]
        if tag in SEQUENCES:
            order = SEQUENCES[tag]
            known = [c for c in children if c in order]
            if known != sorted(known, key=order.index) or len(known) != len(children):
                problems.append(f"{tag} children out of the schema's sequence: {children}")
        if len(set(children)) != len(children) and tag not in ("Triggers", "Actions"):
            problems.append(f"{tag} repeats a child: {children}")
    restart = root.find(f".//{{{TASK_NS}}}RestartOnFailure")
    if restart is not None:
        interval = seconds(restart.findtext(f"{{{TASK_NS}}}Interval", ""))
        count = int(restart.findtext(f"{{{TASK_NS}}}Count", "0"))
        if not 60 <= interval <= 31 * 86400 or not 1 <= count <= 255:
            problems.append(f"RestartOnFailure out of range: {interval} s, {count} times")
    for repetition in root.iter(f"{{{TASK_NS}}}Repetition"):
        if seconds(repetition.findtext(f"{{{TASK_NS}}}Interval", "")) < 60:
            problems.append("Repetition interval under a minute")
    ids = {p.get("id") for p in root.iter(f"{{{TASK_NS}}}Principal")}
    for actions in root.iter(f"{{{TASK_NS}}}Actions"):
        if actions.get("Context") not in ids:
            problems.append("Actions Context names no Principal")
    return problems


def task_file(home: str) -> bytes:
    spec = spec_for(home, [rf"{home}\.venv\Scripts\pythonw.exe", "-m", "agent"])
    return render_task_xml(spec).encode("utf-16")


WIN_HOME = r"C:\Users\Seller Name\AppData\Local\caselog"


def test_task_file_is_utf16_with_a_byte_order_mark_and_parses() -> None:
    data = task_file(WIN_HOME)
    assert data[:2] in (b"\xff\xfe", b"\xfe\xff")
    assert data.decode("utf-16").startswith('<?xml version="1.0" encoding="UTF-16"?>')
    root = ET.fromstring(data)
    assert root.tag == f"{{{TASK_NS}}}Task"


def test_task_file_follows_the_task_schema() -> None:
    root = ET.fromstring(task_file(WIN_HOME))
    assert schema_problems(root) == []
    ns = {"t": TASK_NS}
    assert root.findtext("t:Triggers/t:LogonTrigger/t:UserId", namespaces=ns) == "SHOP\\seller"
    assert root.findtext("t:Principals/t:Principal/t:LogonType", namespaces=ns) == (
        "InteractiveToken"
    )
    assert root.findtext("t:Settings/t:MultipleInstancesPolicy", namespaces=ns) == "IgnoreNew"
    assert root.findtext("t:Settings/t:ExecutionTimeLimit", namespaces=ns) == "PT0S"
    assert root.find("t:Settings/t:RestartOnFailure", ns) is not None
    exec_ = root.find("t:Actions/t:Exec", ns)
    assert exec_ is not None
    assert exec_.findtext("t:Command", namespaces=ns) == rf"{WIN_HOME}\.venv\Scripts\pythonw.exe"
    assert exec_.findtext("t:Arguments", namespaces=ns) == (
        f'-m agent watch --env-file "{WIN_HOME}/service.env" '
        f'--log-file "{WIN_HOME}/logs/caselog-service.log"'
    )
    assert exec_.findtext("t:WorkingDirectory", namespaces=ns) == WIN_HOME


def _t(tag: str) -> str:
    return f"{{{TASK_NS}}}{tag}"


def _out_of_order(root: ET.Element) -> None:
    logon = root.find(f"{_t('Triggers')}/{_t('LogonTrigger')}")
    assert logon is not None
    enabled = logon.find(_t("Enabled"))
    assert enabled is not None
    logon.remove(enabled)
    logon.append(enabled)


def _set(path: str, attr: str | None, value: str) -> Any:
    def mutate(root: ET.Element) -> None:
        element = root.find("/".join(_t(p) for p in path.split("/")))
        assert element is not None
        if attr is None:
            element.text = value
        elif attr == "tag":
            element.tag = _t(value)
        else:
            element.set(attr, value)

    return mutate


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (_out_of_order, "out of the schema's sequence"),
        (_set("Settings/RestartOnFailure/Count", None, "999"), "out of range"),
        (_set("Actions", "Context", "Nobody"), "names no Principal"),
        (_set("Settings/Hidden", "tag", "Hiden"), "Hiden may not be in Settings"),
    ],
    ids=["order", "count", "context", "unknown"],
)
def test_the_schema_check_would_catch_a_broken_task(mutate: Any, problem: str) -> None:
    root = ET.fromstring(task_file(WIN_HOME))
    mutate(root)
    assert any(problem in p for p in schema_problems(root))


# --- every file: no secret, the home and the names ----------------------------------------------


def planned(platform: str, home: Path, environ: dict[str, str]) -> manage.InstallPlan:
    return manage.plan_install(
        Home(home), SETTINGS, platform=platform, dry_run=True, user_home=home, environ=environ
    )


@pytest.mark.parametrize("platform", PLATFORMS)
def test_no_secret_in_any_file_and_the_home_and_names_are_there(
    platform: str, secrets: None, tmp_path: Path
) -> None:
    home = tmp_path / "caselog home"
    plan = planned(platform, home, dict(os.environ))
    files = [plan.service_file, plan.env_file]
    for file in files:
        text = file.data.decode(file.encoding)
        assert SECRET not in text and TOTP not in text
    service = plan.service_file.data.decode(plan.service_file.encoding)
    assert str(home) in service and str(home / "service.env") in service
    for name in NAMES:
        assert f"\n{name}=\n" in plan.env_file.text
    if platform in ("linux",):  # the unit says which names its credentials file holds
        assert all(name in service for name in NAMES)


def test_the_secret_check_can_fail(tmp_path: Path) -> None:
    """If a value were passed through, it would be found: CASELOG_CHROMIUM is passed."""
    plan = planned("linux", tmp_path, {"CASELOG_CHROMIUM": SECRET})
    assert SECRET in plan.service_file.text


# --- the credentials file, the cron line, refusals --------------------------------------------


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("A=plain", "plain"),
        ("  A = spaced  ", "spaced"),
        ("export A=exported", "exported"),
        ("A='it has # and \\ and \"'", 'it has # and \\ and "'),
        ('A="say \\"hi\\" \\\\ \\$HOME"', 'say "hi" \\ $HOME'),
        ("A=back\\ slash", "back slash"),
        ("A=", ""),
    ],
)
def test_env_file_values_read_as_systemd_reads_them(line: str, value: str) -> None:
    assert parse_env_file(f"# comment\n; comment\n\n{line}\n") == {"A": value}


def test_env_file_bad_line_is_named_by_number_never_by_content() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_env_file(f"A=1\nthis is {SECRET}\n", "/h/service.env")
    assert str(caught.value) == "/h/service.env, line 2, is not NAME=value; fix or remove that line"


def test_load_env_file_sets_values_and_an_empty_one_blanks_nothing(tmp_path: Path) -> None:
    path = tmp_path / "service.env"
    path.write_text(render_env_file(spec_for("/h")).replace(f"{NAMES[0]}=", f"{NAMES[0]}=pw"))
    environ = {NAMES[1]: "set-elsewhere"}
    assert load_env_file(path, environ) == [NAMES[0]]
    assert environ == {NAMES[0]: "pw", NAMES[1]: "set-elsewhere"}
    assert missing_values(path.read_text(), NAMES) == [NAMES[1]]


def test_load_env_file_missing_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist; run `caselog service install`"):
        load_env_file(tmp_path / "nope.env", {})


def test_cron_line_keeps_one_watch_running() -> None:
    line = render_cron_line(spec_for("/home/seller/100% caselog")).splitlines()[-1]
    minute, hour, day, month, weekday, command = line.split(" ", 5)
    assert (minute, hour, day, month, weekday) == ("*/15", "*", "*", "*", "*")
    assert "%" not in command.replace("\\%", "")  # cron turns a bare % into a newline
    words = shlex.split(command.replace("\\%", "%"))
    assert words[0] == "CASELOG_HOME=/home/seller/100% caselog"
    assert words[2:5] == ["flock", "-n", "/home/seller/100% caselog/watch.lock"]
    assert words[5:9] == [sys.executable, "-m", "agent", "watch"]
    assert "--env-file" in words and "--log-file" in words


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"env_names": ("BAD=NAME",)}, "is not a usable environment variable name"),
        ({"home": "/tmp/two\nlines"}, "contains a control character"),
    ],
)
def test_spec_refuses_what_a_file_would_misread(change: dict[str, Any], message: str) -> None:
    spec = spec_for("/h")
    spec = ServiceSpec(**{**spec.__dict__, **change})
    for render in (render_systemd_unit, render_launchd_plist, render_task_xml, render_env_file):
        with pytest.raises(ConfigError, match=message):
            render(spec)


# --- install / uninstall / status through a fake service manager -------------------------------


@dataclass
class FakeManager:
    """Answers commands by their first words; records every call."""

    answers: dict[tuple[str, ...], tuple[int, str, str]] = field(default_factory=dict)
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def __call__(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(tuple(argv))
        for prefix, (code, out, err) in self.answers.items():
            if tuple(argv[: len(prefix)]) == prefix:
                return subprocess.CompletedProcess(list(argv), code, out, err)
        return subprocess.CompletedProcess(list(argv), 0, "", "")


@pytest.fixture
def on(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``on("macos")``: this process believes it runs there."""

    def set_platform(name: str) -> None:
        monkeypatch.setattr(manage, "current_platform", lambda: name)

    yield set_platform


BUS_DOWN = (1, "", "Failed to connect to bus: No medium found\n")
UNIT = Path(".config/systemd/user/caselog-watch.service")
PLIST = Path("Library/LaunchAgents/com.caselog.watch.plist")
SYSTEMD_INSTALL = [
    ("systemctl", "--user", "show", "--property=Version"),
    ("systemctl", "--user", "daemon-reload"),
    ("systemctl", "--user", "enable", "caselog-watch.service"),
    ("systemctl", "--user", "restart", "caselog-watch.service"),
]


def expected_install(platform: str, user_home: Path, home: Path) -> tuple[Path, list[Any]]:
    if platform == "linux":
        return user_home / UNIT, SYSTEMD_INSTALL
    if platform == "macos":
        domain = f"gui/{os.getuid()}"
        return user_home / PLIST, [
            ("launchctl", "print", domain),
            ("launchctl", "bootout", f"{domain}/{LABEL}"),
            ("launchctl", "enable", f"{domain}/{LABEL}"),
            ("launchctl", "bootstrap", domain, str(user_home / PLIST)),
        ]
    xml = home / "caselog-watch.xml"
    return xml, [
        ("schtasks", "/Create", "/XML", str(xml), "/TN", "caselog-watch", "/F"),
        ("schtasks", "/End", "/TN", "caselog-watch"),
        ("schtasks", "/Run", "/TN", "caselog-watch"),
    ]


@pytest.mark.parametrize("platform", ["linux", "macos", "windows"])
def test_install_writes_private_files_then_enables_and_starts(
    platform: str, on: Any, secrets: None, tmp_path: Path
) -> None:
    on(platform)
    user_home, home = tmp_path / "user", tmp_path / "caselog"
    fake = FakeManager()
    plan = manage.plan_install(Home(home), SETTINGS, user_home=user_home, environ=dict(os.environ))
    manage.install(plan, run=fake)
    path, commands = expected_install(platform, user_home, home)
    assert fake.calls == commands
    assert path.read_bytes() == plan.service_file.data
    env_file = home / "service.env"
    assert env_file.read_text() == render_env_file(spec_for("/h"))  # the template, no values
    for private in (path, env_file):
        assert private.stat().st_mode & 0o777 == 0o600
    assert (home / "logs").is_dir()
    assert plan.missing_env == list(NAMES)


def test_a_second_install_keeps_the_credentials_the_seller_wrote(on: Any, tmp_path: Path) -> None:
    on("linux")
    home = tmp_path / "caselog"
    home.mkdir()
    (home / "service.env").write_text(f"{NAMES[0]}=pw\n{NAMES[1]}=code\n")
    (home / "service.env").chmod(0o644)
    plan = manage.install(
        manage.plan_install(Home(home), SETTINGS, user_home=tmp_path, environ={}),
        run=FakeManager(),
    )
    assert (home / "service.env").read_text() == f"{NAMES[0]}=pw\n{NAMES[1]}=code\n"
    assert (home / "service.env").stat().st_mode & 0o777 == 0o600
    assert (plan.env_file_kept, plan.missing_env) == (True, [])


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            BUS_DOWN,
            "systemd --user is not running here (Failed to connect to bus: No medium found); "
            "use cron instead: `caselog service install --platform cron` prints the line "
            '(README, "Running in the background"), or see the unit with '
            "`caselog service install --dry-run`",
        ),
        (
            (127, "", "systemctl: not found"),
            "systemctl is not installed here, so systemd --user cannot run caselog watch; use "
            "cron instead: `caselog service install --platform cron` prints the line (README, "
            '"Running in the background")',
        ),
    ],
    ids=["no-user-bus", "no-systemctl"],
)
def test_install_without_a_service_manager_is_one_sentence_and_writes_nothing(
    answer: tuple[int, str, str], message: str, on: Any, tmp_path: Path
) -> None:
    on("linux")
    fake = FakeManager({("systemctl", "--user", "show"): answer})
    plan = manage.plan_install(Home(tmp_path / "h"), SETTINGS, user_home=tmp_path, environ={})
    with pytest.raises(ServiceUnavailable) as caught:
        manage.install(plan, run=fake)
    assert str(caught.value) == message
    assert caught.value.exit_code == ExitCode.SERVICE == 5
    assert not (tmp_path / UNIT).exists() and not (tmp_path / "h" / "service.env").exists()


def test_a_refused_command_is_named(on: Any, tmp_path: Path) -> None:
    on("linux")
    fake = FakeManager({("systemctl", "--user", "enable"): (1, "", "Access denied\n")})
    plan = manage.plan_install(Home(tmp_path / "h"), SETTINGS, user_home=tmp_path, environ={})
    with pytest.raises(ServiceUnavailable) as caught:
        manage.install(plan, run=fake)
    assert str(caught.value).startswith(
        "systemd --user refused `systemctl --user enable caselog-watch.service` (Access denied)"
    )
    assert fake.calls == SYSTEMD_INSTALL[:3]


def test_uninstall_stops_disables_removes_and_keeps_the_credentials(
    on: Any, tmp_path: Path
) -> None:
    on("linux")
    home = tmp_path / "h"
    fake = FakeManager()
    manage.install(
        manage.plan_install(Home(home), SETTINGS, user_home=tmp_path, environ={}), run=fake
    )
    fake.calls.clear()
    report = manage.uninstall(Home(home), run=fake, user_home=tmp_path, environ={})
    assert report.removed and not (tmp_path / UNIT).exists()
    assert report.kept == [home / "service.env"]
    assert fake.calls == [
        ("systemctl", "--user", "show", "--property=Version"),
        ("systemctl", "--user", "disable", "--now", "caselog-watch.service"),
        ("systemctl", "--user", "daemon-reload"),
        ("systemctl", "--user", "reset-failed", "caselog-watch.service"),
    ]
    again = manage.uninstall(Home(home), run=fake, user_home=tmp_path, environ={})
    assert not again.removed and again.ran == []


STATES = {
    "linux": (
        {
            ("systemctl", "--user", "is-enabled"): (0, "enabled\n", ""),
            ("systemctl", "--user", "is-active"): (3, "activating\n", ""),
        },
        (True, False, "enabled, activating"),
    ),
    "macos": (
        {
            ("launchctl", "print", f"gui/{os.getuid()}/{LABEL}"): (
                0,
                f"gui/{os.getuid()}/{LABEL} = {{\n\tactive count = 1\n\tstate = running\n"
                "\tpid = 4242\n}\n",
                "",
            )
        },
        (True, True, "running"),
    ),
    "windows": (
        {("schtasks", "/Query"): (0, '"\\caselog-watch","N/A","Running"\r\n', "")},
        (True, True, "Running"),
    ),
}


@pytest.mark.parametrize("platform", ["linux", "macos", "windows"])
def test_status_reads_the_managers_answer(platform: str, on: Any, tmp_path: Path) -> None:
    on(platform)
    home = tmp_path / "h"
    answers, expected = STATES[platform]
    fake = FakeManager(answers)
    manage.install(
        manage.plan_install(Home(home), SETTINGS, user_home=tmp_path, environ={}), run=fake
    )
    status = manage.service_status(Home(home), SETTINGS, run=fake, user_home=tmp_path, environ={})
    assert status.installed
    assert (status.enabled, status.running, status.detail) == expected
    assert status.log_file == home / "logs" / "caselog-service.log"
    assert status.missing_env == list(NAMES)


def test_status_when_the_manager_cannot_be_asked(on: Any, tmp_path: Path) -> None:
    on("linux")
    (tmp_path / UNIT).parent.mkdir(parents=True)
    (tmp_path / UNIT).write_text("[Service]\n")
    fake = FakeManager({("systemctl", "--user", "show"): BUS_DOWN})
    status = manage.service_status(
        Home(tmp_path / "h"), SETTINGS, run=fake, user_home=tmp_path, environ={}
    )
    assert status.installed and status.running is None
    assert status.problem and status.problem.startswith("systemd --user is not running here")


# --- the CLI ------------------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def configured(caselog_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    caselog_home.mkdir(parents=True, exist_ok=True)
    (caselog_home / "caselog.toml").write_text(
        "[[accounts]]\nname = 'outdoor'\nbase_url = 'https://sellercentral.amazon.com'\n"
        f"password_env = '{NAMES[0]}'\ntotp_env = '{NAMES[1]}'\n"
    )
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return caselog_home


def test_cli_install_without_user_systemd_exits_5_with_one_sentence(
    configured: Path, on: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    on("linux")
    monkeypatch.setattr(manage, "run_command", FakeManager({("systemctl",): BUS_DOWN}))
    result = runner.invoke(app, ["service", "install"])
    assert result.exit_code == 5, result.output
    message = " ".join(result.output.split())
    assert message.startswith("error: systemd --user is not running here")
    assert "caselog service install --platform cron" in message
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--platform", "windows"],
            "--platform windows is not this machine's platform (linux); add --dry-run to print "
            "its files without installing them",
        ),
        (["--platform", "beos", "--dry-run"], "--platform beos is not one of"),
    ],
)
def test_cli_install_for_another_platform_needs_dry_run(
    args: list[str], message: str, configured: Path, on: Any
) -> None:
    on("linux")
    result = runner.invoke(app, ["service", "install", *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_cli_install_without_an_account_says_so(caselog_home: Path) -> None:
    result = runner.invoke(app, ["service", "install", "--dry-run", "--platform", "linux"])
    assert result.exit_code == 2
    assert "no account is configured" in result.output


# --- end to end: the real command in a subprocess -----------------------------------------------


def caselog(home: Path, user: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CASELOG_HOME": str(home),
        "HOME": str(user),
        NAMES[0]: SECRET,
        NAMES[1]: TOTP,
    }
    env.pop("XDG_CONFIG_HOME", None)
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture
def e2e_home(tmp_path: Path) -> tuple[Path, Path]:
    home, user = tmp_path / "caselog home", tmp_path / "user"
    home.mkdir()
    user.mkdir()
    (home / "caselog.toml").write_text(
        "[[accounts]]\nname = 'outdoor'\nbase_url = 'https://sellercentral.amazon.com'\n"
        f"password_env = '{NAMES[0]}'\ntotp_env = '{NAMES[1]}'\n"
    )
    return home, user


def tree(*folders: Path) -> list[Path]:
    return sorted(p for folder in folders for p in folder.rglob("*"))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_e2e_dry_run_prints_a_valid_file_and_changes_nothing(
    platform: str, e2e_home: tuple[Path, Path], tmp_path: Path
) -> None:
    home, user = e2e_home
    before = tree(home, user)
    proc = caselog(home, user, "service", "install", "--dry-run", "--platform", platform, "--json")
    assert proc.returncode == 0, proc.stderr
    assert tree(home, user) == before
    assert SECRET not in proc.stdout + proc.stderr and TOTP not in proc.stdout + proc.stderr
    plan = json.loads(proc.stdout)
    assert (plan["platform"], plan["dry_run"], plan["ran"]) == (platform, True, [])
    assert [n for n in NAMES if f"\n{n}=\n" in plan["env_file"]["text"]] == list(NAMES)
    text = plan["service_file"]["text"]
    assert str(home) in text
    if platform == "linux":
        assert unit_settings(text)["Service"]["Restart"] == ["on-failure"]
        if shutil.which("systemd-analyze"):
            assert systemd_analyze_verify(text, tmp_path).stderr == ""
    elif platform == "macos":
        assert plistlib.loads(text.encode())["KeepAlive"] == {"SuccessfulExit": False}
    elif platform == "windows":
        assert schema_problems(ET.fromstring(text.encode("utf-16"))) == []
    else:
        assert "flock -n" in text


def test_e2e_dry_run_prints_the_file_and_the_commands(e2e_home: tuple[Path, Path]) -> None:
    home, user = e2e_home
    proc = caselog(home, user, "service", "install", "--dry-run", "--platform", "linux")
    assert proc.returncode == 0, proc.stderr
    assert f"# {user / UNIT}\n" in proc.stdout
    assert "\nsystemctl --user enable caselog-watch.service\n" in proc.stdout
    assert "[Service]\nType=simple\n" in proc.stdout


def test_e2e_watch_writes_to_its_log_and_reads_its_credentials_file(tmp_path: Path) -> None:
    """What the service runs: `watch --env-file F --log-file L`; everything it says goes to L
    (here: no account configured, exit 2), nothing to the terminal."""
    home, log = tmp_path / "home", tmp_path / "logs" / "caselog-service.log"
    home.mkdir()
    (tmp_path / "service.env").write_text("A=1\n")
    proc = caselog(
        home, tmp_path, "watch", "--env-file", str(tmp_path / "service.env"),
        "--log-file", str(log),
    )  # fmt: skip
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", "")
    assert "no account is configured" in log.read_text()
    assert log.stat().st_mode & 0o777 == 0o600
    missing = caselog(home, tmp_path, "watch", "--env-file", str(tmp_path / "none.env"))
    assert missing.returncode == 2
    assert f"{tmp_path / 'none.env'} does not exist" in " ".join(missing.stderr.split())
