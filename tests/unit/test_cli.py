"""The CLI surface: help on every command, version, exit codes, one-sentence config errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from agent import __version__
from agent.cli import app

runner = CliRunner()


def all_commands() -> list[str]:
    return sorted(get_command(app).commands)  # type: ignore[attr-defined]


def test_there_are_commands() -> None:
    assert {"install", "config", "mock-site", "sync", "login", "cases", "show", "search"} <= set(
        all_commands()
    )


@pytest.mark.parametrize("command", all_commands())
def test_every_command_has_help(command: str) -> None:
    cmd = get_command(app).commands[command]  # type: ignore[attr-defined]
    assert (cmd.help or "").strip(), f"{command} has no help text"
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"caselog {__version__}"


def test_console_script_runs() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "agent", "--version"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0 and __version__ in proc.stdout


def test_unknown_command_is_a_usage_error() -> None:
    assert runner.invoke(app, ["frobnicate"]).exit_code == 2


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[[accounts]\nname = 'x'", "is not valid TOML"),
        (
            "[[accounts]]\nname='shop'\nbase_url='https://sellercentral.amazon.com'\n"
            "timezone='Mars/Olympus'",
            "key accounts[0].timezone: 'Mars/Olympus' is not a known time zone",
        ),
        (
            "[[accounts]]\nname='shop'\nbase_url='https://sellercentral.amazon.com'\n"
            "password='hunter2'",
            "key accounts[0].password holds a secret in plain text",
        ),
        ("[rules]\nfollow_up_days = 3", "key rules.follow_up_days is not a known setting"),
        ("[watch]\ninterval_minutes = -5", "key watch.interval_minutes: Input should be greater"),
        (
            "[[accounts]]\nname='a'\nbase_url='https://x.example'\n"
            "[[accounts]]\nname='a'\nbase_url='https://y.example'",
            "account name 'a' is used twice",
        ),
    ],
    ids=["syntax", "timezone", "plaintext-password", "unknown-key", "range", "duplicate"],
)
def test_broken_config_is_one_sentence_and_exit_2(
    toml: str, expected: str, caselog_home: Path
) -> None:
    caselog_home.mkdir(parents=True, exist_ok=True)
    path = caselog_home / "caselog.toml"
    path.write_text(toml)
    result = runner.invoke(app, ["config"])
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert expected in message
    assert str(path) in message
    assert "Traceback" not in result.output
    assert "hunter2" not in result.output


def test_missing_explicit_config_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["config", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_config_json_shows_defaults(caselog_home: Path) -> None:
    result = runner.invoke(app, ["config", "--json"])
    assert result.exit_code == 0
    assert '"accounts": []' in result.output
    assert caselog_home.is_dir() and (caselog_home.stat().st_mode & 0o777) == 0o700


def test_sync_without_accounts_says_what_to_do() -> None:
    result = runner.invoke(app, ["sync"])
    assert result.exit_code == 2
    assert "no account is configured" in result.output


@pytest.mark.parametrize(
    ("argv", "collects"), [(["cases", "--help"], False), (["sync", "--help"], True)]
)
def test_read_commands_run_without_the_cyclic_collector(
    argv: list[str], collects: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read command's process ends with it and makes no cycles: no collector walking its
    tables; a sync (which may run for hours in `watch`) keeps it."""
    import gc

    from agent.cli import main

    monkeypatch.setattr(sys, "argv", ["caselog", *argv])
    try:
        with pytest.raises(SystemExit):
            main()
        assert gc.isenabled() is collects
    finally:
        gc.enable()
