"""Whose turn it is on a case, since when, and what the seller has sent since (pure).

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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from agent.core.models import Case, CaseStatus, Direction, Event, EventKind, Message

__all__ = [
    "AMAZON_STATUSES",
    "ESCALATION_MARKERS",
    "SELLER_HOLDS",
    "Bump",
    "Since",
    "Turn",
    "WhoseTurn",
    "answered_at",
    "can_flag",
    "is_escalation",
    "reopen_until",
    "turn_thread",
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
_STATUS_EVENTS = (EventKind.STATUS_CHANGED, EventKind.CASE_NEW, EventKind.CASE_BACK)


class Turn(StrEnum):
    """Whose move it is on a case."""

    AMAZON = "amazon"
    SELLER = "seller"
    NOBODY = "nobody"

    @property
    def label(self) -> str:
        """``Amazon``, ``Seller``, or '' for nobody (as the exports show it)."""
        return {"amazon": "Amazon", "seller": "Seller", "nobody": ""}[self.value]


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
class WhoseTurn:
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


def is_escalation(message: Message) -> bool:
    """A seller message asking for escalation ("Urgent Escalation Request: ...")."""
    if message.direction is not Direction.FROM_SELLER:
        return False
    body = message.body.casefold()
    return any(marker in body for marker in ESCALATION_MARKERS)


def can_flag(status: CaseStatus) -> bool:
    """Whether a case in ``status`` can carry a flag at all: a resolved or closed case is
    nobody's turn whatever its thread says (so its messages need not be read)."""
    return not status.is_final


def turn_thread(messages: Sequence[Message]) -> list[Message]:
    """The part of a thread that :func:`whose_turn` and the rules read, in thread order:
    Amazon's last message, every seller message sent after it, and the first escalation (the
    whole thread when Amazon never wrote). Given these instead of the whole thread they decide
    the same, so a store can keep them apart and the to-do need not read every message."""
    msgs = sorted(messages, key=lambda m: m.order)
    amazon = [m for m in msgs if m.direction is Direction.FROM_AMAZON]
    if not amazon:
        return msgs
    last = amazon[-1]
    escalation = next((m for m in msgs if is_escalation(m)), None)
    return [
        m
        for m in msgs
        if m is last
        or m is escalation
        or (m.direction is Direction.FROM_SELLER and m.sent_at > last.sent_at)
    ]


def whose_turn(case: Case, messages: Sequence[Message], events: Sequence[Event]) -> WhoseTurn:
    """Whose turn it is on ``case``, since when, and what the seller has sent since."""
    msgs = sorted(
        (m for m in messages if m.case_id == case.case_id),
        key=lambda m: m.order,
    )
    last_amazon_at = _last_amazon_at(case, msgs)
    seller_after = [
        m
        for m in msgs
        if m.direction is Direction.FROM_SELLER
        and (last_amazon_at is None or m.sent_at > last_amazon_at)
    ]
    if case.status.is_final:
        since = case.last_updated_at or (msgs[-1].sent_at if msgs else case.created_at)
        return WhoseTurn(Turn.NOBODY, since, Since.STATUS_CHANGE, last_amazon_at=last_amazon_at)
    if seller_after or case.status in AMAZON_STATUSES:
        return _amazon_turn(case, seller_after, last_amazon_at, events)
    turn = Turn.SELLER if case.status is CaseStatus.NEEDS_YOUR_ATTENTION else Turn.NOBODY
    since = _answered(case, last_amazon_at, events)
    if last_amazon_at is not None:
        return WhoseTurn(turn, since, Since.AMAZON_MESSAGE, last_amazon_at=last_amazon_at)
    return WhoseTurn(turn, since, Since.STATUS_CHANGE)


def _last_amazon_at(case: Case, ordered: Sequence[Message]) -> datetime | None:
    """Amazon's last message on ``case`` (thread order), else the listing's date of it."""
    amazon = [m.sent_at for m in ordered if m.direction is Direction.FROM_AMAZON]
    return amazon[-1] if amazon else case.last_amazon_reply_at


def _answered(case: Case, last_amazon_at: datetime | None, events: Sequence[Event]) -> datetime:
    return last_amazon_at or _entered(case, events) or case.last_updated_at or case.created_at


def answered_at(case: Case, messages: Sequence[Message], events: Sequence[Event]) -> datetime:
    """When Amazon handed ``case`` back (Answered, Needs your attention): its last message,
    else the listing's date of it, else when the stored events first saw the case in its
    status, else its last update, else its opening. Whose turn, the to-do's reopen reminder
    and the contact rules all count from this one moment."""
    ordered = sorted((m for m in messages if m.case_id == case.case_id), key=lambda m: m.order)
    return _answered(case, _last_amazon_at(case, ordered), events)


def reopen_until(
    case: Case, messages: Sequence[Message], events: Sequence[Event], window_days: float
) -> datetime | None:
    """When an Answered ``case`` can no longer be reopened (:func:`answered_at` + the
    window); None when it is not Answered."""
    if case.status is not CaseStatus.ANSWERED:
        return None
    return answered_at(case, messages, events) + timedelta(days=window_days)


def _amazon_turn(
    case: Case,
    seller_after: Sequence[Message],
    last_amazon_at: datetime | None,
    events: Sequence[Event],
) -> WhoseTurn:
    if last_amazon_at is None:
        # Never answered: the seller's first message is the case itself, not a follow-up.
        return WhoseTurn(Turn.AMAZON, case.created_at, Since.OPENED, _bumps(seller_after[1:]))
    if seller_after and _was_sellers_turn(case, events, seller_after[0].sent_at):
        reply = seller_after[0]
        return WhoseTurn(
            Turn.AMAZON, reply.sent_at, Since.YOUR_MESSAGE, _bumps(seller_after[1:]), last_amazon_at
        )
    return WhoseTurn(
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
