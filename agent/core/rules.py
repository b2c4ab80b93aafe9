"""Whose turn it is on each case, for how long, and what the seller should do about it (pure).

Everything here takes plain data and an explicit ``now``; nothing reads the clock or the disk.

Whose turn (:func:`whose_turn`)
- Final statuses (Resolved, Closed): nobody's.
- Amazon's while the status is Open / Pending Amazon Action / Work in progress / Transferred /
  Reopened, or whenever the newest message is the seller's (a reply the status has not caught
  up with yet). The seller's while Needs Your Attention. Answered (and Unknown) with no newer
  seller message: nobody's; Answered cases get the reopen-window reminder instead.
- The clock of a turn starts when the turn began and resets on a reply. For Amazon's turn
  that is Amazon's last message, or the case's opening if Amazon never wrote. Seller messages
  after it are *follow-ups sent* ("bumps"), except when the stored status events show that the
  case was the seller's turn (Needs Your Attention or Answered) when the first of them was
  sent: then that message was the seller's reply, the time before it was the seller's turn
  (Amazon's clock was paused) and Amazon's clock starts at that reply. With no status
  history (the first sync) every seller message after Amazon's last one counts as a
  follow-up. A seller message that mentions escalation ("Urgent Escalation Request",
  "escalate") is an escalation, not a follow-up.

Flags (:func:`evaluate`)
- ``reply_due``: the seller's turn; due at once. ``closes_soon`` from ``closes_soon_days`` of
  the seller's silence (Amazon auto-closes after ``auto_close_days``); once due it replaces
  ``reply_due``.
- ``follow_up``: Amazon's turn; a bump ladder. Step k is due ``follow_up_business_days``
  business days after the previous bump: the seller's last follow-up, or the previous step's
  due time if the seller let it pass, or the start of Amazon's turn. Only the current step is
  reported; its id includes the step, so each step is a new flag (done on step 1 leaves step
  2 active) and never comes back. An Amazon reply starts a new ladder. After an escalation
  the next step is due ``wait_after_escalation_hours`` later (a follow-up sent meanwhile
  does not bring it forward).
- ``escalate``: when ``escalate_after_follow_ups`` follow-ups (since the last escalation) have
  had no answer for a further ladder interval, or when the case is unresolved
  ``escalate_unresolved_days`` calendar days after it was opened (once per case: not again
  after the seller has escalated). Never sooner than the wait after an escalation. While an
  escalation is due (and not done) it replaces the follow-up flag.
- ``reopen_window``: Answered, until the seller marks the flag done (= settled); due
  ``reopen_remind_days_before`` days before the reopen window (``reopen_window_days`` after
  the answer) closes; after that the reason says to open a new case citing the old ID.
- Urgent categories (keywords of ``urgent_categories`` found in the subject) multiply the
  follow-up interval, the follow-up count (rounded up, at least 1) and the unresolved days by
  ``urgent_factor``. Amazon's auto-close and reopen windows, and the wait after an
  escalation, are not shortened.
- Business days and hours are the account's, in its time zone; reasons give dates there.
- Flags that are not yet due are returned too (with a future ``due_at``), for calendars;
  :func:`due_now` keeps what needs action now.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from agent.config import Account, RuleSettings
from agent.core.businesstime import (
    BusinessCalendar,
    add_business_days,
    format_day,
    format_moment,
    steps_until,
)
from agent.core.categories import category_label, match_category
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

__all__ = [
    "AMAZON_STATUSES",
    "ESCALATION_MARKERS",
    "SELLER_HOLDS",
    "STATUS_LABELS",
    "Bump",
    "Clock",
    "FlagDecision",
    "Since",
    "Thresholds",
    "Turn",
    "due_now",
    "evaluate",
    "evaluate_case",
    "is_escalation",
    "thresholds_for",
    "whose_turn",
]

AMAZON_STATUSES = frozenset(
    {
        CaseStatus.OPEN,
        CaseStatus.PENDING_AMAZON_ACTION,
        CaseStatus.WORK_IN_PROGRESS,
        CaseStatus.TRANSFERRED,
        CaseStatus.REOPENED,
    }
)
# Statuses that leave the ball with the seller: a seller message sent then is a reply.
SELLER_HOLDS = frozenset({CaseStatus.NEEDS_YOUR_ATTENTION, CaseStatus.ANSWERED})
ESCALATION_MARKERS = ("escalat",)

STATUS_LABELS: dict[CaseStatus, str] = {
    CaseStatus.OPEN: "Open",
    CaseStatus.PENDING_AMAZON_ACTION: "Pending Amazon Action",
    CaseStatus.NEEDS_YOUR_ATTENTION: "Needs Your Attention",
    CaseStatus.WORK_IN_PROGRESS: "Work in progress",
    CaseStatus.ANSWERED: "Answered",
    CaseStatus.TRANSFERRED: "Transferred",
    CaseStatus.REOPENED: "Reopened",
    CaseStatus.RESOLVED: "Resolved",
    CaseStatus.CLOSED: "Closed",
    CaseStatus.UNKNOWN: "Unknown status",
}

_SEVERITY_RANK = {Severity.URGENT: 0, Severity.WARNING: 1, Severity.INFO: 2}
_STATUS_EVENTS = (EventKind.STATUS_CHANGED, EventKind.CASE_NEW, EventKind.CASE_BACK)


class Turn(StrEnum):
    AMAZON = "amazon"
    SELLER = "seller"
    NOBODY = "nobody"


class Since(StrEnum):
    """What started the current turn."""

    OPENED = "opened"  # the case was opened and Amazon has not written yet
    YOUR_MESSAGE = "your_message"  # the seller's reply handed the turn to Amazon
    AMAZON_MESSAGE = "amazon_message"  # Amazon's last message
    STATUS_CHANGE = "status_change"  # a status change without a message


@dataclass(frozen=True)
class Bump:
    """A seller message sent during Amazon's turn: a follow-up, or an escalation."""

    sent_at: datetime
    escalation: bool = False


@dataclass(frozen=True)
class Clock:
    """Whose turn it is on one case, since when, and the bumps the seller sent since."""

    turn: Turn
    since: datetime
    cause: Since
    bumps: tuple[Bump, ...] = ()
    last_amazon_at: datetime | None = None

    @property
    def follow_ups(self) -> tuple[datetime, ...]:
        return tuple(b.sent_at for b in self.bumps if not b.escalation)

    @property
    def escalations(self) -> tuple[datetime, ...]:
        return tuple(b.sent_at for b in self.bumps if b.escalation)


class FlagDecision(Protocol):
    """The seller's say on one flag, as the store keeps it (e.g. ``store.FlagStateRecord``)."""

    @property
    def state(self) -> FlagState: ...

    @property
    def snoozed_until(self) -> datetime | None: ...


@dataclass(frozen=True)
class Thresholds:
    """The rule numbers for one case, shortened if its subject is in an urgent category."""

    follow_up_business_days: float
    escalate_after_follow_ups: int
    escalate_unresolved_days: float
    category: str | None = None


def thresholds_for(subject: str, rules: RuleSettings) -> Thresholds:
    """The thresholds for a case with ``subject``: urgent categories scale by the factor."""
    category = match_category(subject, rules.urgent_categories)
    factor = rules.urgent_factor if category else 1.0
    interval = rules.follow_up_business_days * factor
    if interval <= 0:
        raise ValueError("follow_up_business_days (times urgent_factor) must be positive")
    return Thresholds(
        follow_up_business_days=interval,
        escalate_after_follow_ups=max(1, math.ceil(rules.escalate_after_follow_ups * factor)),
        escalate_unresolved_days=rules.escalate_unresolved_days * factor,
        category=category,
    )


def is_escalation(message: Message) -> bool:
    """A seller message asking for escalation ("Urgent Escalation Request: ...")."""
    if message.direction is not Direction.FROM_SELLER:
        return False
    body = message.body.casefold()
    return any(marker in body for marker in ESCALATION_MARKERS)


# -- whose turn ------------------------------------------------------------------------------


def whose_turn(case: Case, messages: Sequence[Message], events: Sequence[Event]) -> Clock:
    """Whose turn it is on ``case``, since when, and what the seller has sent since."""
    msgs = sorted(
        (m for m in messages if m.case_id == case.case_id),
        key=lambda m: (m.sent_at, m.message_id),
    )
    amazon = [m.sent_at for m in msgs if m.direction is Direction.FROM_AMAZON]
    last_amazon_at = amazon[-1] if amazon else case.last_amazon_reply_at
    seller_after = [
        m
        for m in msgs
        if m.direction is Direction.FROM_SELLER
        and (last_amazon_at is None or m.sent_at > last_amazon_at)
    ]
    if case.status.is_final:
        since = case.last_updated_at or (msgs[-1].sent_at if msgs else case.created_at)
        return Clock(Turn.NOBODY, since, Since.STATUS_CHANGE, last_amazon_at=last_amazon_at)
    if seller_after or case.status in AMAZON_STATUSES:
        return _amazon_clock(case, seller_after, last_amazon_at, events)
    turn = Turn.SELLER if case.status is CaseStatus.NEEDS_YOUR_ATTENTION else Turn.NOBODY
    if last_amazon_at is not None:
        return Clock(turn, last_amazon_at, Since.AMAZON_MESSAGE, last_amazon_at=last_amazon_at)
    since = _entered(case, events) or case.last_updated_at or case.created_at
    return Clock(turn, since, Since.STATUS_CHANGE)


def _amazon_clock(
    case: Case,
    seller_after: Sequence[Message],
    last_amazon_at: datetime | None,
    events: Sequence[Event],
) -> Clock:
    if last_amazon_at is None:
        # Never answered: the seller's first message is the case itself, not a follow-up.
        return Clock(Turn.AMAZON, case.created_at, Since.OPENED, _bumps(seller_after[1:]))
    if seller_after and _was_sellers_turn(case, events, seller_after[0].sent_at):
        reply = seller_after[0]
        return Clock(
            Turn.AMAZON, reply.sent_at, Since.YOUR_MESSAGE, _bumps(seller_after[1:]), last_amazon_at
        )
    return Clock(
        Turn.AMAZON, last_amazon_at, Since.AMAZON_MESSAGE, _bumps(seller_after), last_amazon_at
    )


def _bumps(messages: Sequence[Message]) -> tuple[Bump, ...]:
    return tuple(Bump(m.sent_at, is_escalation(m)) for m in messages)


def _was_sellers_turn(case: Case, events: Sequence[Event], at: datetime) -> bool:
    """Did the status leave the ball with the seller when they sent a message at ``at``?"""
    if case.status in SELLER_HOLDS:  # the listing has not caught up with the reply yet
        return True
    return _status_at(case.case_id, events, at) in SELLER_HOLDS


def _status_at(case_id: str, events: Sequence[Event], at: datetime) -> CaseStatus | None:
    """The status the stored events say the case had at ``at`` (None: no history)."""
    seen = [
        e
        for e in events
        if e.case_id == case_id and e.kind in _STATUS_EVENTS and e.detected_at <= at
    ]
    if not seen:
        return None
    return _status_of(max(seen, key=lambda e: e.detected_at).after)


def _entered(case: Case, events: Sequence[Event]) -> datetime | None:
    """When the events first saw the case in its current status (None: no history)."""
    times = [
        e.detected_at
        for e in events
        if e.case_id == case.case_id
        and e.kind in _STATUS_EVENTS
        and _status_of(e.after) is case.status
    ]
    return max(times) if times else None


def _status_of(value: Any) -> CaseStatus | None:
    raw = value.get("status") if isinstance(value, dict) else None
    try:
        return CaseStatus(raw) if raw else None
    except ValueError:
        return None


# -- flags -----------------------------------------------------------------------------------


def evaluate(
    cases: Sequence[Case],
    messages: Mapping[str, Sequence[Message]],
    events: Sequence[Event],
    decisions: Mapping[str, FlagDecision],
    *,
    rules: RuleSettings,
    account: Account,
    now: datetime,
) -> list[Flag]:
    """Every flag of ``cases`` (due or upcoming), with snooze/done from ``decisions``.

    ``messages`` maps case ID to its stored messages; ``events`` are the account's stored
    events (for status history); ``decisions`` maps flag ID to the seller's snooze or done.
    """
    by_case: dict[str, list[Event]] = {}
    for event in events:
        by_case.setdefault(event.case_id, []).append(event)
    calendar = BusinessCalendar.of(account)  # one for all cases: it remembers its days
    flags: list[Flag] = []
    for case in cases:
        flags += _case_flags(
            case,
            messages.get(case.case_id, ()),
            by_case.get(case.case_id, []),
            decisions,
            rules,
            account.name,
            calendar,
            now,
        )
    return flags


def evaluate_case(
    case: Case,
    messages: Sequence[Message],
    events: Sequence[Event],
    decisions: Mapping[str, FlagDecision],
    *,
    rules: RuleSettings,
    account: Account,
    now: datetime,
) -> list[Flag]:
    """The flags of one case (see :func:`evaluate`)."""
    calendar = BusinessCalendar.of(account)
    return _case_flags(case, messages, events, decisions, rules, account.name, calendar, now)


def _case_flags(
    case: Case,
    messages: Sequence[Message],
    events: Sequence[Event],
    decisions: Mapping[str, FlagDecision],
    rules: RuleSettings,
    account: str,
    calendar: BusinessCalendar,
    now: datetime,
) -> list[Flag]:
    if now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    if case.account != account:
        raise ValueError(f"case {case.case_id} belongs to {case.account!r}, not {account!r}")
    ctx = _Context(
        case=case,
        clock=whose_turn(case, messages, events),
        messages=tuple(messages),
        th=thresholds_for(case.subject, rules),
        rules=rules,
        cal=calendar,
        decisions=decisions,
        now=now,
    )
    if ctx.clock.turn is Turn.SELLER:
        return _seller_flags(ctx)
    if ctx.clock.turn is Turn.AMAZON:
        return _amazon_flags(ctx)
    if case.status is CaseStatus.ANSWERED:
        flag = _reopen_flag(ctx)
        return [flag] if flag else []
    return []


def due_now(flags: Iterable[Flag], now: datetime) -> list[Flag]:
    """Flags that need action at ``now`` (due, not done, not snoozed), most urgent first."""
    due = [f for f in flags if f.due_at <= now and _active_at(f, now)]
    return sorted(
        due, key=lambda f: (_SEVERITY_RANK[f.severity], f.due_at, f.case_id, f.kind.value)
    )


def _active_at(flag: Flag, now: datetime) -> bool:
    if flag.state is FlagState.DONE:
        return False
    if flag.state is FlagState.SNOOZED:
        return flag.snoozed_until is not None and flag.snoozed_until <= now
    return True


@dataclass(frozen=True)
class _Context:
    case: Case
    clock: Clock
    messages: tuple[Message, ...]
    th: Thresholds
    rules: RuleSettings
    cal: BusinessCalendar
    decisions: Mapping[str, FlagDecision]
    now: datetime

    def day(self, instant: datetime) -> str:
        same_year = self.cal.local(instant).year == self.cal.local(self.now).year
        return format_day(instant, self.cal.zone, year=not same_year)

    def moment(self, instant: datetime) -> str:
        same_year = self.cal.local(instant).year == self.cal.local(self.now).year
        return format_moment(instant, self.cal.zone, year=not same_year)

    def add_business_days(self, start: datetime, days: float) -> datetime:
        return add_business_days(start, days, self.cal)

    def flag(
        self,
        kind: FlagKind,
        severity: Severity,
        due_at: datetime,
        clauses: Sequence[str],
        key: Sequence[str],
        step: int | None = None,
    ) -> Flag:
        flag_id = _flag_id(self.case.account, self.case.case_id, kind, key)
        state, until = _decided(self.decisions.get(flag_id), self.now)
        return Flag(
            flag_id=flag_id,
            account=self.case.account,
            case_id=self.case.case_id,
            kind=kind,
            severity=severity,
            due_at=due_at,
            reason=_sentence(clauses),
            state=state,
            snoozed_until=until,
            step=step,
        )


def _decided(decision: FlagDecision | None, now: datetime) -> tuple[FlagState, datetime | None]:
    """The flag's state at ``now``: done, snoozed (until a later time), else active."""
    if decision is None:
        return FlagState.ACTIVE, None
    if decision.state is FlagState.DONE:
        return FlagState.DONE, None
    until = decision.snoozed_until
    if decision.state is FlagState.SNOOZED and until is not None:
        until = until if until.tzinfo else until.replace(tzinfo=UTC)
        if until > now:
            return FlagState.SNOOZED, until
    return FlagState.ACTIVE, None


def _flag_id(account: str, case_id: str, kind: FlagKind, key: Sequence[str]) -> str:
    raw = "\x1f".join([account, case_id, kind.value, *key])
    return "f" + hashlib.sha256(raw.encode()).hexdigest()[:20]


def _sentence(clauses: Sequence[str]) -> str:
    text = "; ".join(c for c in clauses if c)
    return text[:1].upper() + text[1:] + "."


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat()


# -- the seller's turn -----------------------------------------------------------------------


def _seller_flags(ctx: _Context) -> list[Flag]:
    since = ctx.clock.since
    warn_at = since + timedelta(days=ctx.rules.closes_soon_days)
    close_at = since + timedelta(days=ctx.rules.auto_close_days)
    started = f"Needs Your Attention since {_cause(ctx)} on {ctx.day(since)}"
    closing = (
        f"it may be auto-closed any time now (from {ctx.day(close_at)})"
        if close_at <= ctx.now
        else f"it may be auto-closed on {ctx.day(close_at)}"
    )
    closes_soon = ctx.flag(
        FlagKind.CLOSES_SOON,
        Severity.URGENT,
        warn_at,
        [started, "no reply from you yet", f"{closing}; reply now"],
        [_iso(since)],
    )
    if warn_at <= ctx.now:
        return [closes_soon]
    severity = Severity.URGENT if ctx.th.category else Severity.WARNING
    reply_due = ctx.flag(
        FlagKind.REPLY_DUE,
        severity,
        since,
        [started, f"reply now ({closing})", _urgent_note(ctx)],
        [_iso(since)],
    )
    return [reply_due, closes_soon]


# -- Amazon's turn: the follow-up ladder and escalation --------------------------------------


@dataclass(frozen=True)
class _Ladder:
    """Where the follow-up ladder of one Amazon turn stands at ``now``."""

    step: int
    due: datetime
    escalated_at: datetime | None  # the last escalation sent in this turn
    wait_until: datetime | None  # no next step before this (after an escalation)
    follow_ups: tuple[datetime, ...]  # follow-ups sent since the last escalation
    escalate_at: datetime | None
    escalate_why: str  # "follow_ups" or "age"
    round: int  # escalations sent in this turn


def _ladder(ctx: _Context) -> _Ladder:
    clock, interval = ctx.clock, ctx.th.follow_up_business_days
    escalated_at = clock.escalations[-1] if clock.escalations else None
    wait_until = (
        escalated_at + timedelta(hours=ctx.rules.wait_after_escalation_hours)
        if escalated_at
        else None
    )
    last = clock.bumps[-1] if clock.bumps else None
    due = ctx.add_business_days(last.sent_at if last else clock.since, interval)
    if wait_until is not None and (due < wait_until or (last is not None and last.escalation)):
        due = wait_until  # nothing before the wait after an escalation is over
    # Steps the seller let pass: the latest one that is due is the current step.
    passed, due = steps_until(due, interval, ctx.now, ctx.cal)
    step = len(clock.follow_ups) + 1 + passed
    follow_ups = tuple(t for t in clock.follow_ups if escalated_at is None or t > escalated_at)
    escalate_at, why = _escalation_due(ctx, follow_ups, wait_until)
    return _Ladder(
        step, due, escalated_at, wait_until, follow_ups, escalate_at, why, len(clock.escalations)
    )


def _escalation_due(
    ctx: _Context, follow_ups: tuple[datetime, ...], wait_until: datetime | None
) -> tuple[datetime | None, str]:
    needed = ctx.th.escalate_after_follow_ups
    candidates: list[tuple[datetime, str]] = []
    if len(follow_ups) >= needed:
        unanswered = ctx.add_business_days(follow_ups[needed - 1], ctx.th.follow_up_business_days)
        candidates.append((unanswered, "follow_ups"))
    if not any(is_escalation(m) for m in ctx.messages):
        aged = ctx.case.created_at + timedelta(days=ctx.th.escalate_unresolved_days)
        candidates.append((aged, "age"))
    if not candidates:
        return None, ""
    at, why = min(candidates)
    return (max(at, wait_until) if wait_until else at), why


def _amazon_flags(ctx: _Context) -> list[Flag]:
    ladder = _ladder(ctx)
    flags: list[Flag] = []
    if ladder.escalate_at is not None:
        escalate = _escalate_flag(ctx, ladder, ladder.escalate_at)
        flags.append(escalate)
        if escalate.due_at <= ctx.now and escalate.state is not FlagState.DONE:
            return flags  # escalating is the next step; no follow-up nag beside it
    flags.insert(0, _follow_up_flag(ctx, ladder))
    return flags


def _follow_up_flag(ctx: _Context, ladder: _Ladder) -> Flag:
    severity = Severity.WARNING if ctx.th.category else Severity.INFO
    when = _when(ctx, ladder.due)
    if ladder.escalated_at is not None and not ladder.follow_ups:
        progress = f"your escalation on {ctx.moment(ladder.escalated_at)} has had no answer"
        action = f"follow up on it {when}"
    else:
        progress = _sent(ctx, ctx.clock.follow_ups)
        action = f"follow up {when}"
    clauses = [_turn_started(ctx), progress, action]
    projected = _projected_escalation(ctx, ladder)
    if projected is not None and projected > ctx.now:
        clauses.append(f"escalate on {ctx.day(projected)}")
    clauses.append(_urgent_note(ctx))
    key = [_iso(ctx.clock.since), str(ladder.step), _iso(ladder.due)]
    return ctx.flag(FlagKind.FOLLOW_UP, severity, ladder.due, clauses, key, step=ladder.step)


def _projected_escalation(ctx: _Context, ladder: _Ladder) -> datetime | None:
    """The earliest escalation if the seller sends each remaining follow-up when due."""
    remaining = ctx.th.escalate_after_follow_ups - len(ladder.follow_ups)
    candidates = [ladder.escalate_at] if ladder.escalate_at else []
    if remaining > 0:
        interval = ctx.th.follow_up_business_days
        candidates.append(ctx.add_business_days(ladder.due, interval * remaining))
    return min(candidates) if candidates else None


def _escalate_flag(ctx: _Context, ladder: _Ladder, due: datetime) -> Flag:
    severity = Severity.URGENT if ctx.th.category else Severity.WARNING
    if ladder.escalate_why == "follow_ups":
        why = f"{_sent(ctx, ladder.follow_ups)} with no answer"
        key = [_iso(ctx.clock.since), "follow_ups", str(ladder.round)]
    else:
        days = (ctx.now - ctx.case.created_at).days
        why = f"unresolved {days} days after it was opened on {ctx.day(ctx.case.created_at)}"
        key = ["age"]
    waiting = (
        f"waiting {ctx.rules.wait_after_escalation_hours:g} h after your escalation on "
        f"{ctx.moment(ladder.escalated_at)}"
        if ladder.escalated_at and ladder.wait_until and ladder.wait_until > ctx.now
        else ""
    )
    clauses = [_turn_started(ctx), why, waiting, f"escalate {_when(ctx, due)}", _urgent_note(ctx)]
    return ctx.flag(FlagKind.ESCALATE, severity, due, clauses, key)


def _turn_started(ctx: _Context) -> str:
    status = ctx.case.status
    label = STATUS_LABELS[status] if status in AMAZON_STATUSES else "Waiting for Amazon"
    return f"{label} since {_cause(ctx)} on {ctx.day(ctx.clock.since)}"


def _cause(ctx: _Context) -> str:
    return {
        Since.OPENED: "the case was opened",
        Since.YOUR_MESSAGE: "your message",
        Since.AMAZON_MESSAGE: "Amazon's last message",
        Since.STATUS_CHANGE: "a status change",
    }[ctx.clock.cause]


def _sent(ctx: _Context, times: Sequence[datetime]) -> str:
    if not times:
        return "no follow-up sent yet"
    noun = "follow-up" if len(times) == 1 else "follow-ups"
    return f"{len(times)} {noun} sent ({', '.join(ctx.day(t) for t in times)})"


def _when(ctx: _Context, due: datetime) -> str:
    if due > ctx.now:
        return f"on {ctx.day(due)}"
    return f"now (due {ctx.day(due)})"


def _urgent_note(ctx: _Context) -> str:
    category = ctx.th.category
    return f"{category_label(category)} is an urgent category" if category else ""


# -- Answered: the reopen window -------------------------------------------------------------


def _reopen_flag(ctx: _Context) -> Flag | None:
    """Remind before the window to reopen an answered case closes, and for a week after it
    (open a new case instead); older answered cases are history, not a to-do."""
    answered = ctx.clock.since
    closes = answered + timedelta(days=ctx.rules.reopen_window_days)
    if ctx.now > closes + timedelta(days=ctx.rules.reopen_grace_days):
        return None
    remind = closes - timedelta(days=ctx.rules.reopen_remind_days_before)
    started = f"Answered on {ctx.day(answered)}"
    if closes > ctx.now:
        severity = Severity.WARNING if remind <= ctx.now else Severity.INFO
        clauses = [
            started,
            f"if it is not settled, reopen it before {ctx.day(closes)}, when the window to "
            "reopen closes (mark this done if it is settled)",
        ]
    else:
        severity = Severity.INFO
        clauses = [
            started,
            f"the window to reopen closed on {ctx.day(closes)}",
            f"if it is not settled, open a new case citing case ID {ctx.case.case_id}",
        ]
    return ctx.flag(FlagKind.REOPEN_WINDOW, severity, remind, clauses, [_iso(answered)])
