"""Shared fixtures: an isolated CASELOG_HOME per test, and Chromium from agent.browser."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], playwright: Any
) -> dict[str, Any]:
    """Launch the same Chromium, with the same flags, as the agent does.

    No Chromium is an error with the reason (BrowserMissing), never a skip.
    """
    from agent.site.browser import launch_options

    options = launch_options(pw=playwright)
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


@dataclass
class NoticeSink:
    """A real notification target: a local webhook that apprise's ``json://`` URLs post to.

    ``received`` holds each accepted notice (``{"title", "message", ...}``); ``fail_next``
    makes that many posts fail with HTTP 500 first (a target that is down for a while).
    """

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0
    refused: int = 0

    @property
    def titles(self) -> list[str]:
        return [n["title"] for n in self.received]

    @property
    def bodies(self) -> list[str]:
        return [n["message"] for n in self.received]


@pytest.fixture
def notice_sink() -> Iterator[NoticeSink]:
    sink = NoticeSink()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if sink.fail_next > 0:
                sink.fail_next -= 1
                sink.refused += 1
                self.send_response(500)
            else:
                sink.received.append(json.loads(body))
                self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sink.url = f"json://127.0.0.1:{server.server_address[1]}/hook"
    yield sink
    server.shutdown()
    server.server_close()


# --- a real Redis (the fleet: caselog worker / scheduler) ------------------------------------


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Any]:
    """A ``redis-server`` of the session's own on a free port (tests/perf/redis_process.py).
    None installed fails the test with what to install; it never skips."""
    from agent.errors import FleetUnavailable
    from tests.perf.redis_process import RedisProcess

    try:
        server = RedisProcess().start()
    except FleetUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: Any) -> str:
    """The session's Redis, emptied for this test."""
    redis_server.client().flushall()
    return str(redis_server.url())


# --- the order files run in -------------------------------------------------------------------
# `make test` shares the files among workers (pytest-xdist, --dist loadfile), handing each
# worker the next file when it is free, in this order. The longest files go first, so that no
# worker starts a two-minute file while the other has nothing left to do (pytest-xdist's own
# order, most tests first, puts the one-test kill files last). Seconds on a 2-core machine.
LONGEST_FIRST = {
    "tests/e2e/test_act_kill.py": 150,
    "tests/e2e/test_kill.py": 110,
    "tests/e2e/test_fleet_e2e.py": 70,
    "tests/e2e/test_watch_e2e.py": 65,
    "tests/e2e/test_faults.py": 90,
    "tests/e2e/test_background.py": 60,
    "tests/e2e/test_events_truth.py": 47,
    "tests/e2e/test_act_cli.py": 40,
    "tests/e2e/test_act_autopilot.py": 30,
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def cost(item: pytest.Item) -> tuple[int, int]:
        path = item.nodeid.partition("::")[0]
        return (-LONGEST_FIRST.get(path, 0), item.get_closest_marker("browser") is None)

    items.sort(key=cost)  # stable: the tests of a file keep their order
