"""kill -9 of `caselog reply --send` at random moments, 50 times, on the classic Case Log
(whose form POSTs Chromium itself may resend): the site received each message at most once,
and every entry a killed run left pending was settled by a later run (from the thread: sent
when the message is there, failed when it is not), never by sending again.

Each run is one command in its own process and session, killed at once with its Playwright
driver and Chromium (which Playwright starts in a session of its own), as a power cut would.
To keep 50 kills cheap, each run is a fork of a launcher that has imported the CLI already
(:mod:`forked_cli`): a run's Python start and imports touch neither the store nor the site,
so no kill moment that matters is lost. A quarter of the kills fall at any moment of a run;
the others after the run's first commit to the store (its pending outbox entry, or the
settling of an earlier one), within the time the click, the site's answer (held 400 ms:
``confirm_delay_ms``) and the read-back take in a whole run. Each run settles what the one
before left pending before it reads its own case; `caselog outbox --settle` settles the last
one."""

from __future__ import annotations

import json
import random
import signal
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from act_agent import OUTDOOR, UK, replyable
from e2e_cli import account_cli
from forked_cli import ForkedCli

from agent.home import Home

pytestmark = [pytest.mark.browser, pytest.mark.slow]

KILLS = 50


def test_kill_9_during_reply_send_never_sends_twice(e2e_site: Any, tmp_path: Path) -> None:
    site = e2e_site
    site.admin.reset(scenario="demo")
    site.admin.set_time(datetime.now(UTC))
    site.admin.set_faults(confirm_delay_ms=400)
    cli = account_cli(tmp_path / "home", site.server, "kill", OUTDOOR, {UK: "classic-en-GB"})
    config = cli.home / "caselog.toml"
    config.write_text(config.read_text() + "\n[contact]\ndaily_budget = 1000\n")
    assert cli("sync").returncode == 0
    cid = replyable(site.admin.ground_truth(), OUTDOOR, UK)["case_id"]
    current = Home(cli.home).store_path("kill") / "CURRENT"
    runs = ForkedCli(cli.env)
    started = time.monotonic()

    logs = tmp_path / "runs"
    logs.mkdir()

    def reply(text: str) -> Path:
        """Start a run; where its standard error goes."""
        err = logs / f"{len(list(logs.iterdir())):03d}.err"
        runs.start("reply", cid, "--text", text, "--send", "--force", stderr=err)
        return err

    def first_commit(generation: str, give_up: float) -> float:
        """When the run switched the store's generation (or ended)."""
        while current.read_text() == generation and runs.wait(0.02) is None:
            assert time.monotonic() < give_up, "the run never committed"
        return time.monotonic()

    try:
        began, generation = time.monotonic(), current.read_text()
        err = reply("A whole run first.")
        committed = first_commit(generation, began + 120) - began
        assert runs.wait(120) == 0, err.read_text()
        full = time.monotonic() - began
        after = full - committed  # the click, the answer and the read-back

        rng = random.Random(20261201)
        killed_at: dict[str, datetime] = {}  # text -> when its run was killed
        finished = 0
        n = 0
        while len(killed_at) < KILLS:
            n += 1
            assert n < KILLS * 2, "the runs keep finishing before the kill"
            text = f"Kill test {n}: tracking number 1Z{n:06d}."
            generation = current.read_text()
            err = reply(text)
            if rng.random() < 1 / 4:  # any moment of the run
                deadline = time.monotonic() + rng.uniform(0, full)
            else:  # after its first commit: its pending entry, the click, the rest
                deadline = first_commit(generation, time.monotonic() + 4 * full)
                deadline += rng.uniform(0, after)
            while runs.wait(0) is None and time.monotonic() < deadline:
                time.sleep(0.02)
            at = datetime.now(UTC)
            if runs.wait(0) is None and runs.kill():
                code = runs.wait(60)
                if code == -signal.SIGKILL:
                    killed_at[text] = at
                    continue
            else:
                code = runs.wait(60)
            # it ended before the kill: a whole run, which must have succeeded
            assert code == 0, err.read_text()
            finished += 1
    finally:
        runs.close()
    elapsed = time.monotonic() - started

    settle = cli("outbox", "--settle", "--json")
    assert settle.returncode == 0, settle.stderr
    entries = {e["body"]: e for e in json.loads(settle.stdout) if e["kind"] == "reply"}
    replies = [
        a for a in site.admin.received_actions() if a["case_id"] == cid and a["kind"] == "reply"
    ]
    got = Counter(a["body"].replace("\r\n", "\n") for a in replies)

    assert max(got.values()) == 1, [b for b, k in got.items() if k > 1]  # at most once
    assert all(a["accepted"] for a in replies)
    assert [e for e in entries.values() if e["state"] == "pending"] == []  # all settled
    for body, entry in entries.items():
        # sent <=> the site has it; failed <=> it never arrived
        assert (entry["state"] == "sent") == (got[body] == 1), (body, entry["state"])
        assert entry["state"] in ("sent", "failed"), entry
    assert set(got) <= set(entries)  # nothing reached the site without an entry before it

    # where the kills fell
    after_click = [
        t for t, at in killed_at.items()
        if t in entries and entries[t]["state"] == "sent"
        and datetime.fromisoformat(entries[t]["settled_at"]) > at
    ]  # fmt: skip
    before_click = [t for t in killed_at if t in entries and entries[t]["state"] == "failed"]
    before_entry = [t for t in killed_at if t not in entries]
    print(
        f"\n{len(killed_at)} kills in {elapsed:.0f} s ({finished} runs finished first; a whole "
        f"run {full:.1f} s, its first commit at {committed:.1f} s): {len(before_entry)} before "
        f"the outbox entry, {len(before_click)} between the entry and the click (settled "
        f"failed), {len(after_click)} after the site took the message and before its read-back "
        f"(settled sent by the next run); {len(got)} messages received, each once"
    )
    assert after_click, "no kill fell between the click and the read-back"
