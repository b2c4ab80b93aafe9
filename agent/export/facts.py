"""Facts the export formats show but the store does not keep: all pure, all small.

- :func:`turn_of` and :func:`days_waiting`: whose turn it is and for how long, by the rules
  of ``agent.core.rules`` (the same answer ``caselog due`` gives).
- :func:`categorise`: a keyword categoriser on the subject for the "cases by category" chart.
- :func:`amazon_response_times`: how long Amazon took to answer each of the seller's messages.
- :class:`CaseBundle`: one case with its own messages, events and flags, in display order.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import orjson

from agent.core.models import (
    Case,
    CaseStatus,
    Direction,
    Event,
    EventKind,
    Flag,
    FlagState,
    Message,
)
from agent.core.rules import Turn as RuleTurn
from agent.core.rules import whose_turn

if TYPE_CHECKING:
    from agent.export.archive import AccountArchive

__all__ = [
    "CATEGORIES",
    "EVENT_LABELS",
    "STATUS_LABELS",
    "AccountBundles",
    "CaseBundle",
    "Turn",
    "account_bundles",
    "active_flags",
    "amazon_response_times",
    "categorise",
    "days_waiting",
    "iso_utc",
    "local_time",
    "turn_of",
    "value_text",
]


class Turn(StrEnum):
    AMAZON = "amazon"
    SELLER = "seller"
    NONE = "none"

    @property
    def label(self) -> str:
        return {"amazon": "Amazon", "seller": "Seller", "none": ""}[self.value]


STATUS_LABELS: dict[CaseStatus, str] = {
    CaseStatus.OPEN: "Open",
    CaseStatus.PENDING_AMAZON_ACTION: "Pending Amazon Action",
    CaseStatus.NEEDS_YOUR_ATTENTION: "Needs Your Attention",
    CaseStatus.WORK_IN_PROGRESS: "Work in Progress",
    CaseStatus.ANSWERED: "Answered",
    CaseStatus.TRANSFERRED: "Transferred",
    CaseStatus.REOPENED: "Reopened",
    CaseStatus.RESOLVED: "Resolved",
    CaseStatus.CLOSED: "Closed",
    CaseStatus.UNKNOWN: "Unknown",
}

_STATUS_BY_CODE = {s.value: label for s, label in STATUS_LABELS.items()}


def turn_of(
    case: Case, messages: Sequence[Message], events: Sequence[Event]
) -> tuple[Turn, datetime | None]:
    """Whose turn it is and since when, by the same rules as ``caselog due``."""
    clock = whose_turn(case, messages, events)
    if clock.turn is RuleTurn.NOBODY:
        return Turn.NONE, None
    return (Turn.SELLER if clock.turn is RuleTurn.SELLER else Turn.AMAZON), clock.since


def days_waiting(since: datetime | None, now: datetime) -> int | None:
    """Whole days from ``since`` to ``now`` (never negative); None when nobody is waiting."""
    if since is None:
        return None
    return max(0, (now - since).days)


def active_flags(flags: Sequence[Flag], now: datetime) -> list[Flag]:
    """Flags in force at ``now``: active ones, and snoozed ones whose snooze has run out."""
    return [
        f
        for f in flags
        if f.state is FlagState.ACTIVE
        or (f.state is FlagState.SNOOZED and (f.snoozed_until is None or f.snoozed_until <= now))
    ]


# --------------------------------------------------------------------------- categories

CATEGORIES: tuple[str, ...] = (
    "account health",
    "payments",
    "policy",
    "listings",
    "inventory",
    "shipping",
    "other",
)

# Per category: whole words, "prefix*" words, "multi word" phrases, and CJK substrings.
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "account health": (
        "account health", "suspen*", "deactivat*", "reinstat*", "plan of action", "appeal*",
        "performance notification", "verification", "账户", "账号", "申诉",
    ),
    "payments": (
        "payment*", "disburse*", "reserve", "refund*", "reimburse*", "fee", "fees", "settlement*",
        "charge", "charged", "charges", "invoice*", "付款", "款项", "退款", "费用",
    ),
    "policy": (
        "policy", "policies", "intellectual property", "trademark*", "copyright*", "patent*",
        "counterfeit*", "infring*", "ip complaint", "restricted", "prohibited", "政策", "侵权",
        "知识产权",
    ),
    "listings": (
        "listing*", "asin", "asins", "suppress*", "catalog*", "detail page", "brand registry",
        "image", "images", "variation*", "buy box", "search term*", "商品", "品牌",
    ),
    "inventory": (
        "inventory", "stranded", "stock", "removal*", "warehouse*", "reconcil*", "damaged",
        "库存", "仓库",
    ),
    "shipping": (
        "ship*", "carrier*", "tracking", "deliver*", "inbound", "fba", "lost", "return",
        "returns", "配送", "货件", "物流", "发货",
    ),
}  # fmt: skip


_WORD = re.compile(r"[^\W_]+")
_CATS = list(_KEYWORDS)


def _compile_keywords() -> tuple[dict[str, int], list[tuple[str, int]], list[tuple[str, int]]]:
    """Keywords as bit masks (bit i = category i): exact words, prefixes, substrings."""
    exact: dict[str, int] = {}
    prefixes: list[tuple[str, int]] = []
    substrings: list[tuple[str, int]] = []  # " multi word " phrases and CJK, matched as text
    for i, words in enumerate(_KEYWORDS.values()):
        for k in words:
            if not k.isascii():
                substrings.append((k, 1 << i))
            elif " " in k:
                substrings.append((f" {k} ", 1 << i))
            elif k.endswith("*"):
                prefixes.append((k[:-1], 1 << i))
            else:
                exact[k] = exact.get(k, 0) | 1 << i
    return exact, prefixes, substrings


_EXACT, _PREFIXES, _SUBSTRINGS = _compile_keywords()


@lru_cache(maxsize=65536)
def _word_mask(word: str) -> int:
    mask = _EXACT.get(word, 0)
    for prefix, bit in _PREFIXES:
        if word.startswith(prefix):
            mask |= bit
    return mask


def categorise(subject: str) -> str:
    """One of :data:`CATEGORIES`: the first keyword group (in that order) the subject uses."""
    words = _WORD.findall(subject.lower())
    mask = 0
    for w in words:
        mask |= _word_mask(w)
    joined = f" {' '.join(words)} "
    for text, bit in _SUBSTRINGS:
        if text in joined:
            mask |= bit
    if not mask:
        return "other"
    return _CATS[(mask & -mask).bit_length() - 1]


# --------------------------------------------------------------------------- response times


def amazon_response_times(messages: Sequence[Message]) -> list[tuple[datetime, float]]:
    """For each time the seller spoke and Amazon later answered: (seller's message, hours).

    The clock starts at the seller's first message after Amazon last spoke (follow-ups do
    not restart it) and stops at Amazon's next message. ``messages`` oldest first.
    """
    out: list[tuple[datetime, float]] = []
    asked: datetime | None = None
    for m in messages:
        if m.direction is Direction.FROM_SELLER:
            if asked is None:
                asked = m.sent_at
        elif asked is not None:
            out.append((asked, (m.sent_at - asked).total_seconds() / 3600))
            asked = None
    return out


# --------------------------------------------------------------------------- events

EVENT_LABELS: dict[EventKind, str] = {
    EventKind.CASE_NEW: "Case first seen",
    EventKind.STATUS_CHANGED: "Status changed",
    EventKind.MESSAGE_FROM_AMAZON: "Message from Amazon",
    EventKind.MESSAGE_FROM_SELLER: "Message from you",
    EventKind.SUBJECT_CHANGED: "Subject changed",
    EventKind.CC_CHANGED: "CC changed",
    EventKind.CASE_MISSING: "Missing from the case list",
    EventKind.CASE_GONE: "Gone from the case list",
    EventKind.CASE_BACK: "Back in the case list",
}


def value_text(value: Any, *, status: bool = False) -> str:
    """An event's before/after value as plain text (escaping is the renderer's job).

    With ``status``, a canonical status code reads as its label ("NEEDS_YOUR_ATTENTION" ->
    "Needs Your Attention"); lists are joined with commas; mappings are compact JSON.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return _STATUS_BY_CODE.get(value, value) if status else value
    if isinstance(value, (list, tuple)):
        return ", ".join(value_text(v) for v in value)
    if isinstance(value, dict):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str).decode()
    return str(value)


# --------------------------------------------------------------------------- time display


def iso_utc(value: datetime | None) -> str:
    """UTC ISO-8601 with ``Z``, exactly as ``archive.json`` writes it; '' for None."""
    if value is None:
        return ""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


@lru_cache(maxsize=8192)
def local_time(value: datetime | None, tz: zoneinfo.ZoneInfo) -> str:
    """``2026-11-21 08:35 PST`` in the account's timezone; '' for None."""
    if value is None:
        return ""
    d = value.astimezone(tz)
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d} {d.hour:02d}:{d.minute:02d} {d.tzname()}"


# --------------------------------------------------------------------------- bundles


@dataclass(frozen=True, slots=True)
class CaseBundle:
    """One case with its own records: messages and events oldest first, flags by due date."""

    case: Case
    messages: tuple[Message, ...]
    events: tuple[Event, ...]
    flags: tuple[Flag, ...]
    tz: zoneinfo.ZoneInfo
    turn: Turn
    since: datetime | None
    category: str


@dataclass(frozen=True, slots=True)
class AccountBundles:
    account: str
    timezone: str
    tz: zoneinfo.ZoneInfo
    cases: list[CaseBundle]  # by case_id


def account_bundles(acc: AccountArchive) -> AccountBundles:
    """Group an account's records by case, each list in display order."""
    tz = zoneinfo.ZoneInfo(acc.timezone)
    msgs: dict[str, list[Message]] = {}
    for m in acc.messages:
        msgs.setdefault(m.case_id, []).append(m)
    evts: dict[str, list[Event]] = {}
    for e in acc.events:
        evts.setdefault(e.case_id, []).append(e)
    flags: dict[str, list[Flag]] = {}
    for f in acc.flags:
        flags.setdefault(f.case_id, []).append(f)
    out: list[CaseBundle] = []
    for case in sorted(acc.cases, key=lambda c: c.case_id):
        thread = tuple(sorted(msgs.get(case.case_id, ()), key=lambda m: (m.sent_at, m.message_id)))
        case_events = evts.get(case.case_id, ())
        turn, since = turn_of(case, thread, case_events)
        out.append(
            CaseBundle(
                case=case,
                messages=thread,
                events=tuple(
                    sorted(evts.get(case.case_id, ()), key=lambda e: (e.detected_at, e.event_id))
                ),
                flags=tuple(
                    sorted(flags.get(case.case_id, ()), key=lambda f: (f.due_at, f.flag_id))
                ),
                tz=tz,
                turn=turn,
                since=since,
                category=categorise(case.subject),
            )
        )
    return AccountBundles(account=acc.account, timezone=acc.timezone, tz=tz, cases=out)
