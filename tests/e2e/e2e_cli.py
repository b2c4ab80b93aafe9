"""The `caselog` CLI run as a real subprocess, exactly as a seller's machine would run it, in
a home configured for a mock site."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.app.demo import demo_settings, settings_toml
from agent.config import Account, Marketplace, Settings


@dataclass
class Cli:
    home: Path
    env: dict[str, str]

    def __call__(
        self, *args: str, timeout: float = 180, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``caselog ARGS``; ``stdin`` is what standard input holds (default: nothing)."""
        return subprocess.run(
            [sys.executable, "-m", "agent", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=stdin,
            stdin=subprocess.DEVNULL if stdin is None else None,
            check=False,
        )


def configure(home: Path, site: Any) -> dict[str, str]:
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


def account_cli(home: Path, server: Any, name: str, merchant_id: str, maps: dict[str, str]) -> Cli:
    """A home with one account on ``server`` (a mock of another scenario), its marketplaces
    given as marketplace ID -> selector map, and the CLI for it."""
    login = server.login
    account = Account(
        name=name,
        base_url=server.url,
        merchant_id=merchant_id,
        email=login["email"],
        password_env="E2E_PASSWORD",
        totp_env="E2E_TOTP",
        marketplaces=[Marketplace(id=m, selector_map=s) for m, s in maps.items()],
    )
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    (home / "caselog.toml").write_text(settings_toml(Settings(accounts=[account])))
    env = {
        **os.environ,
        "CASELOG_HOME": str(home),
        "E2E_PASSWORD": login["password"],
        "E2E_TOTP": login["totp_secret"],
    }
    return Cli(home, env)
