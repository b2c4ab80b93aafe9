"""Shared fixtures: an isolated CASELOG_HOME per test, and Chromium from agent.browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def caselog_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty home; nothing touches the real one."""
    home = tmp_path / "caselog-home"
    monkeypatch.setenv("CASELOG_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch the same Chromium, with the same flags, as the agent does.

    No Chromium is an error with the reason (BrowserMissing), never a skip.
    """
    from agent.browser import launch_options

    options = launch_options()
    options.pop("headless", None)
    return {**browser_type_launch_args, **options}
