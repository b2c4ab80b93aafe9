"""End-to-end fixtures: the mock site on a free port, a home configured for it, and the
`caselog` CLI run as a real subprocess exactly as a seller's machine would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agent.demo import demo_settings, settings_toml


@dataclass
class Site:
    server: Any
    admin: Any

    @property
    def url(self) -> str:
        return str(self.server.url)


@pytest.fixture(scope="session")
def e2e_site(mock_server: Any, mock_admin: Any) -> Site:
    """The session's mock site (tests/conftest.py), seen through the e2e helpers."""
    return Site(mock_server, mock_admin)


@pytest.fixture
def site(e2e_site: Site) -> Site:
    """The shared demo site, reset to its scenario's start with no faults."""
    e2e_site.admin.reset(scenario="demo")
    e2e_site.admin.clear_faults()
    return e2e_site


@dataclass
class Cli:
    home: Path
    env: dict[str, str]

    def __call__(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "agent", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )


def configure(home: Path, site: Site) -> dict[str, str]:
    login = site.server.login
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    settings = demo_settings(site.url, login["email"])
    (home / "caselog.toml").write_text(settings_toml(settings))
    return {
        **os.environ,
        "CASELOG_HOME": str(home),
        "CASELOG_DEMO_PASSWORD": login["password"],
        "CASELOG_DEMO_TOTP": login["totp_secret"],
    }


@pytest.fixture
def cli(site: Site, caselog_home: Path) -> Cli:
    return Cli(caselog_home, configure(caselog_home, site))
