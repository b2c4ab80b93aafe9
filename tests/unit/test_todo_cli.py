"""The to-do in the terminal: due (now and coming up), done on an escalation, snoozes and
unsnooze, history, open, cases --limit/--sort, one --since for changes and export. Through
the real Typer app over a store written directly (no browser)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
from typer.testing import CliRunner

from agent.cli import app
from agent.core.models import (
    Case,
    CaseStatus,
    Direction,
    Event,
    EventKind,
    Message,
    Snapshot,
)
from agent.home import Home
from agent.store import Store

runner = CliRunner()
NOW = datetime.now(UTC).replace(microsecond=0)
REPLY, ESCALATE, QUIET = "31000000001", "31000000002", "31000000003"
CONFIG = """
[[accounts]]
name = "shop"
base_url = "https://sellercentral.amazon.com"
timezone = "Europe/London"
signature = "Sam, Shop Ltd"

[[accounts.marketplaces]]
id = "A1F83G8C2ARO7P"
selector_map = "classic-en-GB"
"""


def _case(case_id: str, subject: str, status: CaseStatus, created: datetime) -> Case:
    return Case(
        case_id=case_id,
        account="shop",
        marketplace="A1F83G8C2ARO7P",
        subject=subject,
        status=status,
        status_raw=status.value.replace("_", " ").title(),
        created_at=created,
        first_seen_at=created,
        last_seen_at=NOW,
        message_count=1,
    )


@pytest.fixture
def shop(caselog_home: Path) -> Path:
    caselog_home.mkdir(parents=True, mode=0o700)
    (caselog_home / "caselog.toml").write_text(CONFIG)
    cases = [
        _case(REPLY, "Invoice needed for listing", CaseStatus.NEEDS_YOUR_ATTENTION,
              NOW - timedelta(days=2)),
        _case(ESCALATE, "Shipping template question", CaseStatus.WORK_IN_PROGRESS,
              NOW - timedelta(days=30)),
        _case(QUIET, "Brand registry question", CaseStatus.RESOLVED, NOW - timedelta(days=60)),
    ]  # fmt: skip
    messages = [
        Message(
            message_id="m1",
            case_id=REPLY,
            direction=Direction.FROM_AMAZON,
            sender="Amazon",
            sent_at=NOW - timedelta(hours=20),
            body="Please send the invoice for the units.",
        ),
        Message(
            message_id="m2",
            case_id=ESCALATE,
            direction=Direction.FROM_SELLER,
            sender="You",
            sent_at=NOW - timedelta(days=30),
            body="My shipping template does not save; see https://sellercentral.amazon.com/x",
        ),
    ]
    events = [
        Event(
            event_id="e1",
            account="shop",
            case_id=REPLY,
            kind=EventKind.STATUS_CHANGED,
            before={"status": "PENDING_AMAZON_ACTION", "status_raw": "Pending Amazon Action"},
            after={"status": "NEEDS_YOUR_ATTENTION", "status_raw": "Action required"},
            detected_at=NOW - timedelta(hours=19),
            snapshot_id="s1",
        )
    ]
    with Store.open(Home(caselog_home).store_path("shop")) as store:
        store.put_cases(cases)
        store.put_messages(messages)
        store.add_events(events)
        store.add_snapshot(
            Snapshot(snapshot_id="s1", account="shop", taken_at=NOW, profile="p", complete=True)
        )
        store.commit()
    return caselog_home


def run(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "220"})
    assert result.exit_code == 0, result.output
    return result.output


def test_due_lists_what_to_do_why_and_by_when_in_local_time(shop: Path) -> None:
    data = json.loads(run("due", "--json", "--upcoming"))
    due = data["due"]
    assert [(i["case_id"], i["kind"], i["label"]) for i in due] == [
        (ESCALATE, "escalate", "Escalate"),
        (REPLY, "reply_due", "Reply due"),
    ]
    reply = next(i for i in due if i["case_id"] == REPLY)
    assert reply["subject"] == "Invoice needed for listing"
    assert reply["marketplace"] == "amazon.co.uk"
    assert reply["by_when"].endswith(("GMT", "BST"))
    assert reply["url"].endswith("/gp/case-dashboard/view-case.html?caseID=" + REPLY)
    assert data["upcoming"] and all(i["case_id"] != QUIET for i in data["upcoming"])
    text = run("due", "--upcoming")
    now_part, later_part = text.split("Coming up")
    assert "Needs action now" in now_part and "2 items need action now" in now_part
    assert "Invoice needed for listing" in now_part and "Reply to Amazon on the case" in now_part
    assert "reply_due" not in text and "NEEDS_YOUR_ATTENTION" not in text
    assert "coming up later" in later_part


def test_done_on_an_escalation_waits_and_can_be_undone(shop: Path) -> None:
    assert "1 flag(s) marked done" in run("done", ESCALATE)
    due = json.loads(run("due", "--json"))["due"]
    assert [i["case_id"] for i in due] == [REPLY]  # no "follow up now" after the escalation
    marks = json.loads(run("snoozes", "--json"))
    assert [(m["case_id"], m["state"], m["label"]) for m in marks] == [
        (ESCALATE, "done", "Escalate")
    ]
    calendar = icalendar.Calendar.from_ical((shop / "calendar" / "caselog.ics").read_bytes())
    assert all("31000000002" not in str(e["summary"]) or "Follow up" in str(e["summary"])
               for e in calendar.walk("VEVENT"))  # fmt: skip
    assert "1 flag(s) active again" in run("unsnooze", ESCALATE)
    assert {i["case_id"] for i in json.loads(run("due", "--json"))["due"]} == {REPLY, ESCALATE}
    assert json.loads(run("snoozes", "--json")) == []


def test_snooze_is_listed_with_its_end_in_local_time(shop: Path) -> None:
    assert "snoozed until" in run("snooze", REPLY, "2d")
    text = run("snoozes")
    assert REPLY in text and "Reply due" in text and "snoozed" in text
    assert [i["case_id"] for i in json.loads(run("due", "--json"))["due"]] == [ESCALATE]


def test_history_open_and_drafts(shop: Path) -> None:
    text = run("history", REPLY)
    assert "Status changed from Pending Amazon Action to Needs Your Attention." in text
    url = run("open", REPLY, "--print").strip()
    assert url == (
        "https://sellercentral.amazon.com/gp/case-dashboard/view-case.html?caseID=" + REPLY
    )
    reply = json.loads(run("draft", REPLY, "--json"))
    assert reply["kind"] == "reply" and "> Please send the invoice" in reply["body"]
    assert reply["body"].endswith("Sam, Shop Ltd\n")
    escalation = json.loads(run("draft", ESCALATE, "--json"))
    assert escalation["kind"] == "escalation"
    assert escalation["subject"].startswith("Urgent Escalation Request: ")  # overdue by weeks


def test_cases_limit_sort_and_labels(shop: Path) -> None:
    text = run("cases", "--limit", "1", "--sort", "id")
    assert REPLY in text and ESCALATE not in text and "1 of 3 case(s) shown" in text
    assert "Needs Your Attention" in text and "amazon.co.uk" in text
    ids = [c["case_id"] for c in json.loads(run("cases", "--json", "--sort", "created"))]
    assert ids == [REPLY, ESCALATE, QUIET]


def test_one_since_for_changes_and_export(shop: Path, tmp_path: Path) -> None:
    day = (NOW - timedelta(days=3)).strftime("%Y-%m-%d")
    for since in ("7d", day):
        groups = json.loads(run("changes", "--since", since, "--json"))
        assert [g["case_id"] for g in groups] == [REPLY]
        assert groups[0]["events"][0]["text"].startswith("Status changed from")
        assert groups[0]["subject"] == "Invoice needed for listing"
    for since in ("7d", day):
        out = json.loads(run("export", "--format", "json", "--out", str(tmp_path / since),
                             "--since", since, "--json"))  # fmt: skip
        assert out["cases"] == 1  # only the case with activity since then
    result = runner.invoke(app, ["changes", "--since", "last week"])
    assert result.exit_code == 2 and "--since 'last week'" in result.output


def test_search_groups_by_case_with_a_snippet(shop: Path) -> None:
    data = json.loads(run("search", "template", "--json"))
    assert [h["case_id"] for h in data] == [ESCALATE]
    assert data[0]["in_subject"] and data[0]["messages"] == 1
    text = run("search", "template")
    assert text.count(ESCALATE) == 1 and "1 case(s), 2 match(es)" in text
