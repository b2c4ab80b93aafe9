"""Read-only questions over the stored cases: list, show one thread, full-text search, and
what changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from agent.app.accounts import each_store
from agent.app.flags import case_links
from agent.config import Account, Settings
from agent.core.models import Case, CaseStatus, Event, Message
from agent.core.present import group_by_case
from agent.core.text import squash
from agent.core.times import parse_since
from agent.errors import ConfigError, NotFound
from agent.home import Home

__all__ = [
    "SORTS",
    "CaseChanges",
    "CaseHits",
    "CaseList",
    "Hit",
    "Thread",
    "account_zone",
    "changes",
    "list_cases",
    "parse_status",
    "search",
    "show_case",
    "since_moment",
]


def parse_status(value: str) -> CaseStatus:
    wanted = value.strip().upper().replace(" ", "_").replace("-", "_")
    try:
        return CaseStatus(wanted)
    except ValueError:
        known = ", ".join(s.value.lower() for s in CaseStatus)
        raise NotFound(f"unknown status {value!r}; use one of: {known}") from None


SORTS = {
    "created": (lambda c: c.created_at, True),
    "updated": (lambda c: c.last_updated_at or c.created_at, True),
    "reply": (lambda c: c.last_amazon_reply_at or c.created_at, True),
    "id": (lambda c: (len(c.case_id), c.case_id), False),
    "status": (lambda c: c.status.value, False),
    "subject": (lambda c: squash(c.subject).casefold(), False),
}
"""``cases --sort`` keys: newest first for times, A-Z for the rest."""


@dataclass(frozen=True)
class CaseList:
    cases: list[Case]  # at most ``limit``
    total: int  # how many matched before the limit
    zones: dict[str, ZoneInfo]  # account -> its time zone


def list_cases(
    home: Home,
    settings: Settings,
    account: str | None = None,
    status: CaseStatus | None = None,
    needs_attention: bool = False,
    *,
    sort: str = "created",
    limit: int | None = None,
) -> CaseList:
    """The stored cases that match, sorted by ``sort`` (see :data:`SORTS`), at most ``limit``."""
    if sort not in SORTS:
        raise ConfigError(f"--sort {sort!r} is not known; use one of: {', '.join(SORTS)}")
    if limit is not None and limit < 0:
        raise ConfigError(f"--limit must be 0 (all) or more, not {limit}")
    out: list[Case] = []
    zones: dict[str, ZoneInfo] = {}
    for stored, store in each_store(home, settings, account):
        zones[stored.name] = ZoneInfo(stored.account.timezone)
        out.extend(
            c
            for c in store.cases()
            if (status is None or c.status is status)
            and (not needs_attention or c.status is CaseStatus.NEEDS_YOUR_ATTENTION)
        )
    key, newest_first = SORTS[sort]
    out.sort(key=lambda c: c.case_id)
    out.sort(key=key, reverse=newest_first)
    total = len(out)
    return CaseList(out[:limit] if limit else out, total, zones)


@dataclass(frozen=True)
class Thread:
    case: Case
    messages: list[Message]
    zone: ZoneInfo
    url: str = ""


def show_case(home: Home, settings: Settings, case_id: str, account: str | None = None) -> Thread:
    for stored, store in each_store(home, settings, account):
        case = store.case(case_id)
        if case is not None:
            return Thread(
                case,
                store.messages(case_id),
                ZoneInfo(stored.account.timezone),
                case_links(stored.account)(case),
            )
    raise NotFound(f"no stored case {case_id}; run `caselog sync` first, or check the ID")


@dataclass(frozen=True)
class Hit:
    case: Case
    where: str  # "subject" or a message id
    snippet: str
    match: tuple[int, int] | None = None  # where the words are in ``snippet`` (start, end)


@dataclass
class CaseHits:
    """One case that matched: where, with the best snippet first."""

    case: Case
    zone: ZoneInfo
    hits: list[Hit] = field(default_factory=list)

    @property
    def in_subject(self) -> bool:
        return any(h.where == "subject" for h in self.hits)

    @property
    def messages(self) -> int:
        return sum(h.where != "subject" for h in self.hits)


def _snippet(text: str, start: int, length: int, width: int = 60) -> tuple[str, tuple[int, int]]:
    """The match with ``width`` characters either side, whitespace squashed; and where the
    match is in it."""
    lo, hi = max(0, start - width), min(len(text), start + length + width)
    before = squash(text[lo:start])
    found = squash(text[start : start + length])
    after = squash(text[start + length : hi])
    gap_before = before and text[start - 1 : start].isspace()
    gap_after = after and text[start + length : start + length + 1].isspace()
    head = ("…" if lo else "") + before + (" " if gap_before else "")
    tail = (" " if gap_after else "") + after
    body = head + found + tail + ("…" if hi < len(text) else "")
    return body, (len(head), len(head) + len(found))


def search(home: Home, settings: Settings, text: str, account: str | None = None) -> list[CaseHits]:
    """Case-insensitive search over subjects *and* message bodies (Amazon's only does
    subjects), one entry per case: subject matches first, then by newest message."""
    needle = text.casefold()
    found: dict[str, CaseHits] = {}
    for stored, store in each_store(home, settings, account):
        zone = ZoneInfo(stored.account.timezone)
        cases, messages = store.cases(), store.messages()
        by_id = {c.case_id: c for c in cases}

        def entry(case: Case) -> CaseHits:
            return found.setdefault(f"{case.account}/{case.case_id}", CaseHits(case, zone))  # noqa: B023

        for case in cases:
            pos = case.subject.casefold().find(needle)
            if pos >= 0 or case.case_id == text.strip():
                snippet, where = _snippet(case.subject, max(pos, 0), len(text) if pos >= 0 else 0)
                entry(case).hits.append(Hit(case, "subject", snippet, where if pos >= 0 else None))
        for msg in sorted(messages, key=lambda m: m.order, reverse=True):
            pos = msg.body.casefold().find(needle)
            if pos >= 0 and msg.case_id in by_id:
                snippet, where = _snippet(msg.body, pos, len(text))
                entry(by_id[msg.case_id]).hits.append(
                    Hit(by_id[msg.case_id], msg.message_id, snippet, where)
                )
    return sorted(
        found.values(),
        key=lambda h: (not h.in_subject, -len(h.hits), h.case.case_id),
    )


@dataclass(frozen=True)
class CaseChanges:
    """The events of one case since a moment, oldest first."""

    account: Account
    case_id: str
    subject: str
    events: list[Event]
    zone: ZoneInfo


def changes(
    home: Home, settings: Settings, account: str | None, since: datetime
) -> list[CaseChanges]:
    """Every event detected at or after ``since``, grouped by case (the case with the newest
    event first), each case's events oldest first."""
    out: list[CaseChanges] = []
    for stored, store in each_store(home, settings, account):
        zone = ZoneInfo(stored.account.timezone)
        for case_id, events in group_by_case(store.events(since=since)):
            case = store.case(case_id)
            subject = case.subject if case else _subject_from(events)
            out.append(CaseChanges(stored.account, case_id, subject, events, zone))
    return sorted(out, key=lambda c: c.events[-1].detected_at, reverse=True)


def _subject_from(events: list[Event]) -> str:
    for e in reversed(events):
        if isinstance(e.after, dict) and isinstance(e.after.get("subject"), str):
            return str(e.after["subject"])
    return ""


def account_zone(settings: Settings, account: str | None) -> ZoneInfo:
    """The time zone a date on the command line is read in: the named account's, else the
    first configured account's, else UTC."""
    for acc in settings.accounts:
        if account is None or acc.name == account:
            return ZoneInfo(acc.timezone)
    return ZoneInfo("UTC")


def since_moment(settings: Settings, account: str | None, text: str, now: datetime) -> datetime:
    """A ``--since`` (``7d`` or ``2026-09-01``) as a moment; dates in the account's zone."""
    return parse_since(text, now, account_zone(settings, account))
