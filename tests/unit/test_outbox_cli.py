"""`caselog reply`, `reopen`, `cc` and `outbox` without a browser, through the real Typer app
over a store written directly: the outbox lists pending, sent, failed and refused entries
(table and JSON, by state); every act command answers in JSON; a preview that a contact rule
refuses exits 7 with the rule's sentence, and nothing else is written."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli import app
from agent.core.contact import ActionKind, OutboxEntry, OutboxState, Rule, text_hash
from agent.core.models import Case, CaseStatus, Direction, Message
from agent.home import Home
from agent.store import Store

runner = CliRunner()
NOW = datetime.now(UTC).replace(microsecond=0)
CASE = "32000000001"
CONFIG = """
[[accounts]]
name = "shop"
base_url = "https://sellercentral.amazon.com"
timezone = "Europe/London"

[[accounts.marketplaces]]
id = "A1F83G8C2ARO7P"
selector_map = "classic-en-GB"
"""
SENT_TEXT = "Any news on the missing units?"


def _entry(n: int, state: OutboxState, **more: object) -> OutboxEntry:
    body = str(more.pop("body", f"Message {n}"))
    return OutboxEntry(
        entry_id=f"e{n}",
        account="shop",
        case_id=CASE,
        marketplace="A1F83G8C2ARO7P",
        kind=ActionKind.REPLY,
        body=body,
        body_sha256=text_hash(body),
        created_at=NOW - timedelta(days=10 - n),
        state=state,
        **more,  # type: ignore[arg-type]
    )


@pytest.fixture
def shop(caselog_home: Path) -> Path:
    caselog_home.mkdir(parents=True, mode=0o700)
    (caselog_home / "caselog.toml").write_text(CONFIG)
    case = Case(
        case_id=CASE,
        account="shop",
        marketplace="A1F83G8C2ARO7P",
        subject="Units missing from shipment",
        status=CaseStatus.WORK_IN_PROGRESS,
        status_raw="Work in Progress",
        created_at=NOW - timedelta(days=20),
        first_seen_at=NOW - timedelta(days=20),
        last_seen_at=NOW,
        message_count=1,
    )
    message = Message(
        message_id="m1",
        case_id=CASE,
        direction=Direction.FROM_AMAZON,
        sender="Amazon",
        sent_at=NOW - timedelta(days=9, hours=12),
        body="We are looking into it.",
    )
    entries = [
        _entry(1, OutboxState.SENT, body=SENT_TEXT, message_id="m2", sent_at=NOW - timedelta(9)),
        _entry(2, OutboxState.FAILED, detail="not found on the case when read back"),
        _entry(3, OutboxState.REFUSED, rule=Rule.BUDGET, detail="Account shop has used it."),
        _entry(4, OutboxState.PENDING),
    ]
    with Store.open(Home(caselog_home).store_path("shop")) as store:
        store.put_cases([case])
        store.put_messages([message])
        store.put_outbox(*entries)
        store.commit()
    return caselog_home


def test_the_outbox_lists_every_state_newest_first(shop: Path) -> None:
    listed = runner.invoke(app, ["outbox", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [(e["entry_id"], e["state"]) for e in json.loads(listed.stdout)] == [
        ("e4", "pending"),
        ("e3", "refused"),
        ("e2", "failed"),
        ("e1", "sent"),
    ]
    table = runner.invoke(app, ["outbox"], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "4 entries: 1 sent, 1 pending, 1 failed, 1 refused" in table.stdout
    for said in ("not settled yet", "not found on the case when read back", "message m2"):
        assert said in table.stdout
    failed = runner.invoke(app, ["outbox", "--state", "failed", "--json"])
    assert [e["entry_id"] for e in json.loads(failed.stdout)] == ["e2"]
    bad = runner.invoke(app, ["outbox", "--state", "lost"])
    assert bad.exit_code == 2
    assert "--state must be one of pending, sent, failed, refused, not 'lost'" in bad.output


def test_each_act_command_previews_in_json_and_sends_nothing(shop: Path) -> None:
    reply = runner.invoke(app, ["reply", CASE, "--text", "Is there news?", "--json"])
    assert reply.exit_code == 0, reply.output
    got = json.loads(reply.stdout)
    assert (got["sent"], got["refused"], got["preview"]["kind"]) == (False, None, "reply")
    assert got["preview"]["account"] == "shop" and got["preview"]["body"] == "Is there news?"
    cc = runner.invoke(app, ["cc", CASE, "add", "ops@shop.example", "--json"])
    assert cc.exit_code == 0, cc.output
    assert json.loads(cc.stdout)["preview"]["cc"] == ["ops@shop.example"]
    with Store.open(Home(shop).store_path("shop"), readonly=True) as store:
        assert len(store.outbox()) == 4  # a preview writes nothing


@pytest.mark.parametrize(
    ("args", "rule", "sentence"),
    [
        (
            ["reply", CASE, "--text", SENT_TEXT],
            "duplicate",
            f"The same text was already sent to case {CASE} on ",
        ),
        (
            ["reopen", CASE],
            "closed",
            f"Case {CASE} is Work in progress, not answered, so there is nothing to reopen; "
            f"reply to it with `caselog reply {CASE}` instead.",
        ),
    ],
)
def test_a_refused_preview_exits_7_with_the_rules_sentence(
    shop: Path, args: list[str], rule: str, sentence: str
) -> None:
    shown = runner.invoke(app, [*args, "--json"])
    assert shown.exit_code == 7
    got = json.loads(shown.stdout)
    assert (got["sent"], got["rule"]) == (False, rule)
    assert got["refused"].startswith(sentence)
    plain = runner.invoke(app, args)
    assert plain.exit_code == 7
    assert f"error: {sentence}" in plain.output
