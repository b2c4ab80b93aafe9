"""The benchmark harness (tests/perf) measures what it says it measures: the mock serves from
a process of its own, the floor runs in the caller's, and the floor asks the mock for exactly
the requests a sync would, derived here from the mock's ground truth. Nothing is timed."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from caselog_mock import SellerClient

from tests.perf.bench_home import MARKETPLACE, MERCHANT, SELECTOR_MAP
from tests.perf.figures import Report, compare, load_report
from tests.perf.http_floor import ApiSpec, Floor, normalized
from tests.perf.mock_process import MockProcess
from tests.perf.proc_tree import TreeSampler
from tests.perf.sync_bench import import_times, is_read, same_requests

# Bodies over 170 characters are cut (about one message in four here), so some contacts need a
# ViewContact; 101 messages need a second ViewCase page (a currentToken) for every case.
OPTIONS = {"truncate_chars": 170}
SCENARIOS = {
    "20 cases of 6 messages": {"cases": 20, "messages": 6, "changed": 3},
    "3 cases of 101 messages": {"cases": 3, "messages": 101, "changed": 1},
}
Req = tuple[str, str, str]


@pytest.fixture(scope="module")
def mock() -> Iterator[MockProcess]:
    with MockProcess("large", SCENARIOS["20 cases of 6 messages"], OPTIONS) as m:
        yield m


@pytest.fixture(params=list(SCENARIOS))
def params(request: pytest.FixtureRequest, mock: MockProcess) -> dict[str, int]:
    """The mock at the start of one scenario (the same server, reset with its params)."""
    mock.params = SCENARIOS[request.param]
    mock.reset()
    return mock.params


@pytest.fixture(scope="module")
def spec() -> ApiSpec:
    return ApiSpec.from_map(SELECTOR_MAP, MERCHANT, MARKETPLACE)


@pytest.fixture(scope="module")
def cookie(mock: MockProcess) -> str:
    seller = SellerClient(mock.url)
    seller.sign_in(mock.login["email"], mock.login["password"], mock.login["totp_secret"])
    return "; ".join(f"{c.name}={c.value}" for c in seller.cookies)


def expected_requests(spec: ApiSpec, truth: dict[str, Any], read: set[str]) -> Counter[Req]:
    """What a sync asks for, from the ground truth alone: the landing page, every list page
    (every case, the map's page size), each case read in ViewCase pages of the map's size,
    and one ViewContact for each message longer than the site's cut."""
    cut = OPTIONS["truncate_chars"]
    entries = [{"method": "GET", "path": spec.landing}]
    pages = max(1, math.ceil(len(truth["cases"]) / spec.page_size))
    entries += [
        {"method": "POST", "path": spec.search, "body": spec.search_body(p)} for p in range(pages)
    ]
    for case in truth["cases"]:
        cid = case["case_id"]
        if cid not in read:
            continue
        views = math.ceil(len(case["messages"]) / spec.contacts_page_size)
        entries.append({"method": "GET", "path": spec.view_path(cid)})
        entries += [{"method": "GET", "path": spec.view_path(cid, "t")}] * (views - 1)
        entries += [
            {"method": "GET", "path": spec.contact_path(cid, m["message_id"])}
            for m in case["messages"]
            if len(m["body"]) > cut
        ]
    return Counter(normalized(e) for e in entries)


def served(mock: MockProcess) -> Counter[Req]:
    return Counter(normalized(e) for e in mock.traffic()["log"])


def test_the_mock_serves_from_a_process_of_its_own() -> None:
    with MockProcess("large", {"cases": 5}) as m:
        assert m.pid != os.getpid()
        assert m.traffic(log=False)["pid"] == m.pid  # the process that answers, by its word
        proc = m.proc
    assert proc is not None and proc.poll() is not None  # stopped with the harness


def test_the_full_floor_asks_for_what_a_sync_asks_for(
    mock: MockProcess, params: dict[str, int], spec: ApiSpec, cookie: str
) -> None:
    truth = mock.admin.ground_truth()
    mock.clear_traffic()
    run = Floor(mock.url, cookie, spec, concurrency=4).full()
    want = expected_requests(spec, truth, {c["case_id"] for c in truth["cases"]})
    assert served(mock) == want
    assert any(spec.contact in path for _, path, _ in want)  # long messages were cut
    if params["messages"] > spec.contacts_page_size:
        assert any("currentToken=*" in path for _, path, _ in want)  # threads came in pages
    assert run.total_requests == sum(want.values())
    assert run.pid == os.getpid() != mock.pid  # the client ran here, the server elsewhere
    assert 1 <= len(run.threads) <= 4
    assert run.listed == run.stated == params["cases"]


def test_the_incremental_floor_reads_only_the_changed_cases(
    mock: MockProcess, params: dict[str, int], spec: ApiSpec, cookie: str
) -> None:
    floor = Floor(mock.url, cookie, spec, concurrency=2)
    before = floor.full().rows
    events = mock.admin.advance(days=1)
    changed = {e["case_id"] for e in events}
    assert len(changed) == params["changed"]
    truth = mock.admin.ground_truth()
    mock.clear_traffic()
    run = floor.incremental(before)
    assert sorted(run.read) == sorted(changed)
    assert served(mock) == expected_requests(spec, truth, changed)


def test_a_syncs_reads_are_told_from_its_page_calls(spec: ApiSpec) -> None:
    lobby_default = json.dumps({"page": 0, "searchPageSize": 25, "caseFilters": {}})
    log = [
        {"method": "POST", "path": spec.search, "body": spec.search_body(3)},
        {"method": "POST", "path": spec.search, "body": lobby_default},
        {"method": "GET", "path": spec.view_path("1")},
        {"method": "GET", "path": spec.contact_path("1", "1-001")},
        {"method": "GET", "path": spec.landing},
    ]
    assert [is_read(e, spec) for e in log] == [True, False, True, True, False]


def test_the_same_requests_in_another_order_are_the_same() -> None:
    a = Counter([("GET", "/a", ""), ("GET", "/b", "")])
    assert same_requests(a, Counter(reversed(list(a.elements())))).startswith("the sync's reads")
    assert "only the floor: 1" in same_requests(a, a + Counter([("GET", "/c", "")]))


def test_import_times_are_summed_per_package_where_first_imported() -> None:
    stderr = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:       100 |        100 |   encodings.aliases",
            "import time:       200 |        300 | encodings",
            "import time:      1000 |       1000 |       pydantic_core",
            "import time:      4000 |       5000 |     pydantic",
            "import time:       500 |       5500 |   agent.config",
            "import time:       700 |       6200 | agent.cli",
        ]
    )
    times = import_times(stderr)
    assert times[""] == pytest.approx(0.0065)  # every top-level import, cumulative
    assert times["agent"] == pytest.approx(0.0012)  # the agent's own code: self time
    assert times["pydantic"] == pytest.approx(0.005)
    assert times["pydantic_core"] == pytest.approx(0.001)
    assert times["encodings"] == pytest.approx(0.0003)


def test_figures_round_trip_and_compare(tmp_path: Path) -> None:
    def report(runs: list[float]) -> Report:
        r = Report("sync", "t", machine={"cores": 2}, params={"cases": 10})
        r.figure("Commands", "full", "full sync").runs.extend(runs)
        r.figure("Commands", "status", "status").na = "no `status` command in this version"
        return r

    before = report([3.0, 1.0, 2.0])
    before.save(tmp_path / "before.json")
    loaded = load_report(tmp_path / "before.json")
    full = loaded.figures()["full"]
    assert (full.min, full.median, full.max, full.runs) == (1.0, 2.0, 3.0, [3.0, 1.0, 2.0])
    assert "n/a: no `status` command" in loaded.render()
    side_by_side = compare(loaded, report([1.0, 1.0]))
    assert "2.00 [1.00–3.00]" in side_by_side and "0.50" in side_by_side
    with pytest.raises(ValueError, match="already in section"):
        loaded.figure("Other", "full", "again")


def test_the_tree_sampler_counts_the_cpu_of_a_grandchild_nobody_reaps() -> None:
    """Chromium's renderers are not reaped by the command, so its own rusage misses them;
    the sampler reads each process's CPU from /proc while it runs."""
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6: pass"
    script = (
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', {burn!r}], start_new_session=True)\n"
        "time.sleep(2)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    sampler = TreeSampler(proc.pid, 0.05)
    sampler.start()
    proc.wait(timeout=30)
    memory = sampler.stop()
    assert 0.5 <= memory.cpu_seconds < 2.0
