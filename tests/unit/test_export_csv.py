"""cases.csv / messages.csv: read back with the csv module, formulas neutralised, facts right."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from agent.config import RuleSettings
from agent.core.categories import categoriser_for, category_label
from agent.core.models import (
    Case,
    CaseStatus,
    Direction,
    Flag,
    FlagKind,
    FlagState,
    Message,
    Severity,
)
from agent.export.archive import AccountArchive, Archive
from agent.export.facts import (
    account_bundles,
    active_flags,
    days_waiting,
)
from agent.export.to_csv import (
    CASE_COLUMNS,
    MESSAGE_COLUMNS,
    cases_csv,
    cell,
    messages_csv,
    restore,
)


def categorise(subject: str) -> str:
    """The chart's category label, by the one categoriser (the default rules')."""
    return category_label(categoriser_for(RuleSettings())(subject))


T0 = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)

NASTY = [
    '=HYPERLINK("http://evil.example","click")',
    "+1+2",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "'=already quoted",
    "''+twice",
    "plain, with comma",
    'say "hi"',
    "line one\nline two\r\nline three",
    "مرحبا بالعالم، شكرا",
    "emoji 🚚📦 ok",
    "  leading spaces",
    "",
]


def case(case_id: str, **kw: object) -> Case:
    base: dict[str, object] = {
        "case_id": case_id,
        "account": "acme",
        "subject": "Refund for order 111",
        "status": CaseStatus.PENDING_AMAZON_ACTION,
        "status_raw": "Pending Amazon Action",
        "created_at": T0,
        "first_seen_at": T0,
        "last_seen_at": T0,
    }
    base.update(kw)
    return Case.model_validate(base)


def msg(case_id: str, n: int, direction: Direction, at: datetime, body: str = "b") -> Message:
    return Message(
        message_id=f"{case_id}-{n}",
        case_id=case_id,
        direction=direction,
        sender="Amazon" if direction is Direction.FROM_AMAZON else "Me",
        sent_at=at,
        body=body,
    )


def hostile_archive() -> Archive:
    cases = [
        case(
            f"{10_000_000_000 + i}",
            subject=text or "empty-subject",
            primary_email=text,
            marketplace=text,
            cc=(text, "cc@example.com") if text else (),
            last_updated_at=T0 + timedelta(hours=i),
            last_amazon_reply_at=T0 + timedelta(hours=i) if i % 2 else None,
        )
        for i, text in enumerate(NASTY)
    ]
    messages = [
        Message(
            message_id=text or "m-empty",
            case_id=c.case_id,
            direction=Direction.FROM_AMAZON if i % 2 else Direction.FROM_SELLER,
            sender=text,
            sender_email=text,
            sent_at=T0 + timedelta(minutes=i),
            body=text,
            # one name per line in the cell: a file name has no line break
            attachments=(text.replace("\n", " "), "b.pdf") if text else (),
        )
        for i, (c, text) in enumerate(zip(cases, NASTY, strict=True))
    ]
    acc = AccountArchive(
        account="acme", timezone="UTC", cases=cases, messages=messages, events=[], flags=[]
    )
    return Archive(generated_at=T0, accounts=[acc])


def read(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 byte-order mark first, for Excel"
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    return [{k: restore(v) for k, v in row.items()} for row in rows]


def iso(value: datetime | None) -> str:
    return "" if value is None else value.isoformat().replace("+00:00", "Z")


def test_cases_csv_reads_back_to_the_stored_values() -> None:
    archive = hostile_archive()
    groups = [account_bundles(a) for a in archive.accounts]
    rows = read(cases_csv(groups, now=T0))
    assert tuple(rows[0]) == CASE_COLUMNS
    stored = sorted(archive.accounts[0].cases, key=lambda c: c.case_id)
    assert [r["Case ID"] for r in rows] == [c.case_id for c in stored]
    for row, c in zip(rows, stored, strict=True):
        assert row["Short Description"] == c.subject
        assert row["Status"] == c.status_raw
        assert row["Status Code"] == c.status.value
        assert row["Primary E-mail"] == c.primary_email
        assert row["Marketplace"] == c.marketplace
        assert row["Account"] == c.account
        assert row["Case Creation Date"] == iso(c.created_at)
        assert row["Last Updated"] == iso(c.last_updated_at)
        assert row["Last Amazon Reply"] == iso(c.last_amazon_reply_at)
        assert tuple(row["CC"].split("; ")) == c.cc or (row["CC"] == "" and c.cc == ())


def test_messages_csv_reads_back_to_the_stored_values() -> None:
    archive = hostile_archive()
    groups = [account_bundles(a) for a in archive.accounts]
    rows = read(messages_csv(groups))
    assert tuple(rows[0]) == MESSAGE_COLUMNS
    stored = sorted(archive.accounts[0].messages, key=lambda m: (m.case_id, m.sent_at))
    assert len(rows) == len(stored)
    for row, m in zip(rows, stored, strict=True):
        assert row["Case ID"] == m.case_id
        assert row["Message ID"] == m.message_id
        assert row["Direction"] == m.direction.value
        assert row["Sender"] == m.sender
        assert row["Sender E-mail"] == m.sender_email
        assert row["Sent At"] == iso(m.sent_at)
        assert row["Body"] == m.body
        assert tuple(row["Attachments"].split("\n")) == m.attachments or (
            row["Attachments"] == "" and m.attachments == ()
        )


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\r=x", "'\r=x"),
        ("'=x", "''=x"),  # already quoted: one more quote, so restore() is exact
        ("''-x", "'''-x"),
        ("'plain", "'plain"),  # a quote before harmless text is left alone
        ("a=1", "a=1"),
        (" =1", " =1"),
        ("", ""),
        ("Refund", "Refund"),
    ],
)
def test_formula_cells_are_neutralised(value: str, written: str) -> None:
    row = next(csv.reader(io.StringIO(cell(value), newline="")), [""])
    assert row == [written]
    assert restore(written) == value


def test_no_cell_in_either_file_starts_like_a_formula() -> None:
    archive = hostile_archive()
    groups = [account_bundles(a) for a in archive.accounts]
    for data in (cases_csv(groups, now=T0), messages_csv(groups)):
        raw = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
        cells = [c for row in raw for c in row]
        assert cells, "nothing was written"
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
        assert '\'=HYPERLINK("http://evil.example","click")' in cells


@pytest.mark.parametrize("value", [*NASTY, '"', '""', ",", "\n", "\r", "a\rb", "x" * 5000])
def test_cell_quotes_exactly_like_the_csv_module(value: str) -> None:
    neutral = "'" + value if re.match(r"'*[=+\-@\t\r]", value) else value
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow([neutral, "z"])
    assert cell(value) + ",z\r\n" == buf.getvalue()


def test_days_waiting_whose_turn_and_flags_columns() -> None:
    c1 = case(
        "1000000001",
        status=CaseStatus.NEEDS_YOUR_ATTENTION,
        status_raw="Needs Your Attention",
    )
    c2 = case("1000000002", status=CaseStatus.RESOLVED, status_raw="Resolved")
    msgs = [msg("1000000001", 1, Direction.FROM_AMAZON, T0 + timedelta(days=1))]
    flags = [
        Flag(
            flag_id="f1",
            account="acme",
            case_id="1000000001",
            kind=FlagKind.REPLY_DUE,
            severity=Severity.URGENT,
            due_at=T0 + timedelta(days=2, hours=-10),  # 07:00 UTC = 23:00 the day before in LA
            reason="Amazon asked a question",
        ),
        Flag(
            flag_id="f2",
            account="acme",
            case_id="1000000001",
            kind=FlagKind.CLOSES_SOON,
            severity=Severity.WARNING,
            due_at=T0 + timedelta(days=5),
            reason="done already",
            state=FlagState.DONE,
        ),
    ]
    acc = AccountArchive(
        account="acme",
        timezone="America/Los_Angeles",
        cases=[c1, c2],
        messages=msgs,
        events=[],
        flags=flags,
    )
    rows = read(cases_csv([account_bundles(acc)], now=T0 + timedelta(days=4, hours=1)))
    assert rows[0]["Whose Turn"] == "Seller"
    assert rows[0]["Days Waiting"] == "3"
    assert rows[0]["Active Flags"] == "Reply due (urgent, due 2026-11-03)"
    assert rows[1]["Whose Turn"] == ""
    assert rows[1]["Days Waiting"] == ""
    assert rows[1]["Active Flags"] == ""


def test_days_waiting_counts_whole_days_and_never_goes_negative() -> None:
    assert days_waiting(None, T0) is None
    assert days_waiting(T0, T0 + timedelta(days=2, hours=23)) == 2
    assert days_waiting(T0 + timedelta(hours=1), T0) == 0


def test_snoozed_flags_come_back_when_the_snooze_ends() -> None:
    snoozed = Flag(
        flag_id="f",
        account="acme",
        case_id="1000000001",
        kind=FlagKind.FOLLOW_UP,
        severity=Severity.INFO,
        due_at=T0,
        reason="r",
        state=FlagState.SNOOZED,
        snoozed_until=T0 + timedelta(days=1),
    )
    assert active_flags([snoozed], T0) == []
    assert active_flags([snoozed], T0 + timedelta(days=1)) == [snoozed]


@pytest.mark.parametrize(
    ("subject", "category"),
    [
        ("Account suspended: plan of action", "account health"),
        ("Your account health rating", "account health"),
        ("Disbursement on hold", "payments"),
        ("Refund not credited", "refunds and fees"),  # not urgent, unlike payments
        ("Intellectual property complaint on ASIN B01", "policy"),  # policy before listings
        ("Listing suppressed: missing images", "listing suppression"),  # urgent, as in rules
        ("Stranded inventory report", "inventory"),
        ("FBA inbound shipment received short", "shipping"),
        ("General question", "other"),
        ("feeling lost?", "shipping"),
        ("coffee beans", "other"),  # "fee" is a whole word, not a prefix
        ("关于退款的问题", "refunds and fees"),
        ("", "other"),
    ],
)
def test_categorise(subject: str, category: str) -> None:
    assert categorise(subject) == category
