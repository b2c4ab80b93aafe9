"""`caselog reply`, `reopen`, `cc` and `outbox` as a seller runs them: without --send they
show what would be sent and send nothing; with --send the message reaches the site once;
sending the same text again, or nudging again too soon, is refused with exit 7 and one
sentence; `caselog outbox` lists what was sent and refused. The mock's clock is set to the
real time first (the commands use the real clock). One test: each command starts Chromium."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from act_agent import OUTDOOR, US, received, reopenable

from agent.core.times import format_day

LA = ZoneInfo("America/Los_Angeles")  # the demo accounts' time zone

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_preview_send_refuse_cc_reopen_and_outbox(cli: Any, site: Any) -> None:
    site.admin.set_time(datetime.now(UTC))
    assert cli("sync", "--account", "demo-outdoor").returncode == 0
    truth = site.admin.ground_truth()
    case = next(
        c
        for c in truth["cases"]
        if c["merchant_id"] == OUTDOOR
        and c["marketplace_id"] == US
        and c["status"] in ("WORK_IN_PROGRESS", "PENDING_AMAZON_ACTION", "OPEN")
    )
    cid, text = case["case_id"], "Hello,\nis there any news on this case?\nThank you."

    shown = cli("reply", cid, "--text", text)
    assert shown.returncode == 0, shown.stderr
    assert f"Reply to case {cid}" in shown.stdout and "account demo-outdoor" in shown.stdout
    assert "amazon.com (ATVPDKIKX0DER)" in shown.stdout and "is there any news" in shown.stdout
    assert "Nothing was sent; add --send" in shown.stdout
    assert received(site, cid) == []

    sent = cli("reply", cid, "--text", text, "--send", "--json")
    assert sent.returncode == 0, sent.stderr
    report = json.loads(sent.stdout)
    assert report["preview"]["marketplace"] == US and report["preview"]["body"] == text
    [entry] = report["entries"]
    assert entry["state"] == "sent" and entry["message_id"]

    again = cli("reply", cid, "--text", text, "--send")
    assert again.returncode == 7
    day = format_day(datetime.fromisoformat(entry["sent_at"]), LA)
    assert again.stderr.strip() == (
        f"error: The same text was already sent to case {cid} on {day}; change it, or add "
        "--force to send it again."
    )
    soon = cli("reply", cid, "--text", "Any news?", "--send")
    assert soon.returncode == 7
    assert f"It is Amazon's turn on case {cid} and your last message went out on" in soon.stderr
    assert "add --force to send it now." in soon.stderr

    assert [(a["kind"], a["accepted"]) for a in received(site, cid)] == [("reply", True)]
    listed = json.loads(cli("outbox", "--json").stdout)
    assert [(e["state"], e["rule"]) for e in listed] == [
        ("refused", "quiet_period"),
        ("refused", "duplicate"),
        ("sent", None),
    ]
    table = cli("outbox")
    assert "3 entries: 1 sent, 0 pending, 0 failed, 2 refused" in table.stdout

    cid = reopenable(truth, OUTDOOR, US)["case_id"]
    address = "ops-lead@demo-outdoor.example"
    added = cli("cc", cid, "add", address, "--send", "--json")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["entries"][0]["cc"][-1] == address
    # the agent knows what it sent: adding it again is nothing to send, even before a sync
    same = cli("cc", cid, "add", address)
    assert same.returncode == 0 and "already says so" in same.stdout
    reopened = cli("reopen", cid, "--send")
    assert reopened.returncode == 0, reopened.stderr
    assert "Sent: case reopened" in reopened.stdout
    twice = cli("reopen", cid, "--send")
    assert twice.returncode == 7
    assert f"Case {cid} is Reopened, not answered, so there is nothing to reopen" in twice.stderr
    kinds = [(a["kind"], a["accepted"]) for a in received(site, cid)]
    assert kinds == [("cc", True), ("reopen", True)]
