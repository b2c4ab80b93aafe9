"""Browser provisioning decisions, without launching anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import BrowserMissing
from agent.site import browser


def test_explicit_chromium_must_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(browser.ENV_CHROMIUM, str(tmp_path / "nope"))
    with pytest.raises(BrowserMissing, match=r"CASELOG_CHROMIUM=.*is not an executable file"):
        browser.find_browser()


def test_explicit_chromium_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    exe = tmp_path / "chrome"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.setenv(browser.ENV_CHROMIUM, str(exe))
    choice = browser.find_browser()
    assert choice.source == "env" and choice.executable == str(exe)
    options = browser.launch_options(choice=choice)
    assert options["executable_path"] == str(exe)
    for flag in ("--disable-background-networking", "--disable-component-update", "--disable-sync"):
        assert flag in options["args"]


def test_nothing_found_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(browser.ENV_CHROMIUM, raising=False)
    monkeypatch.setattr(browser, "playwright_chromium", lambda pw=None: None)
    monkeypatch.setattr(browser, "system_chromium", lambda: None)
    with pytest.raises(BrowserMissing) as info:
        browser.find_browser()
    assert "apt-get install -y chromium" in str(info.value)
    assert "caselog install" in str(info.value)


def test_install_tries_download_then_apt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(browser.ENV_CHROMIUM, raising=False)
    ran: list[list[str]] = []
    installed = {"system": False}

    def fake_run(cmd: list[str], timeout: float, log: object) -> bool:
        ran.append(cmd)
        if cmd[:2] == ["apt-get", "install"]:
            installed["system"] = True
        return cmd[0] == "apt-get"

    monkeypatch.setattr(browser, "_run", fake_run)
    monkeypatch.setattr(browser, "playwright_chromium", lambda pw=None: None)
    monkeypatch.setattr(
        browser, "system_chromium", lambda: "/usr/bin/chromium" if installed["system"] else None
    )
    monkeypatch.setattr(browser, "_is_root", lambda: True)
    monkeypatch.setattr(browser.shutil, "which", lambda name: "/usr/bin/apt-get")
    choice = browser.install_browser(log=lambda m: None)
    assert choice.executable == "/usr/bin/chromium"
    assert ran[0][1:] == ["-m", "playwright", "install", "chromium"]
    assert ran[-1][:3] == ["apt-get", "install", "-y"]


def test_no_sandbox_only_as_root(monkeypatch: pytest.MonkeyPatch) -> None:
    choice = browser.BrowserChoice("system", "/usr/bin/chromium", "x")
    monkeypatch.setattr(browser, "_is_root", lambda: False)
    assert "--no-sandbox" not in browser.launch_options(choice=choice)["args"]
    monkeypatch.setattr(browser, "_is_root", lambda: True)
    assert "--no-sandbox" in browser.launch_options(choice=choice)["args"]


def test_playwrights_feature_switches_are_left_whole() -> None:
    """Chromium keeps only the last --disable-features (and --enable-features); Playwright
    puts its own list first, so a second one from us would turn its choices back on."""
    choice = browser.BrowserChoice("system", "/usr/bin/chromium", "x")
    args = browser.launch_options(choice=choice)["args"]
    assert not [a for a in args if a.startswith(("--disable-features", "--enable-features"))]


def test_no_redis_server_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from agent.app.fleet import redis_server
    from agent.errors import FleetUnavailable

    monkeypatch.setattr(redis_server.shutil, "which", lambda name: None)
    monkeypatch.setattr(redis_server, "apt_install", lambda package, log: False)
    with pytest.raises(FleetUnavailable) as info:
        redis_server.install_redis_server(log=lambda m: None)
    assert str(info.value) == redis_server.REDIS_HINT
    assert "apt-get install -y redis-server" in str(info.value)
    assert "caselog install --redis" in str(info.value)


def test_a_running_playwright_is_asked_for_its_chromium(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Inside a running Playwright (a sync), its own Chromium is found: a second Playwright
    cannot start in the same thread, and once that made a machine with only Playwright's
    Chromium report no Chromium at all."""
    from types import SimpleNamespace

    monkeypatch.delenv(browser.ENV_CHROMIUM, raising=False)
    monkeypatch.setattr(browser, "system_chromium", lambda: None)
    exe = tmp_path / "chrome"
    exe.write_text("#!/bin/sh\n")
    running = SimpleNamespace(chromium=SimpleNamespace(executable_path=str(exe)))
    choice = browser.find_browser(running)  # type: ignore[arg-type]
    assert choice.source == "playwright" and choice.executable is None
    assert "executable_path" not in browser.launch_options(pw=running)  # type: ignore[arg-type]
