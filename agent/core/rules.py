"""What the seller should do about each case, and by when: the flags (pure).

Everything here takes plain data and an explicit ``now``; nothing reads the clock or the disk.

Whose turn it is comes from :mod:`agent.core.turn`; this module decides the flags.

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
- ``done`` on an escalation means the seller escalated outside the tool: the ladder then waits
  ``wait_after_escalation_hours`` from the moment it was marked done (the decision's
  ``updated_at``; without one, from when the escalation fell due), exactly as after an
  escalation message, instead of asking for a follow-up at once. The escalation's flag ID
  does not change, so it stays done.
- Business days and hours are the account's, in its time zone; reasons give dates there.
- Flags that are not yet due are returned too (with a future ``due_at``), for calendars;
  :func:`due_now` keeps what needs action now.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from agent.config import Account, RuleSettings
from agent.core.businesstime import BusinessCalendar, add_business_days, steps_until
from agent.core.categories import categoriser_for, category_label
from agent.core.labels import STATUS_LABELS
from agent.core.models import (
    Case,
    CaseStatus,
    Event,
    Flag,
    FlagKind,
    FlagState,
    Message,
    Severity,
    in_force,
)
from agent.core.times import format_day, format_moment, key_time, require_aware
from agent.core.turn import (
    AMAZON_STATUSES,
    Since,
    Turn,
    WhoseTurn,
    can_flag,
    is_escalation,
    whose_turn,
)
from agent.errors import ConfigError

__all__ = [
    "FlagDecision",
    "Thresholds",
    "due_now",
    "evaluate",
    "evaluate_case",
    "thresholds_for",
]

_SEVERITY_RANK = {Severity.URGENT: 0, Severity.WARNING: 1, Severity.INFO: 2}


class FlagDecision(Protocol):
    """The seller's say on one flag, as the store keeps it (e.g. ``store.FlagStateRecord``)."""

    @property
    def state(self) -> FlagState: ...

    @property
    def snoozed_until(self) -> datetime | None: ...


def _decided_at(decision: FlagDecision | None) -> datetime | None:
    """When the seller decided (``updated_at`` of the store's record), if it says."""
    at = getattr(decision, "updated_at", None)
    if not isinstance(at, datetime):
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Thresholds:
    """The rule numbers for one case, shortened if its subject is in an urgent category."""

    follow_up_business_days: float
    escalate_after_follow_ups: int
    escalate_unresolved_days: float
    category: str | None = None


def thresholds_for(subject: str, rules: RuleSettings) -> Thresholds:
    """The thresholds for a case with ``subject``: urgent categories scale by the factor."""
    category = categoriser_for(rules).urgent_category(subject)
    factor = rules.urgent_factor if category else 1.0
    interval = rules.follow_up_business_days * factor
    if interval <= 0:
        raise ConfigError(
            "follow_up_business_days times urgent_factor must be positive; fix [rules] in "
            "caselog.toml"
        )
    return Thresholds(
        follow_up_business_days=interval,
        escalate_after_follow_ups=max(1, math.ceil(rules.escalate_after_follow_ups * factor)),
        escalate_unresolved_days=rules.escalate_unresolved_days * factor,
        category=category,
    )


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
    require_aware(now, "now")
    if case.account != account:
        raise ValueError(f"case {case.case_id} belongs to {case.account!r}, not {account!r}")
    if not can_flag(case.status):
        return []
    ev = _Evaluation(
        case=case,
        turn=whose_turn(case, messages, events),
        messages=tuple(messages),
        th=thresholds_for(case.subject, rules),
        rules=rules,
        cal=calendar,
        decisions=decisions,
        now=now,
    )
    if ev.turn.turn is Turn.SELLER:
        return _seller_flags(ev)
    if ev.turn.turn is Turn.AMAZON:
        return _amazon_flags(ev)
    if case.status is CaseStatus.ANSWERED:
        flag = _reopen_flag(ev)
        return [flag] if flag else []
    return []


def due_now(flags: Iterable[Flag], now: datetime) -> list[Flag]:
    """Flags that need action at ``now`` (due, not done, not snoozed), most urgent first."""
    due = [f for f in flags if f.due_at <= now and f.in_force(now)]
    return sorted(
        due, key=lambda f: (_SEVERITY_RANK[f.severity], f.due_at, f.case_id, f.kind.value)
    )


@dataclass(frozen=True)
class _Evaluation:
    case: Case
    turn: WhoseTurn
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
    until = decision.snoozed_until
    if until is not None and until.tzinfo is None:  # written by an older caselog
        until = until.replace(tzinfo=UTC)
    if in_force(decision.state, until, now):
        return FlagState.ACTIVE, None
    return decision.state, until if decision.state is FlagState.SNOOZED else None


def _flag_id(account: str, case_id: str, kind: FlagKind, key: Sequence[str]) -> str:
    raw = "\x1f".join([account, case_id, kind.value, *key])
    return "f" + hashlib.sha256(raw.encode()).hexdigest()[:20]


def _sentence(clauses: Sequence[str]) -> str:
    text = "; ".join(c for c in clauses if c)
    return text[:1].upper() + text[1:] + "."


# -- the seller's turn -----------------------------------------------------------------------


def _seller_flags(ev: _Evaluation) -> list[Flag]:
    since = ev.turn.since
    warn_at = since + timedelta(days=ev.rules.closes_soon_days)
    close_at = since + timedelta(days=ev.rules.auto_close_days)
    started = f"Needs Your Attention since {_cause(ev)} on {ev.day(since)}"
    closing = (
        f"it may be auto-closed any time now (from {ev.day(close_at)})"
        if close_at <= ev.now
        else f"it may be auto-closed on {ev.day(close_at)}"
    )
    closes_soon = ev.flag(
        FlagKind.CLOSES_SOON,
        Severity.URGENT,
        warn_at,
        [started, "no reply from you yet", f"{closing}; reply now"],
        [key_time(since)],
    )
    if warn_at <= ev.now:
        return [closes_soon]
    severity = Severity.URGENT if ev.th.category else Severity.WARNING
    reply_due = ev.flag(
        FlagKind.REPLY_DUE,
        severity,
        since,
        [started, f"reply now ({closing})", _urgent_note(ev)],
        [key_time(since)],
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
    marked_done: bool = False  # escalated_at is when the seller marked the escalation done


def _ladder(ev: _Evaluation) -> _Ladder:
    turn, interval = ev.turn, ev.th.follow_up_business_days
    escalated_at = turn.escalations[-1] if turn.escalations else None
    wait_until = (
        escalated_at + timedelta(hours=ev.rules.wait_after_escalation_hours)
        if escalated_at
        else None
    )
    last = turn.bumps[-1] if turn.bumps else None
    due = ev.add_business_days(last.sent_at if last else turn.since, interval)
    if wait_until is not None and (due < wait_until or (last is not None and last.escalation)):
        due = wait_until  # nothing before the wait after an escalation is over
    # Steps the seller let pass: the latest one that is due is the current step.
    passed, due = steps_until(due, interval, ev.now, ev.cal)
    step = len(turn.follow_ups) + 1 + passed
    follow_ups = tuple(t for t in turn.follow_ups if escalated_at is None or t > escalated_at)
    escalate_at, why = _escalation_due(ev, follow_ups, wait_until)
    return _Ladder(
        step, due, escalated_at, wait_until, follow_ups, escalate_at, why, len(turn.escalations)
    )


def _escalation_due(
    ev: _Evaluation, follow_ups: tuple[datetime, ...], wait_until: datetime | None
) -> tuple[datetime | None, str]:
    needed = ev.th.escalate_after_follow_ups
    candidates: list[tuple[datetime, str]] = []
    if len(follow_ups) >= needed:
        unanswered = ev.add_business_days(follow_ups[needed - 1], ev.th.follow_up_business_days)
        candidates.append((unanswered, "follow_ups"))
    if not any(is_escalation(m) for m in ev.messages):
        aged = ev.case.created_at + timedelta(days=ev.th.escalate_unresolved_days)
        candidates.append((aged, "age"))
    if not candidates:
        return None, ""
    at, why = min(candidates)
    return (max(at, wait_until) if wait_until else at), why


def _amazon_flags(ev: _Evaluation) -> list[Flag]:
    ladder = _ladder(ev)
    flags: list[Flag] = []
    if ladder.escalate_at is not None:
        escalate = _escalate_flag(ev, ladder, ladder.escalate_at)
        flags.append(escalate)
        if escalate.due_at <= ev.now and escalate.state is not FlagState.DONE:
            return flags  # escalating is the next step; no follow-up nag beside it
        if escalate.state is FlagState.DONE:
            done_at = _decided_at(ev.decisions.get(escalate.flag_id)) or escalate.due_at
            ladder = _escalated_outside(ev, ladder, min(done_at, ev.now))
    flags.insert(0, _follow_up_flag(ev, ladder))
    return flags


def _escalated_outside(ev: _Evaluation, ladder: _Ladder, done_at: datetime) -> _Ladder:
    """The ladder after the seller marked an escalation done at ``done_at``: as after an
    escalation message then, the next follow-up waits ``wait_after_escalation_hours``."""
    if ladder.escalated_at is not None and ladder.escalated_at >= done_at:
        return ladder  # an escalation message at least as recent already sets the wait
    interval = ev.th.follow_up_business_days
    wait_until = done_at + timedelta(hours=ev.rules.wait_after_escalation_hours)
    later = tuple(t for t in ev.turn.follow_ups if t > done_at)
    due = max(ev.add_business_days(later[-1], interval), wait_until) if later else wait_until
    passed, due = steps_until(due, interval, ev.now, ev.cal)
    return dataclasses.replace(
        ladder,
        step=len(ev.turn.follow_ups) + 1 + passed,
        due=due,
        escalated_at=done_at,
        wait_until=wait_until,
        follow_ups=later,
        marked_done=True,
    )


def _follow_up_flag(ev: _Evaluation, ladder: _Ladder) -> Flag:
    severity = Severity.WARNING if ev.th.category else Severity.INFO
    when = _when(ev, ladder.due)
    if ladder.marked_done and ladder.escalated_at is not None and not ladder.follow_ups:
        progress = f"you marked the escalation done on {ev.moment(ladder.escalated_at)}"
        action = f"follow up on it {when}"
    elif ladder.escalated_at is not None and not ladder.follow_ups:
        progress = f"your escalation on {ev.moment(ladder.escalated_at)} has had no answer"
        action = f"follow up on it {when}"
    else:
        progress = _sent(ev, ev.turn.follow_ups)
        action = f"follow up {when}"
    clauses = [_turn_started(ev), progress, action]
    projected = _projected_escalation(ev, ladder)
    if projected is not None and projected > ev.now:
        clauses.append(f"escalate on {ev.day(projected)}")
    clauses.append(_urgent_note(ev))
    key = [key_time(ev.turn.since), str(ladder.step), key_time(ladder.due)]
    return ev.flag(FlagKind.FOLLOW_UP, severity, ladder.due, clauses, key, step=ladder.step)


def _projected_escalation(ev: _Evaluation, ladder: _Ladder) -> datetime | None:
    """The earliest escalation if the seller sends each remaining follow-up when due."""
    remaining = ev.th.escalate_after_follow_ups - len(ladder.follow_ups)
    candidates = [ladder.escalate_at] if ladder.escalate_at else []
    if remaining > 0:
        interval = ev.th.follow_up_business_days
        candidates.append(ev.add_business_days(ladder.due, interval * remaining))
    return min(candidates) if candidates else None


def _escalate_flag(ev: _Evaluation, ladder: _Ladder, due: datetime) -> Flag:
    severity = Severity.URGENT if ev.th.category else Severity.WARNING
    if ladder.escalate_why == "follow_ups":
        why = f"{_sent(ev, ladder.follow_ups)} with no answer"
        key = [key_time(ev.turn.since), "follow_ups", str(ladder.round)]
    else:
        days = (ev.now - ev.case.created_at).days
        why = f"unresolved {days} days after it was opened on {ev.day(ev.case.created_at)}"
        key = ["age"]
    waiting = (
        f"waiting {ev.rules.wait_after_escalation_hours:g} h after your escalation on "
        f"{ev.moment(ladder.escalated_at)}"
        if ladder.escalated_at and ladder.wait_until and ladder.wait_until > ev.now
        else ""
    )
    clauses = [_turn_started(ev), why, waiting, f"escalate {_when(ev, due)}", _urgent_note(ev)]
    return ev.flag(FlagKind.ESCALATE, severity, due, clauses, key)


def _turn_started(ev: _Evaluation) -> str:
    status = ev.case.status
    label = STATUS_LABELS[status] if status in AMAZON_STATUSES else "Waiting for Amazon"
    return f"{label} since {_cause(ev)} on {ev.day(ev.turn.since)}"


def _cause(ev: _Evaluation) -> str:
    return {
        Since.OPENED: "the case was opened",
        Since.YOUR_MESSAGE: "your message",
        Since.AMAZON_MESSAGE: "Amazon's last message",
        Since.STATUS_CHANGE: "a status change",
    }[ev.turn.cause]


def _sent(ev: _Evaluation, times: Sequence[datetime]) -> str:
    if not times:
        return "no follow-up sent yet"
    noun = "follow-up" if len(times) == 1 else "follow-ups"
    return f"{len(times)} {noun} sent ({', '.join(ev.day(t) for t in times)})"


def _when(ev: _Evaluation, due: datetime) -> str:
    if due > ev.now:
        return f"on {ev.day(due)}"
    return f"now (due {ev.day(due)})"


def _urgent_note(ev: _Evaluation) -> str:
    category = ev.th.category
    return f"{category_label(category)} is an urgent category" if category else ""


# -- Answered: the reopen window -------------------------------------------------------------


def _reopen_flag(ev: _Evaluation) -> Flag | None:
    """Remind before the window to reopen an answered case closes, and for a week after it
    (open a new case instead); older answered cases are history, not a to-do. The window
    counts from :func:`~agent.core.turn.answered_at`, which is the turn's ``since`` here, as
    the contact rules' :func:`~agent.core.turn.reopen_until` does."""
    answered = ev.turn.since
    closes = answered + timedelta(days=ev.rules.reopen_window_days)
    if ev.now > closes + timedelta(days=ev.rules.reopen_grace_days):
        return None
    remind = closes - timedelta(days=ev.rules.reopen_remind_days_before)
    started = f"Answered on {ev.day(answered)}"
    if closes > ev.now:
        severity = Severity.WARNING if remind <= ev.now else Severity.INFO
        clauses = [
            started,
            f"if it is not settled, reopen it before {ev.day(closes)}, when the window to "
            "reopen closes (mark this done if it is settled)",
        ]
    else:
        severity = Severity.INFO
        clauses = [
            started,
            f"the window to reopen closed on {ev.day(closes)}",
            f"if it is not settled, open a new case citing case ID {ev.case.case_id}",
        ]
    return ev.flag(FlagKind.REOPEN_WINDOW, severity, remind, clauses, [key_time(answered)])
