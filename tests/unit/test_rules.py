"""Whose turn, for how long, and the flags: pure, with an explicit now.

Calendar used throughout (Los Angeles, Mon-Fri 9-17): Nov 2026 has Mon 16, Tue 17, Wed 18,
Thu 19, Fri 20, Sat 21, Sun 22, Mon 23, Tue 24, Wed 25, Thu 26.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agent.config import Account, ContactSettings, RuleSettings
from agent.core.businesstime import BusinessCalendar
from agent.core.contact import ActionKind, Attempt, check
from agent.core.models import (
    Case,
    CaseStatus,
    Direction,
    Event,
    EventKind,
    Flag,
    FlagKind,
    FlagState,
    Message,
    Severity,
)
from agent.core.rules import FlagDecision, due_now, evaluate, thresholds_for
from agent.core.turn import Since, Turn, reopen_until, whose_turn

LA = ZoneInfo("America/Los_Angeles")
ACCOUNT = Account(name="acme", base_url="https://sellercentral.example")
RULES = RuleSettings()
NO_AGE = RuleSettings(escalate_unresolved_days=60)  # keeps the ladder tests on the ladder
CASE_ID = "12345678901"
AMAZON, SELLER = Direction.FROM_AMAZON, Direction.FROM_SELLER


def la(day: int, hour: int = 10, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LA)


def case(
    status: CaseStatus = CaseStatus.PENDING_AMAZON_ACTION,
    created: datetime | None = None,
    subject: str = "Shipping template question",
    account: str = "acme",
) -> Case:
    created = created or la(16)
    return Case(
        case_id=CASE_ID,
        account=account,
        subject=subject,
        status=status,
        status_raw=status.value,
        created_at=created,
        first_seen_at=created,
        last_seen_at=created,
    )


def msg(direction: Direction, sent_at: datetime, body: str = "Any news?") -> Message:
    sender = "Amazon" if direction is AMAZON else "You"
    return Message(
        message_id=Message.stable_id(CASE_ID, sender, sent_at, body),
        case_id=CASE_ID,
        direction=direction,
        sender=sender,
        sent_at=sent_at,
        body=body,
    )


def status_event(status: CaseStatus, detected_at: datetime) -> Event:
    return Event(
        event_id=f"ev-{status}-{detected_at.isoformat()}",
        account="acme",
        case_id=CASE_ID,
        kind=EventKind.STATUS_CHANGED,
        before={"status": "WORK_IN_PROGRESS", "status_raw": "Work in progress"},
        after={"status": status.value, "status_raw": status.value},
        detected_at=detected_at,
        snapshot_id="s",
    )


@dataclass(frozen=True)
class Decision:
    state: FlagState
    snoozed_until: datetime | None = None


def flags_of(
    c: Case,
    messages: Sequence[Message] = (),
    *,
    now: datetime,
    events: Sequence[Event] = (),
    decisions: Mapping[str, FlagDecision] | None = None,
    rules: RuleSettings = RULES,
    account: Account = ACCOUNT,
) -> list[Flag]:
    return evaluate(
        [c],
        {c.case_id: list(messages)},
        events,
        decisions or {},
        rules=rules,
        account=account,
        now=now,
    )


def only(flags: list[Flag], kind: FlagKind) -> Flag:
    found = [f for f in flags if f.kind is kind]
    assert len(found) == 1, [f.kind for f in flags]
    return found[0]


# -- whose turn ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "messages", "events", "expected"),
    [
        pytest.param(
            CaseStatus.PENDING_AMAZON_ACTION,
            [],
            [],
            (Turn.AMAZON, la(16), Since.OPENED, 0),
            id="never-answered-counts-from-opening",
        ),
        pytest.param(
            CaseStatus.OPEN,
            [msg(SELLER, la(16)), msg(SELLER, la(18))],
            [],
            (Turn.AMAZON, la(16), Since.OPENED, 1),
            id="opening-message-is-not-a-follow-up",
        ),
        pytest.param(
            CaseStatus.NEEDS_YOUR_ATTENTION,
            [msg(AMAZON, la(17))],
            [],
            (Turn.SELLER, la(17), Since.AMAZON_MESSAGE, 0),
            id="needs-attention-is-sellers-turn",
        ),
        pytest.param(
            CaseStatus.NEEDS_YOUR_ATTENTION,
            [msg(AMAZON, la(17)), msg(SELLER, la(18))],
            [],
            (Turn.AMAZON, la(18), Since.YOUR_MESSAGE, 0),
            id="newest-message-sellers-is-amazons-turn",
        ),
        pytest.param(
            CaseStatus.WORK_IN_PROGRESS,
            [msg(AMAZON, la(16)), msg(SELLER, la(18)), msg(SELLER, la(19))],
            [],
            (Turn.AMAZON, la(16), Since.AMAZON_MESSAGE, 2),
            id="no-history-every-later-seller-message-is-a-follow-up",
        ),
        pytest.param(
            CaseStatus.WORK_IN_PROGRESS,
            [msg(AMAZON, la(16)), msg(SELLER, la(18)), msg(SELLER, la(19))],
            [status_event(CaseStatus.NEEDS_YOUR_ATTENTION, la(16, 11))],
            (Turn.AMAZON, la(18), Since.YOUR_MESSAGE, 1),
            id="history-shows-a-reply-that-restarts-amazons-clock",
        ),
        pytest.param(
            CaseStatus.ANSWERED,
            [msg(AMAZON, la(17))],
            [],
            (Turn.NOBODY, la(17), Since.AMAZON_MESSAGE, 0),
            id="answered-is-nobodys",
        ),
        pytest.param(
            CaseStatus.ANSWERED,
            [msg(AMAZON, la(17)), msg(SELLER, la(18))],
            [],
            (Turn.AMAZON, la(18), Since.YOUR_MESSAGE, 0),
            id="answered-then-seller-wrote",
        ),
        pytest.param(
            CaseStatus.CLOSED,
            [msg(AMAZON, la(17)), msg(SELLER, la(18))],
            [],
            (Turn.NOBODY, la(18), Since.STATUS_CHANGE, 0),
            id="final-is-nobodys-even-after-a-seller-message",
        ),
        pytest.param(
            CaseStatus.UNKNOWN,
            [],
            [],
            (Turn.NOBODY, la(16), Since.STATUS_CHANGE, 0),
            id="unknown-is-nobodys",
        ),
    ],
)
def test_whose_turn(
    status: CaseStatus,
    messages: list[Message],
    events: list[Event],
    expected: tuple[Turn, datetime, Since, int],
) -> None:
    clock = whose_turn(case(status), messages, events)
    assert (clock.turn, clock.since, clock.cause, len(clock.follow_ups)) == expected


def test_escalation_messages_are_not_follow_ups() -> None:
    messages = [
        msg(AMAZON, la(16)),
        msg(SELLER, la(18)),
        msg(SELLER, la(19), "Urgent Escalation Request: 12345678901 for a payment hold"),
        msg(SELLER, la(20), "Please escalate this case."),
    ]
    clock = whose_turn(case(), messages, [])
    assert clock.follow_ups == (la(18),)
    assert clock.escalations == (la(19), la(20))


# -- the seller's turn -----------------------------------------------------------------------


def test_reply_due_at_once_then_closes_soon_replaces_it() -> None:
    c = case(CaseStatus.NEEDS_YOUR_ATTENTION, created=la(2))
    messages = [msg(AMAZON, la(16), "Please send an invoice.")]
    early = flags_of(c, messages, now=la(17))
    assert [f.kind for f in due_now(early, la(17))] == [FlagKind.REPLY_DUE]
    reply = only(early, FlagKind.REPLY_DUE)
    assert (reply.due_at, reply.severity) == (la(16), Severity.WARNING)
    assert reply.reason == (
        "Needs Your Attention since Amazon's last message on 16 Nov; "
        "reply now (it may be auto-closed on 23 Nov)."
    )
    # The warning counts from Amazon's message, not from the case's opening on 2 Nov.
    assert only(early, FlagKind.CLOSES_SOON).due_at == la(21)
    late = flags_of(c, messages, now=la(21))
    assert [f.kind for f in late] == [FlagKind.CLOSES_SOON]
    assert late[0].severity is Severity.URGENT
    assert "auto-closed on 23 Nov" in late[0].reason
    overdue = flags_of(c, messages, now=la(24))
    assert "auto-closed any time now (from 23 Nov)" in overdue[0].reason


def test_a_seller_reply_stops_the_sellers_clock() -> None:
    c = case(CaseStatus.NEEDS_YOUR_ATTENTION)
    messages = [msg(AMAZON, la(16)), msg(SELLER, la(17))]
    flags = flags_of(c, messages, now=la(25))
    assert {f.kind for f in flags} <= {FlagKind.FOLLOW_UP, FlagKind.ESCALATE}


# -- Amazon's turn: business days, time zones, pausing ---------------------------------------


@pytest.mark.parametrize(
    ("now", "due"),
    [
        pytest.param(la(23, 18), False, id="monday-evening-not-yet"),
        pytest.param(la(24, 15, 59), False, id="tuesday-15h59-not-yet"),
        pytest.param(la(24, 16), True, id="tuesday-16h-due"),
    ],
)
def test_follow_up_across_a_weekend(now: datetime, due: bool) -> None:
    c = case(created=la(20, 16))  # opened Friday 16:00
    flags = flags_of(c, [msg(SELLER, la(20, 16))], now=now, rules=NO_AGE)
    follow_up = only(flags, FlagKind.FOLLOW_UP)
    assert follow_up.due_at == la(24, 16)
    assert (follow_up in due_now(flags, now)) is due


@pytest.mark.parametrize(
    ("timezone", "due_utc"),
    [
        # Opened 16:30 UTC Friday: 16:30 in London (half an hour before closing),
        # 08:30 in Los Angeles (before opening).
        pytest.param("Europe/London", datetime(2026, 11, 24, 16, 30, tzinfo=UTC), id="London"),
        pytest.param("America/Los_Angeles", datetime(2026, 11, 24, 1, 0, tzinfo=UTC), id="LA"),
    ],
)
def test_follow_up_in_the_accounts_time_zone(timezone: str, due_utc: datetime) -> None:
    account = ACCOUNT.model_copy(update={"timezone": timezone})
    opened = datetime(2026, 11, 20, 16, 30, tzinfo=UTC)
    flags = flags_of(case(created=opened), now=opened, rules=NO_AGE, account=account)
    assert only(flags, FlagKind.FOLLOW_UP).due_at == due_utc


def test_business_hours_of_the_account() -> None:
    short_days = ACCOUNT.model_copy(update={"business_hours": (10, 12)})
    flags = flags_of(case(created=la(16, 11)), now=la(16, 11), rules=NO_AGE, account=short_days)
    # Two business days of 2 hours: Mon 11-12, Tue 10-12, Wed 10-11.
    assert only(flags, FlagKind.FOLLOW_UP).due_at == la(18, 11)


def test_amazons_clock_pauses_while_it_is_the_sellers_turn() -> None:
    """Amazon asked on Monday, the seller answered on Thursday: Amazon's 2 business days
    start on Thursday, not Monday, and that answer is not a follow-up."""
    c = case(CaseStatus.PENDING_AMAZON_ACTION)
    messages = [msg(AMAZON, la(16), "Please send the invoice."), msg(SELLER, la(19), "Attached.")]
    events = [status_event(CaseStatus.NEEDS_YOUR_ATTENTION, la(16, 11))]
    flags = flags_of(c, messages, events=events, now=la(20, 12), rules=NO_AGE)
    follow_up = only(flags, FlagKind.FOLLOW_UP)
    assert follow_up.due_at == la(23)  # Thu 10:00 + 2 business days
    assert due_now(flags, la(20, 12)) == []
    assert follow_up.step == 1
    assert follow_up.reason == (
        "Pending Amazon Action since your message on 19 Nov; no follow-up sent yet; "
        "follow up on 23 Nov; escalate on 27 Nov."
    )


# -- the ladder ------------------------------------------------------------------------------


def test_ladder_steps_fire_once_each_as_time_passes() -> None:
    c = case(CaseStatus.WORK_IN_PROGRESS, created=la(16))
    seen: dict[str, int] = {}
    steps: list[int] = []
    now = la(16)
    while now < la(27):
        for flag in due_now(flags_of(c, now=now, rules=NO_AGE), now):
            assert flag.kind is FlagKind.FOLLOW_UP
            assert flag.step is not None
            assert seen.setdefault(flag.flag_id, flag.step) == flag.step
            if not steps or steps[-1] != flag.step:
                steps.append(flag.step)
        now += timedelta(hours=3)
    assert steps == [1, 2, 3, 4]  # Wed 18, Fri 20, Tue 24, Thu 26: never step 1 twice
    assert len(seen) == 4


def test_done_on_a_step_leaves_the_next_step_active() -> None:
    c = case(CaseStatus.WORK_IN_PROGRESS)
    step1 = only(flags_of(c, now=la(18), rules=NO_AGE), FlagKind.FOLLOW_UP)
    done = {step1.flag_id: Decision(FlagState.DONE)}
    again = only(flags_of(c, now=la(19), rules=NO_AGE, decisions=done), FlagKind.FOLLOW_UP)
    assert (again.flag_id, again.state) == (step1.flag_id, FlagState.DONE)
    assert due_now([again], la(19)) == []
    step2 = only(flags_of(c, now=la(20), rules=NO_AGE, decisions=done), FlagKind.FOLLOW_UP)
    assert (step2.step, step2.state) == (2, FlagState.ACTIVE)
    assert step2.flag_id != step1.flag_id


def test_a_sent_follow_up_moves_the_ladder_on() -> None:
    c = case(CaseStatus.WORK_IN_PROGRESS)
    messages = [msg(SELLER, la(16)), msg(SELLER, la(18, 12))]
    follow_up = only(flags_of(c, messages, now=la(18, 13), rules=NO_AGE), FlagKind.FOLLOW_UP)
    assert (follow_up.step, follow_up.due_at) == (2, la(20, 12))
    assert follow_up.reason == (
        "Work in progress since the case was opened on 16 Nov; 1 follow-up sent (18 Nov); "
        "follow up on 20 Nov; escalate on 24 Nov."
    )


def test_the_ladder_resets_when_amazon_replies() -> None:
    c = case(CaseStatus.WORK_IN_PROGRESS)
    before = only(flags_of(c, now=la(20), rules=NO_AGE), FlagKind.FOLLOW_UP)
    assert before.step == 2
    reply = [msg(AMAZON, la(20, 11), "We are still investigating.")]
    after = only(flags_of(c, reply, now=la(20, 12), rules=NO_AGE), FlagKind.FOLLOW_UP)
    assert (after.step, after.due_at) == (1, la(24, 11))
    assert after.flag_id != before.flag_id
    assert "since Amazon's last message on 20 Nov" in after.reason


# -- escalation ------------------------------------------------------------------------------


def test_escalate_after_two_unanswered_follow_ups() -> None:
    c = case(CaseStatus.PENDING_AMAZON_ACTION)
    messages = [msg(SELLER, la(16)), msg(SELLER, la(18, 11)), msg(SELLER, la(20, 11))]
    upcoming = flags_of(c, messages, now=la(23), rules=NO_AGE)
    assert only(upcoming, FlagKind.ESCALATE).due_at == la(24, 11)
    assert [f.kind for f in due_now(upcoming, la(23))] == []
    due = due_now(flags_of(c, messages, now=la(24, 12), rules=NO_AGE), la(24, 12))
    assert [f.kind for f in due] == [FlagKind.ESCALATE]  # replaces the follow-up
    assert due[0].reason == (
        "Pending Amazon Action since the case was opened on 16 Nov; "
        "2 follow-ups sent (18 Nov, 20 Nov) with no answer; escalate now (due 24 Nov)."
    )


def test_escalate_when_unresolved_for_seven_days() -> None:
    c = case(CaseStatus.WORK_IN_PROGRESS, created=la(16))
    assert only(flags_of(c, now=la(20)), FlagKind.ESCALATE).due_at == la(23)
    due = due_now(flags_of(c, now=la(23)), la(23))
    assert [f.kind for f in due] == [FlagKind.ESCALATE]
    assert "unresolved 7 days after it was opened on 16 Nov" in due[0].reason


@dataclass(frozen=True)
class Marked:
    state: FlagState
    updated_at: datetime
    snoozed_until: datetime | None = None


@pytest.mark.parametrize(
    ("decision", "waits_until"),
    [
        pytest.param(Marked(FlagState.DONE, la(23, 14)), la(25, 14), id="from-the-done-time"),
        pytest.param(Decision(FlagState.DONE), la(25, 10), id="no-time:-from-the-due-time"),
    ],
)
def test_done_on_an_escalation_waits_like_an_escalation_message(
    decision: FlagDecision, waits_until: datetime
) -> None:
    """Done on an escalation = the seller escalated outside the tool: no "follow up now"
    flag appears; the ladder waits wait_after_escalation_hours (48) from the done time."""
    c = case(CaseStatus.WORK_IN_PROGRESS, created=la(16))
    escalate = only(flags_of(c, now=la(23, 14)), FlagKind.ESCALATE)
    assert escalate.due_at == la(23)
    done = {escalate.flag_id: decision}
    assert due_now(flags_of(c, now=la(23, 14, 1), decisions=done), la(23, 14, 1)) == []
    assert due_now(flags_of(c, now=la(25, 9), decisions=done), la(25, 9)) == []
    later = flags_of(c, now=waits_until, decisions=done)
    escalate_again = only(later, FlagKind.ESCALATE)
    assert escalate_again.flag_id == escalate.flag_id and escalate_again.state is FlagState.DONE
    follow_up = only(due_now(later, waits_until), FlagKind.FOLLOW_UP)
    assert follow_up.due_at == waits_until
    assert "marked the escalation done on 23 Nov" in follow_up.reason


def test_wait_48_hours_after_an_escalation() -> None:
    c = case(CaseStatus.PENDING_AMAZON_ACTION)
    sent = la(24, 11)
    messages = [
        msg(SELLER, la(16)),
        msg(SELLER, la(18, 11)),
        msg(SELLER, la(20, 11)),
        msg(SELLER, sent, "Urgent Escalation Request: 12345678901 for Shipping template"),
    ]
    waiting = flags_of(c, messages, now=la(25, 12), rules=NO_AGE)
    assert due_now(waiting, la(25, 12)) == []
    assert [f.kind for f in waiting] == [FlagKind.FOLLOW_UP]  # no escalate before 2 more
    next_step = waiting[0]
    assert next_step.due_at == sent + timedelta(hours=48)
    assert "your escalation on 24 Nov 11:00 has had no answer" in next_step.reason
    due = due_now(flags_of(c, messages, now=la(26, 11), rules=NO_AGE), la(26, 11))
    assert [f.flag_id for f in due] == [next_step.flag_id]
    assert "follow up on it now (due 26 Nov)" in due[0].reason


def test_no_second_escalation_inside_the_wait() -> None:
    urgent = case(CaseStatus.PENDING_AMAZON_ACTION, subject="Disbursement on hold")
    sent = la(24, 11)
    messages = [
        msg(SELLER, la(16)),
        msg(SELLER, sent, "I ask to escalate this case."),
        msg(SELLER, la(24, 12)),  # one follow-up is enough for an urgent case...
    ]
    escalate = only(flags_of(urgent, messages, now=la(25, 13)), FlagKind.ESCALATE)
    assert escalate.due_at == sent + timedelta(hours=48)  # ...but not before the 48 h wait
    assert "waiting 48 h after your escalation on 24 Nov 11:00" in escalate.reason
    follow_up = only(flags_of(urgent, messages, now=la(25, 13)), FlagKind.FOLLOW_UP)
    assert follow_up.due_at == sent + timedelta(hours=48)  # not Wed 12:00 (1 business day)


# -- urgent categories -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "category", "follow_up_due", "severity"),
    [
        pytest.param("Shipping template question", None, la(18), Severity.INFO, id="ordinary"),
        pytest.param("Disbursement on hold", "payments", la(17), Severity.WARNING, id="payments"),
        pytest.param(
            "PAYMENT delayed", "payments", la(17), Severity.WARNING, id="case-insensitive"
        ),
        pytest.param("Account suspended", "account_health", la(17), Severity.WARNING, id="health"),
        pytest.param(
            "Listing suppressed", "listing_suppression", la(17), Severity.WARNING, id="listing"
        ),
        pytest.param("Trademark complaint", "policy", la(17), Severity.WARNING, id="policy-ip"),
    ],
)
def test_urgent_categories_halve_the_thresholds(
    subject: str, category: str | None, follow_up_due: datetime, severity: Severity
) -> None:
    th = thresholds_for(subject, RULES)
    factor = 0.5 if category else 1
    assert (th.category, th.follow_up_business_days) == (category, 2 * factor)
    assert (th.escalate_after_follow_ups, th.escalate_unresolved_days) == (2 * factor, 7 * factor)
    flags = flags_of(case(created=la(16), subject=subject), now=la(16))
    follow_up = only(flags, FlagKind.FOLLOW_UP)
    assert (follow_up.due_at, follow_up.severity) == (follow_up_due, severity)
    assert only(flags, FlagKind.ESCALATE).due_at == la(16) + timedelta(days=7 * factor)


def test_urgent_case_escalates_after_one_follow_up() -> None:
    c = case(CaseStatus.PENDING_AMAZON_ACTION, subject="Funds held in reserve")
    messages = [msg(SELLER, la(16)), msg(SELLER, la(17))]
    escalate = only(flags_of(c, messages, now=la(18)), FlagKind.ESCALATE)
    assert (escalate.due_at, escalate.severity) == (la(18), Severity.URGENT)
    assert escalate.reason.endswith("payments is an urgent category.")


# -- snooze and done -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "state", "listed"),
    [
        pytest.param(la(17, 9), FlagState.SNOOZED, False, id="while-snoozed"),
        pytest.param(la(17, 12), FlagState.ACTIVE, True, id="snooze-expired"),
    ],
)
def test_snooze_expires_by_itself(now: datetime, state: FlagState, listed: bool) -> None:
    c = case(CaseStatus.NEEDS_YOUR_ATTENTION)
    messages = [msg(AMAZON, la(16))]
    reply = only(flags_of(c, messages, now=la(16, 12)), FlagKind.REPLY_DUE)
    snoozed = {reply.flag_id: Decision(FlagState.SNOOZED, la(17, 12))}
    flag = only(flags_of(c, messages, now=now, decisions=snoozed), FlagKind.REPLY_DUE)
    assert flag.state is state
    assert flag.snoozed_until == (la(17, 12) if state is FlagState.SNOOZED else None)
    assert (flag in due_now([flag], now)) is listed
    assert due_now([flag], la(17, 12)) == [flag]  # due_now honours an expiry of its own


def test_done_suppresses_only_that_flag_id() -> None:
    c = case(CaseStatus.NEEDS_YOUR_ATTENTION)
    messages = [msg(AMAZON, la(16))]
    reply = only(flags_of(c, messages, now=la(16, 12)), FlagKind.REPLY_DUE)
    done = {reply.flag_id: Decision(FlagState.DONE)}
    flags = flags_of(c, messages, now=la(17), decisions=done)
    assert {f.kind: f.state for f in flags} == {
        FlagKind.REPLY_DUE: FlagState.DONE,
        FlagKind.CLOSES_SOON: FlagState.ACTIVE,
    }
    later = flags_of(c, messages, now=la(21, 11), decisions=done)
    assert [f.kind for f in due_now(later, la(21, 11))] == [FlagKind.CLOSES_SOON]


def test_the_stores_flag_state_record_is_a_decision() -> None:
    from agent.store import FlagStateRecord

    c = case(CaseStatus.NEEDS_YOUR_ATTENTION)
    messages = [msg(AMAZON, la(16))]
    reply = only(flags_of(c, messages, now=la(16, 12)), FlagKind.REPLY_DUE)
    record = FlagStateRecord(
        flag_id=reply.flag_id,
        state=FlagState.SNOOZED,
        snoozed_until=datetime(2026, 11, 18, 0, 0),  # naive from an old file: read as UTC
        updated_at=la(16, 12),
    )
    flag = only(
        flags_of(c, messages, now=la(17), decisions={reply.flag_id: record}), FlagKind.REPLY_DUE
    )
    assert (flag.state, flag.snoozed_until) == (
        FlagState.SNOOZED,
        datetime(2026, 11, 18, tzinfo=UTC),
    )


# -- the reopen window -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "due", "severity", "says"),
    [
        pytest.param(la(10), False, Severity.INFO, "reopen it before 16 Nov", id="early"),
        pytest.param(la(14), True, Severity.WARNING, "reopen it before 16 Nov", id="remind"),
        pytest.param(
            la(17),
            True,
            Severity.INFO,
            "the window to reopen closed on 16 Nov; if it is not settled, open a new case "
            "citing case ID 12345678901",
            id="after-the-window",
        ),
    ],
)
def test_reopen_window(now: datetime, due: bool, severity: Severity, says: str) -> None:
    c = case(CaseStatus.ANSWERED, created=la(1))
    flags = flags_of(c, [msg(AMAZON, la(2), "This is resolved.")], now=now)
    reopen = only(flags, FlagKind.REOPEN_WINDOW)
    assert reopen.due_at == la(13)  # 14-day window from 2 Nov, reminded 3 days before
    assert (reopen.severity, reopen in due_now(flags, now)) == (severity, due)
    assert says in reopen.reason
    assert reopen.reason.startswith("Answered on 2 Nov; ")


@pytest.mark.parametrize(
    ("now", "flagged"), [(la(23), True), (la(24), False), (la(20, month=12), False)]
)
def test_reopen_reminder_ends_a_week_after_the_window(now: datetime, flagged: bool) -> None:
    c = case(CaseStatus.ANSWERED, created=la(1))
    flags = flags_of(c, [msg(AMAZON, la(2), "This is resolved.")], now=now)
    assert any(f.kind is FlagKind.REOPEN_WINDOW for f in flags) is flagged


def test_reopen_window_done_means_settled() -> None:
    c = case(CaseStatus.ANSWERED, created=la(1))
    messages = [msg(AMAZON, la(2))]
    reopen = only(flags_of(c, messages, now=la(14)), FlagKind.REOPEN_WINDOW)
    settled = {reopen.flag_id: Decision(FlagState.DONE)}
    assert due_now(flags_of(c, messages, now=la(20), decisions=settled), la(20)) == []


@pytest.mark.parametrize("stored", [True, False], ids=["amazon-message-stored", "listing-only"])
def test_the_to_do_and_the_contact_rules_count_one_reopen_window(stored: bool) -> None:
    """With Amazon's answer stored, or known only from the listing's date of it, the to-do's
    reminder and a reply's refusal name the same last day to reopen."""
    answered = la(2)
    c = case(CaseStatus.ANSWERED, created=la(1)).model_copy(
        update={"last_amazon_reply_at": answered}
    )
    messages = [msg(SELLER, la(1)), *([msg(AMAZON, answered)] if stored else [])]
    reopen = only(flags_of(c, messages, now=la(10)), FlagKind.REOPEN_WINDOW)
    assert "reopen it before 16 Nov" in reopen.reason
    verdict = check(
        Attempt(ActionKind.REPLY, "acme", CASE_ID, "Still not settled."),
        basis=None,
        status=c.status,
        messages=messages,
        cc=(),
        outbox=(),
        settings=ContactSettings(),
        reopen_until=reopen_until(c, messages, (), RULES.reopen_window_days),
        calendar=BusinessCalendar.of(ACCOUNT),
        now=la(10),
    )
    assert verdict.refusal is not None
    assert verdict.refusal.sentence.endswith("before 16 Nov.")


# -- everything else -------------------------------------------------------------------------


@pytest.mark.parametrize("status", [CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.UNKNOWN])
def test_no_flags_when_nobody_has_to_act(status: CaseStatus) -> None:
    assert flags_of(case(status, created=la(1)), [msg(AMAZON, la(2))], now=la(30)) == []


def test_flags_are_deterministic_one_sentence_each() -> None:
    c = case(CaseStatus.PENDING_AMAZON_ACTION, created=la(2))
    messages = [msg(SELLER, la(2)), msg(AMAZON, la(9)), msg(SELLER, la(12))]
    first = flags_of(c, messages, now=la(20))
    assert first == flags_of(c, messages, now=la(20))
    assert first
    for flag in first:
        assert flag.reason.endswith(".") and "\n" not in flag.reason
        assert flag.reason.count(".") == 1


def test_due_now_most_urgent_first() -> None:
    def flag(flag_id: str, severity: Severity, due: datetime, **kw: Any) -> Flag:
        return Flag(
            flag_id=flag_id,
            account="acme",
            case_id=CASE_ID,
            kind=FlagKind.FOLLOW_UP,
            severity=severity,
            due_at=due,
            reason="r.",
            **kw,
        )

    flags = [
        flag("info-old", Severity.INFO, la(1)),
        flag("urgent-new", Severity.URGENT, la(15)),
        flag("warning", Severity.WARNING, la(10)),
        flag("urgent-old", Severity.URGENT, la(5)),
        flag("future", Severity.URGENT, la(30)),
        flag("done", Severity.URGENT, la(1), state=FlagState.DONE),
        flag("snoozed", Severity.URGENT, la(1), state=FlagState.SNOOZED, snoozed_until=la(25)),
    ]
    assert [f.flag_id for f in due_now(flags, la(20))] == [
        "urgent-old",
        "urgent-new",
        "warning",
        "info-old",
    ]


def test_refuses_naive_now_and_a_case_of_another_account() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        flags_of(case(), now=datetime(2026, 11, 20))
    with pytest.raises(ValueError, match="belongs to 'other'"):
        flags_of(case(account="other"), now=la(20))
