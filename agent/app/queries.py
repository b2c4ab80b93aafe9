"""Read-only questions over the stored cases: list, show one thread, full-text search, and
what changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
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
from agent.store import SearchHit

__all__ = [
    "SORTS",
    "CaseChanges",
    "CaseHits",
    "CaseList",
    "Found",
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


def _time(*fields: str) -> Callable[[dict[str, Any]], datetime]:
    def key(row: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(next(row[f] for f in fields if row.get(f)))

    return key


SORTS: dict[str, tuple[Callable[[dict[str, Any]], Any], bool]] = {
    "created": (_time("created_at"), True),
    "updated": (_time("last_updated_at", "created_at"), True),
    "reply": (_time("last_amazon_reply_at", "created_at"), True),
    "id": (lambda r: (len(r["case_id"]), r["case_id"]), False),
    "status": (lambda r: r["status"], False),
    "subject": (lambda r: squash(r["subject"]).casefold(), False),
}
"""``cases --sort`` keys (of a case's stored JSON form, so a store sorts and cuts its records
before reading them whole): newest first for times, A-Z for the rest."""


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
    wanted = {status.value} if status else None
    if needs_attention:
        wanted = (wanted or {CaseStatus.NEEDS_YOUR_ATTENTION.value}) & {
            CaseStatus.NEEDS_YOUR_ATTENTION.value
        }

    def where(row: dict[str, Any]) -> bool:
        return wanted is None or row["status"] in wanted

    key, newest_first = SORTS[sort]
    out: list[Case] = []
    zones: dict[str, ZoneInfo] = {}
    total = 0
    for stored, store in each_store(home, settings, account):
        zones[stored.name] = ZoneInfo(stored.account.timezone)
        total += store.count_cases(where)
        out += store.cases(where=where, key=key, reverse=newest_first, limit=limit or None)
    if len(zones) > 1:  # each store gave its first ``limit``: merge them
        out.sort(key=lambda c: c.case_id)
        out.sort(key=lambda c: key(c.model_dump(mode="json")), reverse=newest_first)
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


@dataclass(frozen=True)
class Found:
    """What ``caselog search`` found: the first ``limit`` cases and how many matched."""

    cases: list[CaseHits]
    total: int  # cases that matched
    matches: int  # subjects and messages that matched, in all of them


def _rank(in_subject: bool, hits: int, case_id: str) -> tuple[bool, int, str]:
    """Subject matches first, then the cases with the most matches."""
    return (not in_subject, -hits, case_id)


def search(
    home: Home,
    settings: Settings,
    text: str,
    account: str | None = None,
    *,
    limit: int | None = None,
) -> Found:
    """Case-insensitive search over subjects *and* message bodies (Amazon's only does
    subjects), one entry per case (subject matches first, then the cases with most matches),
    each with its hits: the subject, then messages newest first. A case ID finds its case.
    Matches come from the search table each store keeps; only the cases shown are read."""
    if limit is not None and limit < 0:
        raise ConfigError(f"--limit must be 0 (all) or more, not {limit}")
    wanted_id = text.strip()
    found: list[CaseHits] = []
    total = matches = 0
    for stored, store in each_store(home, settings, account):
        zone = ZoneInfo(stored.account.timezone)
        by_case: dict[str, list[SearchHit]] = {}
        for hit in store.search(text):
            by_case.setdefault(hit.case_id, []).append(hit)
        if wanted_id.isdigit() and wanted_id not in by_case and store.case(wanted_id):
            by_case[wanted_id] = []  # found by its ID: shown as a subject hit
        rank = {
            cid: _rank(
                cid == wanted_id or any(h.where == "subject" for h in hits),
                len(hits) or 1,
                cid,
            )
            for cid, hits in by_case.items()
        }
        ranked = sorted(by_case, key=rank.__getitem__)
        total += len(ranked)
        matches += sum(len(hits) or 1 for hits in by_case.values())
        shown = ranked[:limit] if limit else ranked
        chosen = set(shown)
        cases = {c.case_id: c for c in store.cases(where=lambda r: r["case_id"] in chosen)}  # noqa: B023
        for cid in shown:
            case = cases[cid]
            entry = CaseHits(case, zone)
            parts = by_case[cid]
            subject = [h for h in parts if h.where == "subject"]
            messages = [h for h in parts if h.where != "subject"][::-1]  # newest first
            for h in subject + messages:
                snippet, where = _snippet(h.text, h.start, h.end - h.start)
                entry.hits.append(Hit(case, h.where, snippet, where))
            if not entry.hits:  # found by its ID
                snippet, _ = _snippet(case.subject, 0, 0)
                entry.hits.append(Hit(case, "subject", snippet, None))
            found.append(entry)
    found.sort(key=lambda h: _rank(h.in_subject, len(h.hits), h.case.case_id))
    return Found(found[:limit] if limit else found, total, matches)


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
