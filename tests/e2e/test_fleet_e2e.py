"""A fleet on one machine with every part real: a ``redis-server`` of the test's own, two
``caselog worker`` processes (a Chromium each), a ``caselog scheduler``, and the mock serving
ten accounts (an agency's sellers on one login). Three rounds; before the second and the
third the mock's clock runs a day, so Amazon answers and statuses move:

- every account's store equals the site, and its events are those that follow from the
  site's history (ground-truth dumps taken between rounds);
- a second scheduler started by mistake beside the first sends nothing while the first lives;
- ``kill -9`` of the first scheduler after round 1: the second carries on from what Redis
  recorded, and no round is sent twice;
- ``kill -9`` of a worker (its process group: pool and Chromium, as when a machine is lost)
  in the middle of an account's round: the task is delivered again, to another worker, and
  runs to its end once; the result is that of a fleet nobody killed.
"""

from __future__ import annotations

import itertools
import re
import time
from collections import Counter
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from caselog_mock import AdminClient, MockServer
from caselog_mock.scenarios import large_merchant_id
from e2e_truth import differences, expected_events, recorded_events, site_view, store_view
from redis import Redis

from tests.perf.fleet_parts import (
    FleetLedger,
    FleetProcess,
    account_name,
    agency_env,
    agency_toml,
    wait_for,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

N = 10
INTERVAL_S = 25.0  # the scheduler sends each account's round this often
QUIET_S = 3.0  # the clock runs no later than this before the next round is due (an admin call)
ROUND_TIMEOUT_S = 120.0


@pytest.fixture
def agency() -> Iterator[MockServer]:
    server = MockServer(
        scenario="large",
        port=0,
        params={"cases": 5, "messages": 2, "changed": 2, "merchants": N},
    )
    server.start()
    yield server
    server.stop()


class Fleet:
    """The processes of the test, and what it waits for."""

    def __init__(self, home: Path, env: dict[str, str], ledger: FleetLedger) -> None:
        self.home, self.env, self.ledger = home, env, ledger
        self.procs: dict[str, FleetProcess] = {}

    def start(self, name: str, *args: str) -> FleetProcess:
        self.procs[name] = FleetProcess(name, list(args), self.env, self.home.parent)
        return self.procs[name]

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()  # all at once: each finishes its round meanwhile
        for proc in self.procs.values():
            proc.stop(timeout=20)

    def logs(self) -> str:
        return "\n".join(f"--- {n}\n{p.text()[-3000:]}" for n, p in self.procs.items())

    def settle(self, since: float) -> None:
        """Every account was sent a round at ``since`` or later, and every round sent ran to
        its end, with time left before the next is due: the site may change now without a
        round seeing half of it."""
        while True:
            wait_for("a round of every account", partial(self._ran, since), ROUND_TIMEOUT_S)
            last = max(s.at for s in self.ledger.sent())
            if time.time() - last < INTERVAL_S - QUIET_S:
                return
            since = last + 1  # too close to the next round: let it run first

    def _ran(self, since: float) -> bool:
        sent = {s.account for s in self.ledger.sent() if s.at >= since}
        every = all(account_name(k) in sent for k in range(N))
        return every and not self.ledger.pending()


def received(proc: FleetProcess) -> list[str]:
    """The tasks a worker's log says it received."""
    return re.findall(r"Task caselog\.round\[([0-9a-f-]+)\] received", proc.text())


def test_two_workers_and_a_scheduler_survive_kill_9_and_a_second_scheduler(
    agency: MockServer, redis_url: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    login = agency.login
    (home / "caselog.toml").write_text(
        agency_toml(
            agency.url,
            login["email"],
            N,
            watch={"interval_minutes": INTERVAL_S / 60, "jitter_seconds": 0},
            fleet={
                "redis_url": redis_url,
                "lock_seconds": 6,
                "redeliver_seconds": 6,
                "scheduler_lock_seconds": 6,
            },
        )
    )
    admin = AdminClient(agency.url, agency.admin_token)
    ledger = FleetLedger(Redis.from_url(redis_url))
    fleet = Fleet(home, agency_env(home, login), ledger)
    dumps: list[dict[str, Any]] = []
    try:
        w1 = fleet.start("w1", "worker", "-n", "w1@%h")
        fleet.start("w2", "worker", "-n", "w2@%h")
        s1 = fleet.start("s1", "scheduler")
        wait_for("the first scheduler's lock", lambda: "Acquired lock" in s1.text(), 60)
        s2 = fleet.start("s2", "scheduler")  # started by mistake: it must wait and send nothing

        fleet.settle(since=0)
        dumps.append(admin.ground_truth())
        s1.kill9()  # the second takes over once the first one's lock has lapsed
        s1_killed_at = time.time()
        before = len(ledger.sent())
        admin.advance(days=1)
        advanced_at = time.time()

        def under_way() -> list[str]:
            """w1's tasks of the round after the clock ran, received and not ended."""
            later = {s.task_id for s in ledger.sent()[before:]}
            return [t for t in received(w1) if t in later and ledger.done(t) is None]

        wait_for("a round of worker w1 under way", lambda: bool(under_way()), ROUND_TIMEOUT_S)
        victim = under_way()[0]
        time.sleep(0.3)  # into its round
        w1.kill9()
        w1_killed_at = time.time()
        fleet.start("w3", "worker", "-n", "w3@%h")  # its replacement, as a supervisor would

        fleet.settle(since=advanced_at)
        dumps.append(admin.ground_truth())
        admin.advance(days=1)
        fleet.settle(since=time.time())
        dumps.append(admin.ground_truth())
    except BaseException:
        fleet.stop()
        print(fleet.logs())
        raise
    fleet.stop()
    failed = [line for p in fleet.procs.values() for line in p.text().splitlines()]
    assert not [line for line in failed if "Traceback" in line], fleet.logs()

    # no scheduler doubled a round: the second one sent nothing while the first lived
    sent = ledger.sent()
    assert {s.by for s in sent if s.at < s1_killed_at} == {s1.pid}
    assert {s.by for s in sent if s.at > s1_killed_at} == {s2.pid}
    for k in range(N):
        times = sorted(s.at for s in sent if s.account == account_name(k))
        assert len(times) >= 3
        assert all(b - a > INTERVAL_S * 0.75 for a, b in itertools.pairwise(times)), times

    # every task sent ran to its end exactly once, the killed one too, elsewhere
    for k in range(N):
        account = account_name(k)
        rounds = ledger.rounds(account)
        assert sorted(r["task_id"] for r in rounds) == sorted(
            s.task_id for s in sent if s.account == account
        )
        assert {r["result"] for r in rounds} == {"complete"}, rounds
    again = ledger.done(victim)
    assert again is not None and again["result"] == "complete"
    assert again["started"] > time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(w1_killed_at - 1))
    assert f"caselog.round[{victim}] succeeded" not in w1.text()

    # the result: the site, and the events its history calls for
    end = dumps[-1]
    total = 0
    for k in range(N):
        merchant, account = large_merchant_id(k), account_name(k)
        assert differences(site_view(end, merchant), store_view(home, account)) == []
        want = sum(
            (expected_events(a, b, merchant) for a, b in itertools.pairwise(dumps)), Counter()
        )
        assert recorded_events(home, account) == want, account
        total += sum(want.values())
    assert total >= N, "the site hardly changed: the test would prove little"
