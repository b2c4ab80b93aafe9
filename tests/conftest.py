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
    from agent.site.browser import launch_options

    options = launch_options()
    options.pop("headless", None)
    return {**browser_type_launch_args, **options}


# --- mock Seller Central (fixtures/, owned by the mock-site work; see fixtures/README.md) ----
# One server per test session, on a free loopback port, started only when a test asks for it.
# Tests put it back to a known state through the admin API (`mock_admin.reset(...)`), never
# by starting another server.


@pytest.fixture(scope="session")
def mock_server() -> Any:
    """The bundled mock Seller Central (scenario "demo"), served for the whole session."""
    from caselog_mock import MockServer

    server = MockServer(scenario="demo", port=0).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mock_admin(mock_server: Any) -> Any:
    """An :class:`caselog_mock.AdminClient` for :func:`mock_server`."""
    from caselog_mock import AdminClient

    return AdminClient(mock_server.url, mock_server.admin_token)


# --- end of the mock Seller Central section ----------------------------------------------------


@pytest.fixture
def agent_session(browser: Any) -> Any:
    """The agent's BrowserSession on pytest-playwright's Chromium (one Playwright per process)."""
    from agent.site.session import BrowserSession

    return BrowserSession(browser=browser)
