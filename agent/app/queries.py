"""Read-only questions over the stored cases: list, show one thread, full-text search, and
what changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agent.app.accounts import each_store
from agent.config import Settings
from agent.core.models import Case, CaseStatus, Event, Message
from agent.core.text import squash
from agent.errors import NotFound
from agent.home import Home

__all__ = ["Hit", "Thread", "changes", "list_cases", "parse_status", "search", "show_case"]


def parse_status(value: str) -> CaseStatus:
    wanted = value.strip().upper().replace(" ", "_").replace("-", "_")
    try:
        return CaseStatus(wanted)
    except ValueError:
        known = ", ".join(s.value.lower() for s in CaseStatus)
        raise NotFound(f"unknown status {value!r}; use one of: {known}") from None


def list_cases(
    home: Home,
    settings: Settings,
    account: str | None = None,
    status: CaseStatus | None = None,
    needs_attention: bool = False,
) -> list[Case]:
    out: list[Case] = []
    for _, store in each_store(home, settings, account):
        out.extend(
            c
            for c in store.cases()
            if (status is None or c.status is status)
            and (not needs_attention or c.status is CaseStatus.NEEDS_YOUR_ATTENTION)
        )
    out.sort(key=lambda c: c.created_at, reverse=True)
    return out


@dataclass(frozen=True)
class Thread:
    case: Case
    messages: list[Message]


def show_case(home: Home, settings: Settings, case_id: str, account: str | None = None) -> Thread:
    for _, store in each_store(home, settings, account):
        case = store.case(case_id)
        if case is not None:
            return Thread(case, store.messages(case_id))
    raise NotFound(f"no stored case {case_id}; run `caselog sync` first, or check the ID")


@dataclass(frozen=True)
class Hit:
    case: Case
    where: str  # "subject" or a message id
    snippet: str


def _snippet(text: str, start: int, length: int, width: int = 60) -> str:
    lo, hi = max(0, start - width), min(len(text), start + length + width)
    body = squash(text[lo:hi])
    return ("…" if lo else "") + body + ("…" if hi < len(text) else "")


def search(home: Home, settings: Settings, text: str, account: str | None = None) -> list[Hit]:
    """Case-insensitive search over subjects *and* message bodies (Amazon's only does subjects)."""
    needle = text.casefold()
    hits: list[Hit] = []
    for _, store in each_store(home, settings, account):
        cases, messages = store.cases(), store.messages()
        by_id = {c.case_id: c for c in cases}
        for case in cases:
            pos = case.subject.casefold().find(needle)
            if pos >= 0 or case.case_id == text.strip():
                hits.append(Hit(case, "subject", _snippet(case.subject, max(pos, 0), len(text))))
        for msg in messages:
            pos = msg.body.casefold().find(needle)
            if pos >= 0 and msg.case_id in by_id:
                hits.append(
                    Hit(by_id[msg.case_id], msg.message_id, _snippet(msg.body, pos, len(text)))
                )
    return hits


def changes(home: Home, settings: Settings, account: str | None, since: datetime) -> list[Event]:
    """Every event detected at or after ``since``, oldest first."""
    events: list[Event] = []
    for _, store in each_store(home, settings, account):
        events += store.events(since=since)
    return sorted(events, key=lambda e: (e.detected_at, e.event_id))
