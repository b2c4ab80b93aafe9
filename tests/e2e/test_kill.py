"""kill -9 of `caselog sync` at random moments, 20 times: the database always loads and holds
at least everything the previous complete sync stored, and the next sync is not locked out."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_cli import account_cli
from forked_cli import ForkedCli

from agent.home import Home
from agent.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

KILLS = 20


@pytest.fixture(scope="module")
def large_site() -> Iterator[object]:
    from caselog_mock import MockServer

    server = MockServer(scenario="large", port=0, params={"cases": 120, "messages": 6})
    server.start()
    yield server
    server.stop()


def current_tables(store: Path) -> dict[str, bytes]:
    """The tables of the store's current generation, by name."""
    generation = store / (store / "CURRENT").read_text().strip()
    return {table.name: table.read_bytes() for table in sorted(generation.iterdir())}


def test_kill_9_never_loses_or_corrupts(large_site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Each sync is a fork of a launcher that has imported the CLI (:mod:`forked_cli`): its
    own process and session, killed with its driver and Chromium; Python's start, which
    touches neither the store nor the site, is not paid again for every kill."""
    cli = account_cli(
        tmp_path / "home", large_site, "large", "A1LARGESELLER", {"ATVPDKIKX0DER": "modern-en-US"}
    )
    db = Home(cli.home).store_path("large")
    runs = ForkedCli(cli.env, preload=("agent.cli.session",))
    args = ("sync", "--full", "--json")
    try:
        started = time.monotonic()
        runs.start(*args, stderr=tmp_path / "first.err")
        assert runs.wait(300) == 0, (tmp_path / "first.err").read_text()
        duration = time.monotonic() - started
        with Store.open(db, readonly=True) as store:
            base_cases = {c.case_id for c in store.cases()}
            base_messages = store.message_ids()
        assert len(base_cases) == 120 and len(base_messages) == 120 * 6

        rng = random.Random(20261122)
        killed_running = 0
        # At least KILLS kills, and more (up to twice as many) until half of them landed while
        # the sync ran: on a loaded machine a run's start-up can outlast a random delay.
        for attempt in range(2 * KILLS):
            if attempt >= KILLS and killed_running >= KILLS // 2:
                break
            err = tmp_path / f"run-{attempt:02d}.err"
            runs.start(*args, stderr=err)
            time.sleep(rng.uniform(0.2, duration * 0.9))
            if runs.wait(0) is None and runs.kill():
                killed_running += 1
            assert runs.wait(30) in (0, -signal.SIGKILL), err.read_text()
            with Store.open(db, readonly=True) as store:  # always loads
                assert {c.case_id for c in store.cases()} >= base_cases
                assert store.message_ids() >= base_messages
                assert store.last_complete_snapshot() is not None
        assert killed_running >= KILLS // 2, "most kills must land while the sync is running"
    finally:
        runs.close()

    last = cli("sync", "--full", "--json", timeout=300)
    # the lock of a killed writer is not left behind
    assert last.returncode == 0, last.stderr + last.stdout
    assert not list(db.glob(".*.tmp"))  # the staging left by a killed writer is cleared


def test_kill_9_inside_the_store_write_loses_nothing(large_site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Kills aimed inside the one write of the database (the writer stops halfway through it
    when told to, test-only): writing in place would leave half a file; the atomic write
    leaves the previous one."""
    from agent.home import PAUSE_IN_WRITE

    cli = account_cli(
        tmp_path / "home", large_site, "large", "A1LARGESELLER", {"ATVPDKIKX0DER": "modern-en-US"}
    )
    cmd = [sys.executable, "-m", "agent", "sync", "--full", "--json"]
    db = Home(cli.home).store_path("large")
    first = subprocess.run(cmd, env=cli.env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    before = current_tables(db)
    with Store.open(db, readonly=True) as store:
        base_messages = store.message_ids()

    for attempt in range(5):
        marker = tmp_path / f"paused-{attempt}"
        proc = subprocess.Popen(
            cmd,
            env={**cli.env, PAUSE_IN_WRITE: str(marker)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while not marker.exists():  # the writer is now halfway through the database
            assert proc.poll() is None, "the sync ended without writing the database"
            assert time.monotonic() < deadline, "the writer never reached the database"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert current_tables(db) == before  # the previous generation, byte for byte
        with Store.open(db, readonly=True) as store:
            assert store.message_ids() == base_messages

    last = subprocess.run(cmd, env=cli.env, capture_output=True, text=True, timeout=300)
    assert last.returncode == 0, last.stderr + last.stdout
    assert not list(db.glob(".*.tmp"))  # the staging left by a killed writer is cleared
