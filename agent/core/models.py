"""The records the agent keeps: cases, messages, snapshots, events and flags.

Pydantic models at the edges (scraped records, the store, exports). Every datetime is
timezone-aware and stored as UTC ISO-8601.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from agent.core.text import excerpt
from agent.core.times import key_time
from agent.errors import IncompleteReason

__all__ = [
    "Case",
    "CaseState",
    "CaseStatus",
    "Direction",
    "Event",
    "EventKind",
    "Flag",
    "FlagKind",
    "FlagState",
    "IncompleteReason",
    "ListRow",
    "Message",
    "Record",
    "Severity",
    "Snapshot",
    "SnapshotCounters",
    "UtcDatetime",
    "in_force",
    "utcnow",
]


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("datetime must be timezone-aware")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_aware_utc)]


class CaseStatus(StrEnum):
    OPEN = "OPEN"
    PENDING_AMAZON_ACTION = "PENDING_AMAZON_ACTION"
    NEEDS_YOUR_ATTENTION = "NEEDS_YOUR_ATTENTION"
    WORK_IN_PROGRESS = "WORK_IN_PROGRESS"
    ANSWERED = "ANSWERED"
    TRANSFERRED = "TRANSFERRED"
    REOPENED = "REOPENED"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"
    UNKNOWN = "UNKNOWN"

    @property
    def is_final(self) -> bool:
        return self in (CaseStatus.RESOLVED, CaseStatus.CLOSED)

    @property
    def is_sellers_turn(self) -> bool:
        return self is CaseStatus.NEEDS_YOUR_ATTENTION


class Direction(StrEnum):
    FROM_AMAZON = "from_amazon"
    FROM_SELLER = "from_seller"


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Message(Record):
    """One entry of a case's contact history, body complete (after "See more")."""

    message_id: str
    case_id: str
    direction: Direction
    sender: str
    sender_email: str = ""
    sent_at: UtcDatetime
    body: str
    attachments: tuple[str, ...] = ()
    seq: int = 0  # position in the thread as the site shows it, oldest first

    @property
    def order(self) -> tuple[datetime, int, str]:
        """Where the message stands in its thread: by time, then as the site ordered it (two
        messages in the same minute keep the site's order), then by id."""
        return (self.sent_at, self.seq, self.message_id)

    @staticmethod
    def stable_id(case_id: str, sender: str, sent_at: datetime, body: str) -> str:
        """Id for a message whose source has none: a hash of what identifies it."""
        raw = "\x1f".join([case_id, sender, key_time(sent_at), body])
        return "h" + hashlib.sha256(raw.encode()).hexdigest()[:24]

    def excerpt(self, limit: int = 200) -> str:
        """The body's first ``limit`` characters, whitespace collapsed, "…" if cut."""
        return excerpt(self.body, limit)


class Case(Record):
    """A case as last read from the Case Log (list row plus detail page)."""

    case_id: str = Field(pattern=r"^\d{8,14}$")
    account: str
    marketplace: str = ""
    subject: str
    status: CaseStatus
    status_raw: str
    created_at: UtcDatetime
    last_updated_at: UtcDatetime | None = None
    last_amazon_reply_at: UtcDatetime | None = None
    primary_email: str = ""
    cc: tuple[str, ...] = ()
    message_count: int = 0
    first_seen_at: UtcDatetime
    last_seen_at: UtcDatetime
    fingerprint: str = ""  # of the list row it was last read from; a change means re-read


class ListRow(Record):
    """What one row of the case list says; enough to decide whether to read the detail."""

    case_id: str
    subject: str
    status: CaseStatus
    status_raw: str
    created_at: UtcDatetime
    last_amazon_reply_at: UtcDatetime | None = None
    last_updated_at: UtcDatetime | None = None
    message_count: int | None = None
    marketplace: str = ""

    def fingerprint(self) -> str:
        parts = [
            self.status_raw,
            self.subject,
            key_time(self.last_amazon_reply_at),
            key_time(self.last_updated_at),
            "" if self.message_count is None else str(self.message_count),
        ]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


class CaseState(Record):
    """What a snapshot remembers of one case: enough for the diff to name what changed."""

    status: CaseStatus
    status_raw: str
    subject: str
    cc: tuple[str, ...] = ()
    message_count: int = 0
    fingerprint: str = ""


class SnapshotCounters(Record):
    pages: int = 0
    requests: int = 0
    details_read: int = 0
    rows_seen: int = 0
    stated_count: int | None = None
    seconds: float = 0.0


class Snapshot(Record):
    """What one sync saw, and whether it saw everything."""

    snapshot_id: str
    account: str
    taken_at: UtcDatetime
    profile: str
    complete: bool
    reason: IncompleteReason | None = None
    detail: str = ""
    cases: dict[str, CaseState] = Field(default_factory=dict)
    counters: SnapshotCounters = Field(default_factory=SnapshotCounters)


class EventKind(StrEnum):
    CASE_NEW = "case_new"
    STATUS_CHANGED = "status_changed"
    MESSAGE_FROM_AMAZON = "message_from_amazon"
    MESSAGE_FROM_SELLER = "message_from_seller"
    SUBJECT_CHANGED = "subject_changed"
    CC_CHANGED = "cc_changed"
    CASE_MISSING = "case_missing"
    CASE_GONE = "case_gone"
    CASE_BACK = "case_back"


class Event(Record):
    """Something that changed between two complete snapshots (append-only)."""

    event_id: str
    account: str
    case_id: str
    kind: EventKind
    before: Any = None
    after: Any = None
    detected_at: UtcDatetime
    snapshot_id: str


class FlagKind(StrEnum):
    REPLY_DUE = "reply_due"
    CLOSES_SOON = "closes_soon"
    FOLLOW_UP = "follow_up"
    ESCALATE = "escalate"
    REOPEN_WINDOW = "reopen_window"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    URGENT = "urgent"


class FlagState(StrEnum):
    ACTIVE = "active"
    SNOOZED = "snoozed"
    DONE = "done"


class Flag(Record):
    """Something the seller should do about a case, and why, with dates."""

    flag_id: str
    account: str
    case_id: str
    kind: FlagKind
    severity: Severity
    due_at: UtcDatetime
    reason: str
    state: FlagState = FlagState.ACTIVE
    snoozed_until: UtcDatetime | None = None
    step: int | None = None  # the follow-up ladder's rung (follow_up flags only)

    def in_force(self, now: datetime) -> bool:
        """Whether the seller should hear about this flag at ``now`` (see :func:`in_force`)."""
        return in_force(self.state, self.snoozed_until, now)


def in_force(state: FlagState, snoozed_until: datetime | None, now: datetime) -> bool:
    """A flag is in force unless it is done or snoozed until after ``now``.

    A snooze always has an end (``caselog snooze`` sets one); a snoozed flag without one is
    in force, so that no flag is ever silenced for good by accident.
    """
    if state is FlagState.DONE:
        return False
    return not (state is FlagState.SNOOZED and snoozed_until is not None and snoozed_until > now)


def utcnow() -> datetime:
    return datetime.now(UTC)
