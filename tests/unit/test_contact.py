"""The contact rules (each refused with its own sentence), --force, the site's limits and how
an outbox entry finds the message it sent: pure, with an explicit now.

Calendar (Los Angeles, Mon-Fri 9-17): Mon 30 Nov, Tue 1 Dec, Wed 2, Thu 3, Fri 4 Dec 2026.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from agent.config import Account, ContactSettings, parse_settings
from agent.core.businesstime import BusinessCalendar
from agent.core.contact import (
    ActionKind,
    Attachment,
    Attempt,
    Look,
    Origin,
    OutboxEntry,
    OutboxState,
    Rule,
    SiteLimits,
    check,
    contacts_today,
    find_sent,
    limit_problem,
    text_hash,
)
from agent.core.models import Case, CaseStatus, Direction, Message
from agent.core.turn import reopen_until
from agent.errors import ConfigError

LA = ZoneInfo("America/Los_Angeles")
CALENDAR = BusinessCalendar.of(Account(name="acme", base_url="https://sellercentral.example"))
CASE = "12345678901"
AMAZON, SELLER = Direction.FROM_AMAZON, Direction.FROM_SELLER
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=LA)  # Tuesday 10:00
TEXT = "Hello, could you tell me where this stands? Thank you."


def la(day: int, hour: int = 10, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=LA)


def msg(n: int, direction: Direction, at: datetime, body: str = "") -> Message:
    return Message(
        message_id=f"{CASE}-{n:03d}",
        case_id=CASE,
        direction=direction,
        sender="Amazon" if direction is AMAZON else "You",
        sent_at=at,
        body=body or f"message {n}",
    )


# Amazon answered on Mon 23 Nov; the seller has not written since.
THREAD = [msg(1, SELLER, la(20, month=11)), msg(2, AMAZON, la(23, month=11))]


def sent(
    body: str = TEXT,
    at: datetime = NOW,
    kind: ActionKind = ActionKind.REPLY,
    case_id: str = CASE,
    state: OutboxState = OutboxState.SENT,
    origin: Origin = Origin.COMMAND,
) -> OutboxEntry:
    return OutboxEntry(
        entry_id=f"e-{at.isoformat()}-{kind.value}-{case_id}",
        account="acme",
        case_id=case_id,
        kind=kind,
        origin=origin,
        body=body,
        body_sha256=text_hash(body) if kind is ActionKind.REPLY else "",
        created_at=at,
        sent_at=at,
        state=state,
    )


def verdict(
    kind: ActionKind = ActionKind.REPLY,
    *,
    status: CaseStatus = CaseStatus.WORK_IN_PROGRESS,
    messages: Sequence[Message] = THREAD,
    basis: Look | None = None,
    outbox: Sequence[OutboxEntry] = (),
    settings: ContactSettings | None = None,
    now: datetime = NOW,
    force: bool = False,
    body: str = TEXT,
):  # type: ignore[no-untyped-def]
    if basis is None:
        basis = Look.of(status, messages, (), la(1, 8))
    opened = la(20, month=11)
    case = Case(
        case_id=CASE,
        account="acme",
        subject="s",
        status=status,
        status_raw=status.value,
        created_at=opened,
        first_seen_at=opened,
        last_seen_at=opened,
    )
    return check(
        Attempt(kind, "acme", CASE, body if kind is ActionKind.REPLY else ""),
        basis=basis,
        status=status,
        messages=messages,
        cc=(),
        outbox=outbox,
        settings=settings or ContactSettings(),
        reopen_until=reopen_until(case, messages, (), 14),
        calendar=CALENDAR,
        now=now,
        force=force,
    )


def test_a_reply_that_breaks_no_rule_goes() -> None:
    assert verdict().refusal is None


REFUSALS = [
    pytest.param(
        {"basis": Look.of(CaseStatus.PENDING_AMAZON_ACTION, THREAD, (), la(1, 8))},
        Rule.CHANGED,
        f"Case {CASE} changed since the draft was made (its status went from Pending Amazon "
        f"Action to Work in progress); run `caselog sync`, read it with `caselog show {CASE}` "
        "and make the draft again.",
        id="changed-status",
    ),
    pytest.param(
        {
            "basis": Look.of(CaseStatus.WORK_IN_PROGRESS, THREAD[:1], (), la(1, 8)),
            "messages": THREAD,
        },
        Rule.CHANGED,
        f"Case {CASE} changed since the draft was made (a new message from Amazon on 23 Nov); "
        f"run `caselog sync`, read it with `caselog show {CASE}` and make the draft again.",
        id="changed-message",
    ),
    pytest.param(
        {"status": CaseStatus.ANSWERED},
        Rule.CLOSED,
        f"Case {CASE} is Answered and takes no replies; reopen it with your message, "
        f"`caselog reopen {CASE} --text ...`, before 7 Dec.",
        id="closed-answered-reopen-suggested",
    ),
    pytest.param(
        {"status": CaseStatus.CLOSED},
        Rule.CLOSED,
        f"Case {CASE} is Closed and can no longer be reopened (it is past reopening); open a "
        f"new case that cites case {CASE}.",
        id="closed-final",
    ),
    pytest.param(
        {"status": CaseStatus.ANSWERED, "now": la(8)},
        Rule.CLOSED,
        f"Case {CASE} is Answered and can no longer be reopened (the reopen window ended on "
        f"7 Dec); open a new case that cites case {CASE}.",
        id="closed-window-over",
    ),
    pytest.param(
        {
            "outbox": [sent(f"other {i}", la(1, 7), case_id=f"9999999999{i}") for i in range(3)],
            "settings": ContactSettings(daily_budget=3),
        },
        Rule.BUDGET,
        "Account acme has used its daily contact budget (3 of 3 messages and reopens today); "
        "send it tomorrow, or raise [contact] daily_budget in caselog.toml.",
        id="budget",
    ),
    pytest.param(
        {
            "messages": [
                *THREAD,
                msg(3, AMAZON, la(27, month=11)),
                msg(4, SELLER, la(28, month=11), TEXT + "\r\n"),
            ]
        },
        Rule.DUPLICATE,
        f"The same text was already sent to case {CASE} on 28 Nov; change it, or add --force "
        "to send it again.",
        id="duplicate-in-thread",
    ),
    pytest.param(
        {"outbox": [sent(TEXT, la(30, 9, month=11), state=OutboxState.SENT)], "now": la(4)},
        Rule.DUPLICATE,
        f"The same text was already sent to case {CASE} on 30 Nov; change it, or add --force "
        "to send it again.",
        id="duplicate-in-outbox",
    ),
    pytest.param(
        {"messages": [*THREAD, msg(3, SELLER, la(30, 15, month=11), "any news?")]},
        Rule.QUIET,
        f"It is Amazon's turn on case {CASE} and your last message went out on 30 Nov 15:00; "
        "the next may go from 3 Dec 15:00 (one per 3 business days), or add --force to send "
        "it now.",
        id="quiet-period",
    ),
]


@pytest.mark.parametrize(("given", "rule", "sentence"), REFUSALS)
def test_each_rule_refuses_with_its_own_sentence(given, rule, sentence) -> None:  # type: ignore[no-untyped-def]
    refusal = verdict(**given).refusal
    assert refusal is not None
    assert (refusal.rule, refusal.sentence) == (rule, sentence)


def test_reopen_and_cc_have_their_own_closed_sentences() -> None:
    reopen = verdict(ActionKind.REOPEN, status=CaseStatus.WORK_IN_PROGRESS).refusal
    assert reopen is not None and reopen.sentence == (
        f"Case {CASE} is Work in progress, not answered, so there is nothing to reopen; reply "
        f"to it with `caselog reply {CASE}` instead."
    )
    assert verdict(ActionKind.REOPEN, status=CaseStatus.ANSWERED).refusal is None
    cc = verdict(ActionKind.CC, status=CaseStatus.RESOLVED).refusal
    assert cc is not None and cc.sentence == (
        f"Case {CASE} is Resolved and its Cc list can no longer be changed; copy the address "
        "into a new case instead."
    )
    # a Cc change is not a contact: no budget, no quiet period, no "changed"
    busy = [sent(f"x{i}", la(1, 7), case_id=f"9999999999{i}") for i in range(3)]
    assert (
        verdict(
            ActionKind.CC, outbox=busy, settings=ContactSettings(daily_budget=1), basis=None
        ).refusal
        is None
    )


def test_the_quiet_period_ends_after_its_business_days_and_resets_on_amazons_answer() -> None:
    nudged = [*THREAD, msg(3, SELLER, la(30, 15, month=11), "any news?")]
    assert verdict(messages=nudged, now=la(3, 14)).refusal is not None
    assert verdict(messages=nudged, now=la(3, 15)).refusal is None
    answered = [*nudged, msg(4, AMAZON, la(1, 9))]
    assert verdict(messages=answered, now=la(1, 10)).refusal is None
    # the outbox counts too (a message not read back yet), and not on the seller's turn
    mine = [sent("first nudge", la(1, 9))]
    assert verdict(outbox=mine).refusal is not None
    assert verdict(outbox=mine, status=CaseStatus.NEEDS_YOUR_ATTENTION).refusal is None
    assert verdict(outbox=mine, settings=ContactSettings(quiet_business_days=0)).refusal is None


def test_force_passes_only_duplicate_and_quiet_period_and_says_so() -> None:
    twice = [*THREAD, msg(3, SELLER, la(30, 15, month=11), TEXT)]
    forced = verdict(messages=twice, force=True)
    assert forced.refusal is None
    assert forced.forced == (Rule.DUPLICATE, Rule.QUIET)
    for given, rule in (
        ({"status": CaseStatus.CLOSED}, Rule.CLOSED),
        (
            {
                "settings": ContactSettings(daily_budget=1),
                "outbox": [sent("x", la(1, 7), case_id="1" * 11)],
            },
            Rule.BUDGET,
        ),
    ):
        refusal = verdict(force=True, **given).refusal  # type: ignore[arg-type]
        assert refusal is not None and refusal.rule is rule


def test_budget_counts_todays_contacts_in_the_accounts_day() -> None:
    outbox = [
        sent("a", la(1, 0)),  # today, just after midnight in Los Angeles
        sent("b", la(30, 23, month=11)),  # yesterday
        sent("c", la(1, 8), kind=ActionKind.CC),  # not a contact
        sent("d", la(1, 8), state=OutboxState.FAILED),  # not sent
        sent("e", la(1, 8), kind=ActionKind.REOPEN, origin=Origin.AUTOPILOT),
        sent("f", la(1, 9), state=OutboxState.PENDING),  # may have gone
    ]
    assert contacts_today(outbox, NOW, LA) == 3
    assert contacts_today(outbox, NOW, LA, Origin.AUTOPILOT) == 1


def test_an_entry_finds_its_own_message_only() -> None:
    entry = sent("Line one\nLine two", state=OutboxState.PENDING).model_copy(
        update={"baseline": (f"{CASE}-001", f"{CASE}-002", f"{CASE}-003")}
    )
    earlier = msg(3, SELLER, la(30, month=11), "Line one\nLine two")  # in the baseline
    mine = msg(4, SELLER, la(1, 9), "Line one\r\nLine two\n")  # CR LF as a browser sends it
    other = msg(5, SELLER, la(1, 9), "Line one")
    assert find_sent(entry, [*THREAD, earlier, mine, other]) == [mine]
    assert text_hash("a\r\nb ") == text_hash("a\nb") != text_hash("a b")


LIMITS = SiteLimits(message_max_chars=20, cc_max_chars=30, max_files=2, max_file_bytes=1000)
LIMIT_CASES = [
    ({"body": "  \r\n "}, "The message is empty; write it with --text or --file."),
    (
        {"body": "x" * 21},
        "The message is 21 characters long and the site takes at most 20; shorten it.",
    ),
    ({"body": "a\r\n" * 10}, None),  # CR LF counts as one character, as the site counts
    (
        {"cc": ["ops@example.com", "finance@example.com"]},
        "The Cc list would be 36 characters long and the site takes at most 30 (commas and "
        "spaces included); remove an address.",
    ),
    (
        {"cc": ["not-an-address"]},
        "'not-an-address' is not an e-mail address; fix it in the Cc list.",
    ),
    (
        {"attachments": [Attachment(name=f"{i}.pdf", size=1) for i in range(3)]},
        "3 files are attached and the site takes at most 2; attach fewer.",
    ),
    (
        {"attachments": [Attachment(name="run.exe", size=1)]},
        "run.exe is not a file type the site takes (csv, doc, docx, gif, jpeg, jpg, pdf, png, "
        "txt, xls, xlsx); convert it or attach another.",
    ),
    (
        {"attachments": [Attachment(name="big.pdf", size=1001)]},
        "big.pdf is 1,001 bytes and the site takes files of at most 1,000 bytes; attach a "
        "smaller one.",
    ),
]


@pytest.mark.parametrize(("given", "problem"), LIMIT_CASES)
def test_the_sites_limits(given, problem) -> None:  # type: ignore[no-untyped-def]
    args = {"body": "hello", **given}
    assert limit_problem(ActionKind.REPLY, limits=LIMITS, **args) == problem


def test_contact_settings_are_validated_where_the_file_is_read() -> None:
    with pytest.raises(ConfigError) as exc:
        parse_settings('[contact]\nauto_send = ["reply_due"]\n')
    assert str(exc.value) == (
        "caselog.toml: key contact.auto_send: 'reply_due' cannot be sent automatically; use "
        "follow_up or escalate (a reply needs your answer); fix that value and run again"
    )
    settings = parse_settings('[contact]\nauto_send = ["follow_up"]\ndaily_budget = 4\n')
    assert settings.contact.auto_send == ["follow_up"] and settings.contact.daily_budget == 4
    assert ContactSettings().quiet_business_days == 3
