"""Facts the export formats show but the store does not keep: all pure, all small.

- :func:`turn_of` and :func:`days_waiting`: whose turn it is and for how long, by
  :mod:`agent.core.turn` (the same answer ``caselog due`` gives).
- :func:`amazon_response_times`: how long Amazon took to answer each of the seller's messages.
- :class:`CaseBundle`: one case with its own messages, events and flags, in display order,
  and its category by the one categoriser the rules use (:mod:`agent.core.categories`).

Labels, time formats and whether a flag is in force come from the core, never from here.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from agent.config import RuleSettings
from agent.core.categories import OTHER, Categoriser, categoriser_for, category_label
from agent.core.labels import status_label
from agent.core.models import Case, Direction, Event, Flag, Message
from agent.core.turn import Turn, whose_turn

if TYPE_CHECKING:
    from agent.export.archive import AccountArchive

__all__ = [
    "AccountBundles",
    "CaseBundle",
    "account_bundles",
    "active_flags",
    "amazon_response_times",
    "category_order",
    "days_waiting",
    "turn_of",
    "value_text",
]


def turn_of(
    case: Case, messages: Sequence[Message], events: Sequence[Event]
) -> tuple[Turn, datetime | None]:
    """Whose turn it is and since when, by the same rules as ``caselog due``."""
    state = whose_turn(case, messages, events)
    if state.turn is Turn.NOBODY:
        return Turn.NOBODY, None
    return state.turn, state.since


def days_waiting(since: datetime | None, now: datetime) -> int | None:
    """Whole days from ``since`` to ``now`` (never negative); None when nobody is waiting."""
    if since is None:
        return None
    return max(0, (now - since).days)


def active_flags(flags: Sequence[Flag], now: datetime) -> list[Flag]:
    """Flags in force at ``now`` (:meth:`agent.core.models.Flag.in_force`)."""
    return [f for f in flags if f.in_force(now)]


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


def value_text(value: Any, *, status: bool = False) -> str:
    """An event's before/after value as plain text (escaping is the renderer's job).

    With ``status``, a canonical status code reads as its label ("NEEDS_YOUR_ATTENTION" ->
    "Needs Your Attention"); lists are joined with commas; mappings are compact JSON.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return status_label(value) if status else value
    if isinstance(value, (list, tuple)):
        return ", ".join(value_text(v) for v in value)
    if isinstance(value, dict):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str).decode()
    return str(value)


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
    url: str = ""  # the case's page on Seller Central ('' when not known)


@dataclass(frozen=True, slots=True)
class AccountBundles:
    account: str
    timezone: str
    tz: zoneinfo.ZoneInfo
    cases: list[CaseBundle]  # by case_id
    categories: tuple[str, ...]  # category labels in order of precedence, "other" last


def category_order(groups: Sequence[AccountBundles]) -> list[str]:
    """Every category label the groups know, in order of precedence ("other" last)."""
    seen = dict.fromkeys(label for g in groups for label in g.categories if label != OTHER)
    return [*seen, OTHER]


def account_bundles(
    acc: AccountArchive,
    categorise: Categoriser | None = None,
    links: Mapping[str, str] | None = None,
) -> AccountBundles:
    """Group an account's records by case, each list in display order; ``categorise`` is the
    categoriser of the account's rules (default: the default rules'); ``links`` maps case
    IDs to their Seller Central pages."""
    links = links or {}
    categorise = categorise or categoriser_for(RuleSettings())
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
        thread = tuple(sorted(msgs.get(case.case_id, ()), key=lambda m: m.order))
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
                category=category_label(categorise(case.subject)),
                url=links.get(case.case_id, ""),
            )
        )
    labels = (*(category_label(n) for n in categorise.names), OTHER)
    return AccountBundles(
        account=acc.account, timezone=acc.timezone, tz=tz, cases=out, categories=labels
    )
