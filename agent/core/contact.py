"""Contact rules, the outbox's records and the site's limits: what the agent may send (pure).

Amazon "may close cases or limit support" for excessive or duplicate contacts
(shared/seller-central-facts.md), so nothing goes out without passing these rules, checked
against the case as it was just read from the site and against the outbox (what the agent
sent, or is sending, before):

1. ``changed``: the status or the newest message differs from what the draft was made from
   (the store after the last sync, or the agent's own last look at the case): read it first.
2. ``closed``: a reply to an Answered, Resolved or Closed case (reopen first, only while the
   reopen window is open), a reopen of a case that is not Answered or whose window ended, a
   Cc change on a Resolved or Closed case.
3. ``budget``: the account's messages and reopens today (its own calendar day) reached
   ``[contact] daily_budget``.
4. ``duplicate``: the same text (line breaks and surrounding blanks aside) is already in the
   thread or in the outbox (sent or being sent) for this case.
5. ``quiet_period``: it is Amazon's turn and the seller's last message since Amazon's last
   answer went out less than ``quiet_business_days`` business days ago (one nudge per case
   per N business days; the message that handed the turn to Amazon counts).

``--force`` passes only ``duplicate`` and ``quiet_period``, and the outbox records that it
did. Each refusal is one sentence that names the fix. Everything here takes plain data and an
explicit ``now``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from agent.config import ContactSettings
from agent.core.businesstime import BusinessCalendar, add_business_days
from agent.core.labels import STATUS_LABELS
from agent.core.models import CaseStatus, Direction, Message, Record, UtcDatetime
from agent.core.times import format_day, format_moment
from agent.core.turn import AMAZON_STATUSES

__all__ = [
    "FORCEABLE",
    "ActionKind",
    "Attachment",
    "Attempt",
    "Look",
    "Origin",
    "OutboxEntry",
    "OutboxState",
    "Refusal",
    "Rule",
    "SiteLimits",
    "Verdict",
    "check",
    "contacts_today",
    "find_sent",
    "limit_problem",
    "normal_text",
    "text_hash",
]


class ActionKind(StrEnum):
    REPLY = "reply"
    REOPEN = "reopen"
    CC = "cc"


class Rule(StrEnum):
    CHANGED = "changed"
    CLOSED = "closed"
    BUDGET = "budget"
    DUPLICATE = "duplicate"
    QUIET = "quiet_period"


FORCEABLE = frozenset({Rule.DUPLICATE, Rule.QUIET})
"""The rules ``--force`` passes (and the outbox records as forced)."""


class OutboxState(StrEnum):
    PENDING = "pending"  # written before the click; not settled yet
    SENT = "sent"  # found on the site afterwards
    FAILED = "failed"  # sent (or tried) but not found afterwards: nothing reached the case
    REFUSED = "refused"  # a contact rule or the site refused: nothing was sent


class Origin(StrEnum):
    COMMAND = "command"  # caselog reply / reopen / cc
    AUTOPILOT = "autopilot"  # caselog watch with [contact] auto_send


# -- text ---------------------------------------------------------------------------------------

_BREAKS = re.compile(r"\r\n?")


def normal_text(text: str) -> str:
    """A message as the site keeps it, for comparing: CR LF and lone CR as LF (a browser
    sends a textarea's line breaks as CR LF; the site stores LF), blanks around it dropped."""
    return _BREAKS.sub("\n", text).strip()


def text_hash(text: str) -> str:
    """The SHA-256 of :func:`normal_text` (how the outbox knows a text again)."""
    return hashlib.sha256(normal_text(text).encode("utf-8", "surrogatepass")).hexdigest()


# -- records --------------------------------------------------------------------------------------


class Look(Record):
    """What the agent saw of a case at one moment: enough to tell that it changed."""

    status: CaseStatus
    last_direction: Direction | None = None
    last_sent_at: UtcDatetime | None = None
    last_hash: str = ""
    messages: int = 0
    cc: tuple[str, ...] = ()
    seen_at: UtcDatetime

    @classmethod
    def of(
        cls,
        status: CaseStatus,
        messages: Sequence[Message],
        cc: Sequence[str],
        seen_at: datetime,
    ) -> Look:
        ordered = sorted(messages, key=lambda m: m.order)
        last = ordered[-1] if ordered else None
        return cls(
            status=status,
            last_direction=last.direction if last else None,
            last_sent_at=last.sent_at if last else None,
            last_hash=text_hash(last.body) if last else "",
            messages=len(ordered),
            cc=tuple(cc),
            seen_at=seen_at,
        )

    @property
    def last_key(self) -> tuple[object, ...]:
        return (self.last_direction, self.last_sent_at, self.last_hash)


class Attachment(Record):
    name: str
    size: int
    sha256: str = ""


class OutboxEntry(Record):
    """One thing the agent sends (or refused to send) to a case, and what became of it.

    Written ``pending`` (and committed) before the click; settled by reading the case back:
    ``sent`` with the message found (``message_id``), ``failed`` when nothing was found,
    ``refused`` when a rule or the site said no. ``baseline`` lists the thread's message IDs
    before the click, so a message found later is known to be new.
    """

    entry_id: str
    account: str
    case_id: str
    marketplace: str = ""
    kind: ActionKind
    origin: Origin = Origin.COMMAND
    body: str = ""
    body_sha256: str = ""
    cc: tuple[str, ...] | None = None  # the Cc list to set (cc), or the one sent (reply)
    attachments: tuple[Attachment, ...] = ()
    created_at: UtcDatetime
    state: OutboxState
    forced: tuple[Rule, ...] = ()
    rule: Rule | None = None  # the contact rule that refused it
    detail: str = ""  # why it was refused or failed, or what the site said
    before: Look | None = None
    baseline: tuple[str, ...] = ()
    message_id: str | None = None
    sent_at: UtcDatetime | None = None
    settled_at: UtcDatetime | None = None
    after: Look | None = None

    @property
    def is_contact(self) -> bool:
        """A message or reopen that reached Amazon, or may have (pending)."""
        return self.kind is not ActionKind.CC and self.state in (
            OutboxState.SENT,
            OutboxState.PENDING,
        )

    @property
    def when(self) -> datetime:
        return self.sent_at or self.created_at


# -- finding what was sent -------------------------------------------------------------------------


def find_sent(entry: OutboxEntry, messages: Sequence[Message]) -> list[Message]:
    """The messages of a thread that are ``entry``'s reply: from the seller, not in the thread
    before the click, with the same text."""
    before = set(entry.baseline)
    return [
        m
        for m in sorted(messages, key=lambda m: m.order)
        if m.direction is Direction.FROM_SELLER
        and m.message_id not in before
        and text_hash(m.body) == entry.body_sha256
    ]


# -- the rules ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """What is about to be sent: a reply (``body``), a reopen, or a Cc change."""

    kind: ActionKind
    account: str
    case_id: str
    body: str = ""


@dataclass(frozen=True)
class Refusal:
    rule: Rule
    sentence: str


@dataclass(frozen=True)
class Verdict:
    """The first refusal that stands (None: send), and the rules ``--force`` passed."""

    refusal: Refusal | None
    forced: tuple[Rule, ...] = field(default=())


def _label(status: CaseStatus) -> str:
    return STATUS_LABELS.get(status, status.value)


def _changed(a: Attempt, basis: Look | None, fresh: Look, zone: ZoneInfo) -> str | None:
    if basis is None or a.kind is ActionKind.CC:
        return None
    if basis.status is not fresh.status:
        what = f"its status went from {_label(basis.status)} to {_label(fresh.status)}"
    elif basis.last_key != fresh.last_key and fresh.last_sent_at is not None:
        who = "Amazon" if fresh.last_direction is Direction.FROM_AMAZON else "you"
        what = f"a new message from {who} on {format_day(fresh.last_sent_at, zone)}"
    elif basis.last_key != fresh.last_key:
        what = "its messages are not the ones the draft saw"
    else:
        return None
    return (
        f"Case {a.case_id} changed since the draft was made ({what}); run `caselog sync`, "
        f"read it with `caselog show {a.case_id}` and make the draft again."
    )


def _closed(
    a: Attempt, status: CaseStatus, until: datetime | None, now: datetime, zone: ZoneInfo
) -> str | None:
    can_reopen = until is not None and now < until
    ended = (
        f"the reopen window ended on {format_day(until, zone)}"
        if until is not None
        else "it is past reopening"
    )
    gone = (
        f"Case {a.case_id} is {_label(status)} and can no longer be reopened ({ended}); "
        f"open a new case that cites case {a.case_id}."
    )
    if a.kind is ActionKind.REPLY:
        if status is CaseStatus.ANSWERED and can_reopen:
            assert until is not None
            return (
                f"Case {a.case_id} is Answered and takes no replies; reopen it with your "
                f"message, `caselog reopen {a.case_id} --text ...`, before "
                f"{format_day(until, zone)}."
            )
        if status is CaseStatus.ANSWERED or status.is_final:
            return gone
        return None
    if a.kind is ActionKind.REOPEN:
        if status is CaseStatus.ANSWERED and can_reopen:
            return None
        if status is CaseStatus.ANSWERED or status.is_final:
            return gone
        if status is CaseStatus.UNKNOWN:
            return None
        return (
            f"Case {a.case_id} is {_label(status)}, not answered, so there is nothing to "
            f"reopen; reply to it with `caselog reply {a.case_id}` instead."
        )
    if status.is_final:
        return (
            f"Case {a.case_id} is {_label(status)} and its Cc list can no longer be changed; "
            "copy the address into a new case instead."
        )
    return None


def contacts_today(
    outbox: Sequence[OutboxEntry], now: datetime, zone: ZoneInfo, origin: Origin | None = None
) -> int:
    """Messages and reopens sent (or being sent) on ``now``'s calendar day in ``zone``."""
    today = now.astimezone(zone).date()
    return sum(
        1
        for e in outbox
        if e.is_contact
        and e.created_at.astimezone(zone).date() == today
        and (origin is None or e.origin is origin)
    )


def _budget(
    a: Attempt, outbox: Sequence[OutboxEntry], budget: int, now: datetime, zone: ZoneInfo
) -> str | None:
    if a.kind is ActionKind.CC:
        return None
    used = contacts_today([e for e in outbox if e.account == a.account], now, zone)
    if used < budget:
        return None
    return (
        f"Account {a.account} has used its daily contact budget ({used} of {budget} messages "
        "and reopens today); send it tomorrow, or raise [contact] daily_budget in caselog.toml."
    )


def _own_replies(outbox: Sequence[OutboxEntry], case_id: str) -> list[OutboxEntry]:
    """The outbox's replies to ``case_id`` that reached it, or may have (pending)."""
    return [
        e
        for e in outbox
        if e.case_id == case_id
        and e.kind is ActionKind.REPLY
        and e.state in (OutboxState.SENT, OutboxState.PENDING)
    ]


def _duplicate(
    a: Attempt, messages: Sequence[Message], outbox: Sequence[OutboxEntry], zone: ZoneInfo
) -> str | None:
    if a.kind is not ActionKind.REPLY:
        return None
    wanted = text_hash(a.body)
    seen = [
        m.sent_at
        for m in messages
        if m.direction is Direction.FROM_SELLER and text_hash(m.body) == wanted
    ]
    seen += [e.when for e in _own_replies(outbox, a.case_id) if e.body_sha256 == wanted]
    if not seen:
        return None
    return (
        f"The same text was already sent to case {a.case_id} on "
        f"{format_day(min(seen), zone)}; change it, or add --force to send it again."
    )


def amazons_turn(status: CaseStatus, messages: Sequence[Message]) -> bool:
    """Amazon's turn (agent.core.turn): an Amazon status, or the seller's message newest."""
    if status.is_final:
        return False
    ordered = sorted(messages, key=lambda m: m.order)
    return status in AMAZON_STATUSES or bool(
        ordered and ordered[-1].direction is Direction.FROM_SELLER
    )


def _quiet(
    a: Attempt,
    status: CaseStatus,
    messages: Sequence[Message],
    outbox: Sequence[OutboxEntry],
    days: float,
    calendar: BusinessCalendar,
    now: datetime,
) -> str | None:
    if a.kind is not ActionKind.REPLY or days <= 0 or not amazons_turn(status, messages):
        return None
    amazon = [m.sent_at for m in messages if m.direction is Direction.FROM_AMAZON]
    answered = max(amazon) if amazon else None
    mine = [
        m.sent_at
        for m in messages
        if m.direction is Direction.FROM_SELLER and (answered is None or m.sent_at > answered)
    ]
    mine += [
        e.when for e in _own_replies(outbox, a.case_id) if answered is None or e.when > answered
    ]
    if not mine:
        return None
    last = max(mine)
    allowed = add_business_days(last, days, calendar)
    if now >= allowed:
        return None
    zone = calendar.zone
    return (
        f"It is Amazon's turn on case {a.case_id} and your last message went out on "
        f"{format_moment(last, zone)}; the next may go from {format_moment(allowed, zone)} "
        f"(one per {days:g} business days), or add --force to send it now."
    )


def check(
    attempt: Attempt,
    *,
    basis: Look | None,
    status: CaseStatus,
    messages: Sequence[Message],
    cc: Sequence[str],
    outbox: Sequence[OutboxEntry],
    settings: ContactSettings,
    reopen_until: datetime | None,
    calendar: BusinessCalendar,
    now: datetime,
    force: bool = False,
) -> Verdict:
    """The contact rules in order (module docstring) for ``attempt`` on a case whose fresh
    read is ``status`` / ``messages`` / ``cc``; ``basis`` is what the draft was made from;
    ``reopen_until``: when an Answered case's reopen window ends
    (:func:`agent.core.turn.reopen_until`, as the to-do counts it)."""
    zone = calendar.zone
    fresh = Look.of(status, messages, cc, now)
    found: list[tuple[Rule, str | None]] = [
        (Rule.CHANGED, _changed(attempt, basis, fresh, zone)),
        (Rule.CLOSED, _closed(attempt, status, reopen_until, now, zone)),
        (Rule.BUDGET, _budget(attempt, outbox, settings.daily_budget, now, zone)),
        (Rule.DUPLICATE, _duplicate(attempt, messages, outbox, zone)),
        (
            Rule.QUIET,
            _quiet(attempt, status, messages, outbox, settings.quiet_business_days, calendar, now),
        ),
    ]
    forced: list[Rule] = []
    for rule, sentence in found:
        if sentence is None:
            continue
        if force and rule in FORCEABLE:
            forced.append(rule)
            continue
        return Verdict(Refusal(rule, sentence), tuple(forced))
    return Verdict(None, tuple(forced))


# -- the site's own limits --------------------------------------------------------------------


@dataclass(frozen=True)
class SiteLimits:
    """What the Case Log's forms take (they state it: ``data-max-chars`` and friends); the
    defaults are Amazon's documented ones, checked before a page says otherwise."""

    message_max_chars: int = 32000
    cc_max_chars: int = 300
    max_files: int = 5
    max_file_bytes: int = 10 * 1024 * 1024
    allowed_types: tuple[str, ...] = (
        "pdf", "png", "jpg", "jpeg", "gif", "txt", "csv", "xls", "xlsx", "doc", "docx",
    )  # fmt: skip


_ADDRESS = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"


def limit_problem(
    kind: ActionKind,
    *,
    body: str = "",
    cc: Sequence[str] | None = None,
    attachments: Sequence[Attachment] = (),
    limits: SiteLimits,
) -> str | None:
    """The first of the site's limits that what would be sent breaks, as one sentence."""
    if kind is ActionKind.REPLY:
        text = _BREAKS.sub("\n", body)
        if not text.strip():
            return "The message is empty; write it with --text or --file."
        if len(text) > limits.message_max_chars:
            return (
                f"The message is {len(text):,} characters long and the site takes at most "
                f"{limits.message_max_chars:,}; shorten it."
            )
    if cc is not None:
        bad = next((a for a in cc if not _ADDRESS.match(a)), None)
        if bad is not None:
            return f"{bad!r} is not an e-mail address; fix it in the Cc list."
        joined = ", ".join(cc)
        if len(joined) > limits.cc_max_chars:
            return (
                f"The Cc list would be {len(joined)} characters long and the site takes at most "
                f"{limits.cc_max_chars} (commas and spaces included); remove an address."
            )
    if len(attachments) > limits.max_files:
        return (
            f"{len(attachments)} files are attached and the site takes at most "
            f"{limits.max_files}; attach fewer."
        )
    allowed = {t.lower().lstrip(".") for t in limits.allowed_types}
    for a in attachments:
        suffix = a.name.rpartition(".")[2].lower() if "." in a.name else ""
        if allowed and suffix not in allowed:
            return (
                f"{a.name} is not a file type the site takes ({', '.join(sorted(allowed))}); "
                "convert it or attach another."
            )
        if a.size > limits.max_file_bytes:
            return (
                f"{a.name} is {_size(a.size)} and the site takes files of at most "
                f"{_size(limits.max_file_bytes)}; attach a smaller one."
            )
    return None
