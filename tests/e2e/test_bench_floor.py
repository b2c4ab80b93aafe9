"""The benchmark's floors, raw HTTP (tests/perf/http_floor.py) and inside Chromium
(tests/perf/browser_floor.py), ask the mock for exactly the reads `caselog sync --full` makes,
compared on the mock's own request log: when the agent's reads change, this fails until the
floors follow, so they stay like for like."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser

from tests.perf.bench_home import ACCOUNT, MARKETPLACE, MERCHANT, SELECTOR_MAP, BenchHome
from tests.perf.browser_floor import BrowserFloor
from tests.perf.cli_runs import Commander
from tests.perf.http_floor import ApiSpec, Floor, cookie_header_from_state, normalized
from tests.perf.mock_process import MockProcess
from tests.perf.sync_bench import REPO, is_read

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_floor_reads_what_a_full_sync_reads(tmp_path: Path, browser: Browser) -> None:
    spec = ApiSpec.from_map(SELECTOR_MAP, MERCHANT, MARKETPLACE)
    # 101 messages: every thread takes two ViewCase pages; bodies over 170 characters are cut
    with MockProcess("large", {"cases": 5, "messages": 101}, {"truncate_chars": 170}) as mock:
        bench = BenchHome(tmp_path / "bench")
        bench.configure(mock.url, mock.login["email"], [4])
        cmd = Commander(bench.env(mock.login), REPO, bench.scratch, timeout=300)
        cmd.run(["sync", "--account", ACCOUNT, "--json"]).check()  # signs in
        mock.clear_traffic()
        cmd.run(["sync", "--account", ACCOUNT, "--full", "--json"]).check()
        log = mock.traffic()["log"]
        sync = Counter(normalized(e) for e in log if is_read(e, spec))
        cookie = cookie_header_from_state(bench.state, urlsplit(mock.url).hostname or "")
        mock.clear_traffic()
        Floor(mock.url, cookie, spec, concurrency=4).full()
        floor_log = mock.traffic()["log"]
        mock.clear_traffic()
        # the test's own Chromium (a second Playwright cannot start in this thread)
        run = BrowserFloor(mock.url, bench.state, spec, 4, {mock.pid}).full(1, browser)
        browser_log = mock.traffic()["log"]
    floor = Counter(normalized(e) for e in floor_log if e["kind"] == "api")
    assert floor == sync
    assert Counter(normalized(e) for e in browser_log if is_read(e, spec)) == sync
    assert run.listed == 5
    assert run.total_requests == sum(sync.values())
    assert any("currentToken=*" in path for _, path, _ in sync)
    assert any(spec.contact in path for _, path, _ in sync)
    # besides the API, the floor loads the landing page once, as the sync's sign-in check does
    assert [e["path"] for e in floor_log if e["kind"] != "api"] == [spec.landing]
    assert spec.landing in [e["path"] for e in log if e["kind"] == "page"]
