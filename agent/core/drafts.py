"""Follow-up and escalation messages written from a case's own facts (pure).

Only what the data says goes in: the case ID, subject, dates (in the account's time zone),
how long the case has waited for Amazon, the follow-ups and escalations already sent, and
Amazon's last answer quoted briefly. The desired outcome defaults by category (see
:mod:`agent.core.categories`) and can be given. The escalation follows the seeds' template:
subject "Urgent Escalation Request: <case ID> for <issue>", a short summary, the actions
taken with dates, the desired outcome, a polite close. It says "Urgent" only when it is:
the case is in an urgent category, or its deadline is overdue (``overdue``: the caller
knows the flags); otherwise the subject is "Escalation Request: <case ID> for <issue>".

When it is the seller's turn (Amazon asked something: Needs Your Attention), a follow-up
asking Amazon for news would be wrong: :func:`draft_follow_up` writes a reply instead, a
skeleton quoting Amazon's question with a place for the answer. Every draft is signed with
the account's ``signature`` when it has one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from agent.config import Account, RuleSettings
from agent.core.categories import categoriser_for, desired_outcome
from agent.core.labels import STATUS_LABELS
from agent.core.models import Case, Direction, Event, Message, Record
from agent.core.text import squash
from agent.core.times import format_day, require_aware
from agent.core.turn import Since, Turn, WhoseTurn, is_escalation, whose_turn

__all__ = [
    "ANSWER_HERE",
    "Draft",
    "DraftKind",
    "draft_escalation",
    "draft_follow_up",
    "draft_reply",
    "issue_of",
]

QUOTE_CHARS = 200
REPLY_QUOTE_CHARS = 600
ANSWER_HERE = "[Your answer: what Amazon asked for, and any document it needs]"
MAX_ACTIONS = 10


class DraftKind(StrEnum):
    FOLLOW_UP = "follow-up"
    ESCALATION = "escalation"
    REPLY = "reply"


class Draft(Record):
    """A message ready to paste into the case (or an e-mail)."""

    case_id: str
    kind: DraftKind
    subject: str
    body: str


def draft_follow_up(
    case: Case,
    messages: Sequence[Message],
    events: Sequence[Event] = (),
    *,
    account: Account,
    now: datetime,
    outcome: str | None = None,
    rules: RuleSettings | None = None,
) -> Draft:
    """A polite follow-up on ``case``: how long it has waited, what was sent, what is asked.
    When it is the seller's turn, a reply to Amazon's question instead (:func:`draft_reply`)."""
    facts = _facts(case, messages, events, account, now, outcome, rules)
    if facts.turn.turn is Turn.SELLER:
        return _reply(facts)
    paragraphs = [
        "Hello,",
        " ".join(
            s
            for s in (
                f'I am following up on case {case.case_id} ("{facts.issue}"), opened on '
                f"{facts.day(case.created_at)}.",
                _waiting(facts),
                _followed_up(facts),
            )
            if s
        ),
        _last_answer(facts),
        f"Could you please let me know the current status and the next steps toward "
        f"{facts.outcome}?",
        _signed(facts, "Thank you,"),
    ]
    return Draft(
        case_id=case.case_id,
        kind=DraftKind.FOLLOW_UP,
        subject=f"Follow-up on case {case.case_id}: {facts.issue}",
        body="\n\n".join(paragraphs) + "\n",
    )


def draft_escalation(
    case: Case,
    messages: Sequence[Message],
    events: Sequence[Event] = (),
    *,
    account: Account,
    now: datetime,
    outcome: str | None = None,
    rules: RuleSettings | None = None,
    overdue: bool = False,
) -> Draft:
    """An escalation request shaped like the seeds' template; "Urgent" in the subject only
    for an urgent category or an ``overdue`` deadline."""
    facts = _facts(case, messages, events, account, now, outcome, rules)
    summary = " ".join(
        s
        for s in (
            f"Summary: {facts.issue.rstrip('.')}.",
            f"The case was opened on {facts.day(case.created_at)}.",
            _waiting(facts) or _status(facts),
            _last_answer(facts),
        )
        if s
    )
    paragraphs = [
        "Hello,",
        f"I am requesting the escalation of case {case.case_id}, which is still unresolved.",
        summary,
        "Actions taken:\n" + "\n".join(f"- {line}" for line in _actions(facts)),
        f"Desired outcome: {facts.outcome}.",
        "I would be grateful if this case could be reviewed by a senior member of the team. "
        "Thank you for your time and help.",
        _signed(facts, "Kind regards,"),
    ]
    urgent = overdue or facts.urgent
    title = "Urgent Escalation Request" if urgent else "Escalation Request"
    return Draft(
        case_id=case.case_id,
        kind=DraftKind.ESCALATION,
        subject=f"{title}: {case.case_id} for {facts.issue}",
        body="\n\n".join(paragraphs) + "\n",
    )


def draft_reply(
    case: Case,
    messages: Sequence[Message],
    events: Sequence[Event] = (),
    *,
    account: Account,
    now: datetime,
    outcome: str | None = None,
    rules: RuleSettings | None = None,
) -> Draft:
    """A reply skeleton: Amazon's last message quoted, a place for the seller's answer."""
    return _reply(_facts(case, messages, events, account, now, outcome, rules))


def _reply(facts: _Facts) -> Draft:
    case, last = facts.case, facts.last_amazon
    if last is not None and squash(last.body):
        quoted = "\n".join(
            f"> {line}" if line else ">"
            for line in _quote_text(last.body, REPLY_QUOTE_CHARS).splitlines()
        )
        asked = f"Thank you for your message of {facts.day(last.sent_at)}. You wrote:\n\n{quoted}"
    else:
        asked = f'Thank you for your message on case {case.case_id} ("{facts.issue}").'
    paragraphs = [
        "Hello,",
        asked,
        ANSWER_HERE,
        f"Please let me know if anything else is needed to reach {facts.outcome}.",
        _signed(facts, "Thank you,"),
    ]
    return Draft(
        case_id=case.case_id,
        kind=DraftKind.REPLY,
        subject=f"Re: case {case.case_id}: {facts.issue}",
        body="\n\n".join(paragraphs) + "\n",
    )


def _quote_text(body: str, limit: int) -> str:
    """Amazon's message as it reads (line breaks kept, blank runs squeezed), cut at ``limit``."""
    lines = [" ".join(line.split()) for line in body.strip().splitlines()]
    text = "\n".join(line for i, line in enumerate(lines) if line or (i and lines[i - 1]))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _signed(facts: _Facts, closing: str) -> str:
    signature = facts.account.signature
    return f"{closing}\n{signature}" if signature else closing


@dataclass(frozen=True)
class _Facts:
    case: Case
    messages: tuple[Message, ...]  # this case's, oldest first
    account: Account
    now: datetime
    issue: str
    outcome: str
    turn: WhoseTurn
    urgent: bool  # the case is in an urgent category

    def day(self, instant: datetime) -> str:
        return format_day(instant, ZoneInfo(self.account.timezone), year=True)

    @property
    def follow_ups(self) -> tuple[datetime, ...]:
        """Follow-ups sent in Amazon's current turn (none in anyone else's)."""
        return self.turn.follow_ups if self.turn.turn is Turn.AMAZON else ()

    @property
    def last_amazon(self) -> Message | None:
        amazon = [m for m in self.messages if m.direction is Direction.FROM_AMAZON]
        return amazon[-1] if amazon else None


def _facts(
    case: Case,
    messages: Sequence[Message],
    events: Sequence[Event],
    account: Account,
    now: datetime,
    outcome: str | None,
    rules: RuleSettings | None,
) -> _Facts:
    require_aware(now, "now")
    own = tuple(
        sorted(
            (m for m in messages if m.case_id == case.case_id),
            key=lambda m: m.order,
        )
    )
    categorise = categoriser_for(rules or RuleSettings())
    category = categorise(case.subject)
    return _Facts(
        case=case,
        messages=own,
        account=account,
        now=now,
        issue=issue_of(case),
        outcome=(outcome or "").strip().rstrip(".") or desired_outcome(category),
        turn=whose_turn(case, own, events),
        urgent=categorise.urgent_category(case.subject) is not None,
    )


def issue_of(case: Case) -> str:
    """The case subject, whitespace collapsed and trimmed (the "issue" of a draft)."""
    return squash(case.subject) or f"case {case.case_id}"


def _waiting(facts: _Facts) -> str:
    """How long the case has waited for Amazon (only while it is Amazon's turn)."""
    turn = facts.turn
    if turn.turn is not Turn.AMAZON:
        return ""
    since = {
        Since.OPENED: "I opened it",
        Since.YOUR_MESSAGE: "my message",
        Since.AMAZON_MESSAGE: "your last message",
        Since.STATUS_CHANGE: "its last status change",
    }[turn.cause]
    days = (facts.now - turn.since).days
    span = f" for {days} day{'s' if days != 1 else ''}" if days >= 1 else ""
    return f"It has been waiting for an answer{span}, since {since} on {facts.day(turn.since)}."


def _status(facts: _Facts) -> str:
    return f"Its status is {STATUS_LABELS[facts.case.status]}."


def _seller_messages(facts: _Facts) -> list[Message]:
    return [m for m in facts.messages if m.direction is Direction.FROM_SELLER]


def _followed_up(facts: _Facts) -> str:
    times = facts.follow_ups
    if not times:
        return ""
    return f"I have already followed up on {_join([facts.day(t) for t in times])}."


def _last_answer(facts: _Facts) -> str:
    last = facts.last_amazon
    if last is not None and last.excerpt(QUOTE_CHARS):
        return f'Your last reply, on {facts.day(last.sent_at)}, said: "{last.excerpt(QUOTE_CHARS)}"'
    replied_at = last.sent_at if last is not None else facts.case.last_amazon_reply_at
    if replied_at is not None:
        return f"Your last reply was on {facts.day(replied_at)}."
    return "I have not received a reply from Amazon on this case yet."


def _actions(facts: _Facts) -> list[str]:
    """What the seller did, with dates: opened, replies, follow-ups, escalation requests."""
    lines = [f"{facts.day(facts.case.created_at)}: opened this case."]
    follow_ups = set(facts.follow_ups)
    amazon_times = [m.sent_at for m in facts.messages if m.direction is Direction.FROM_AMAZON]
    first_amazon = amazon_times[0] if amazon_times else None
    sellers = _seller_messages(facts)
    for index, msg in enumerate(sellers):
        opening = index == 0 and (first_amazon is None or msg.sent_at < first_amazon)
        if opening:
            continue
        if is_escalation(msg):
            what = "requested escalation of this case"
        elif msg.sent_at in follow_ups:
            what = "followed up"
        else:
            what = "replied in this case"
        lines.append(f"{facts.day(msg.sent_at)}: {what}.")
    if len(lines) > MAX_ACTIONS:
        dropped = len(lines) - MAX_ACTIONS
        lines = [lines[0], f"({dropped} earlier messages not listed)", *lines[-(MAX_ACTIONS - 1) :]]
    return lines


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
