"""One presentation vocabulary: flag labels, marketplace names, event sentences, to-do items,
case links, one --since parser; and links in messages made clickable safely."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.app.flags import case_links
from agent.config import Account, Marketplace
from agent.core.labels import FLAG_LABELS, flag_label, marketplace_name
from agent.core.models import Case, CaseStatus, Event, EventKind, Flag, FlagKind, Severity
from agent.core.present import case_url, event_sentence, most_urgent_first, todo_item
from agent.core.times import parse_since
from agent.errors import ConfigError
from agent.export.to_html import linkify

LA = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


def test_flag_labels_are_sentences_and_codes_stay_codes() -> None:
    assert [flag_label(k) for k in FlagKind] == [
        "Reply due", "Closes soon", "Follow up", "Escalate", "Reopen window"
    ]  # fmt: skip
    assert set(FLAG_LABELS) == set(FlagKind)
    assert flag_label("reply_due") == "Reply due" and flag_label("other") == "other"


@pytest.mark.parametrize(
    ("mid", "name"),
    [
        ("ATVPDKIKX0DER", "amazon.com"),
        ("A1F83G8C2ARO7P", "amazon.co.uk"),
        ("AAHKV2X7AFYLW", "amazon.cn"),
        ("A1PA6795UKMFR9", "amazon.de"),
        ("AZZZUNKNOWN1", "AZZZUNKNOWN1"),
    ],
)
def test_marketplace_names(mid: str, name: str) -> None:
    assert marketplace_name(mid) == name


def event(kind: EventKind, before: object = None, after: object = None) -> Event:
    return Event(
        event_id="e1",
        account="shop",
        case_id="12345678901",
        kind=kind,
        before=before,
        after=after,
        detected_at=NOW,
        snapshot_id="s",
    )


@pytest.mark.parametrize(
    ("e", "text"),
    [
        (
            event(
                EventKind.STATUS_CHANGED,
                {"status": "PENDING_AMAZON_ACTION", "status_raw": "Pending Amazon Action"},
                {"status": "WORK_IN_PROGRESS", "status_raw": "Work in progress"},
            ),
            "Status changed from Pending Amazon Action to Work in progress.",
        ),
        (
            event(EventKind.STATUS_CHANGED, None, {"status": "UNKNOWN", "status_raw": "Odd one"}),
            "Status changed from (none) to Odd one.",
        ),
        (event(EventKind.CASE_NEW, None, {"status": "OPEN", "subject": "x"}), "First seen, Open."),
        (
            event(EventKind.MESSAGE_FROM_AMAZON, None, {"excerpt": "Please send the invoice."}),
            'Amazon wrote: "Please send the invoice."',
        ),
        (event(EventKind.SUBJECT_CHANGED, "old", "new"), 'Subject changed from "old" to "new".'),
        (
            event(EventKind.CC_CHANGED, [], ["a@x.example"]),
            "CC changed from (none) to a@x.example.",
        ),
        (event(EventKind.CASE_GONE, "missing", "gone"), "Gone from the case list: a search by its "
         "ID no longer finds it."),
    ],
)  # fmt: skip
def test_events_read_as_sentences(e: Event, text: str) -> None:
    assert event_sentence(e) == text


def test_a_todo_item_carries_everything_a_seller_acts_on() -> None:
    case = Case(
        case_id="12345678901",
        account="shop",
        marketplace="A1F83G8C2ARO7P",
        subject="Refund not credited",
        status=CaseStatus.NEEDS_YOUR_ATTENTION,
        status_raw="Action required",
        created_at=NOW - timedelta(days=3),
        first_seen_at=NOW,
        last_seen_at=NOW,
    )
    flag = Flag(
        flag_id="f1",
        account="shop",
        case_id=case.case_id,
        kind=FlagKind.REPLY_DUE,
        severity=Severity.WARNING,
        due_at=NOW,
        reason="Needs Your Attention since Amazon's last message on 24 Nov; reply now.",
    )
    item = todo_item(flag, case, LA, "https://sc.example/c/12345678901")
    data = item.as_json()
    assert data == {
        "account": "shop",
        "case_id": "12345678901",
        "subject": "Refund not credited",
        "marketplace": "amazon.co.uk",
        "status": "Needs Your Attention",
        "kind": "reply_due",
        "label": "Reply due",
        "action": "Reply to Amazon on the case",
        "why": flag.reason,
        "severity": "warning",
        "due_at": "2026-11-24T18:00:00Z",
        "by_when": "2026-11-24 10:00 PST",
        "timezone": "America/Los_Angeles",
        "url": "https://sc.example/c/12345678901",
        "flag_id": "f1",
        "step": None,
    }
    urgent = todo_item(flag.model_copy(update={"severity": Severity.URGENT, "flag_id": "f2"}),
                       case, LA)  # fmt: skip
    assert [i.flag_id for i in most_urgent_first([item, urgent])] == ["f2", "f1"]


def test_case_links_come_from_each_marketplaces_selector_map() -> None:
    account = Account(
        name="shop",
        base_url="https://sellercentral.amazon.com",
        marketplaces=[
            Marketplace(id="ATVPDKIKX0DER", selector_map="modern-en-US"),
            Marketplace(id="A1F83G8C2ARO7P", selector_map="classic-en-GB"),
        ],
    )
    link = case_links(account)

    def at(mp: str) -> str:
        case = Case(
            case_id="12345678901",
            account="shop",
            marketplace=mp,
            subject="s",
            status=CaseStatus.OPEN,
            status_raw="Open",
            created_at=NOW,
            first_seen_at=NOW,
            last_seen_at=NOW,
        )
        return link(case)

    assert at("ATVPDKIKX0DER") == (
        "https://sellercentral.amazon.com/cu/case-dashboard/view-case?caseID=12345678901"
    )
    assert at("A1F83G8C2ARO7P") == (
        "https://sellercentral.amazon.com/gp/case-dashboard/view-case.html?caseID=12345678901"
    )
    assert (
        case_url("https://x.example/", "/c?id={case_id}", "1/2") == "https://x.example/c?id=1%2F2"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", NOW - timedelta(days=7)),
        ("36h", NOW - timedelta(hours=36)),
        ("2w", NOW - timedelta(weeks=2)),
        ("2026-09-01", datetime(2026, 9, 1, tzinfo=LA)),
        ("2026-09-01T08:30", datetime(2026, 9, 1, 8, 30, tzinfo=LA)),
        ("2026-09-01T08:30Z", datetime(2026, 9, 1, 8, 30, tzinfo=UTC)),
        ("2026-09-01T08:30+02:00", datetime(2026, 9, 1, 6, 30, tzinfo=UTC)),
    ],
)
def test_one_since_for_every_command(text: str, expected: datetime) -> None:
    assert parse_since(text, NOW, LA) == expected


@pytest.mark.parametrize("text", ["yesterday", "7x", "-3d", "2026-13-01", ""])
def test_a_since_neither_duration_nor_date_is_one_sentence(text: str) -> None:
    with pytest.raises(ConfigError, match="--since"):
        parse_since(text, NOW, LA)


def test_links_in_messages_are_clickable_only_for_http_and_open_apart() -> None:
    body = (
        'See https://sellercentral.amazon.com/help/hub?x=1&y="2" or javascript:alert(1), '
        "http://example.com/a). <b>bold</b>"
    )
    out = linkify(body)
    assert (
        '<a href="https://sellercentral.amazon.com/help/hub?x=1&amp;y=" rel="noopener noreferrer"'
        in out
    )
    assert '<a href="http://example.com/a" rel="noopener noreferrer" target="_blank">' in out
    assert "javascript:alert(1)" in out and 'href="javascript' not in out
    assert "&lt;b&gt;bold&lt;/b&gt;" in out and "<b>" not in out
