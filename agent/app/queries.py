"""Read-only questions over the stored cases: list, show one thread, full-text search."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from agent.config import Settings
from agent.core.models import Case, CaseStatus, Message
from agent.errors import NotFound
from agent.store import Store, open_store, store_path


def _stores(settings: Settings, name: str | None) -> Iterator[Store]:
    """Each selected account's store that exists, open read-only; callers read what they need."""
    for account in settings.selected(name):
        if store_path(account.name).exists():
            with open_store(account.name, readonly=True) as store:
                yield store


def parse_status(value: str) -> CaseStatus:
    wanted = value.strip().upper().replace(" ", "_").replace("-", "_")
    try:
        return CaseStatus(wanted)
    except ValueError:
        known = ", ".join(s.value.lower() for s in CaseStatus)
        raise NotFound(f"unknown status {value!r}; use one of: {known}") from None


def list_cases(
    settings: Settings,
    account: str | None = None,
    status: CaseStatus | None = None,
    needs_attention: bool = False,
) -> list[Case]:
    out: list[Case] = []
    for store in _stores(settings, account):
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


def show_case(settings: Settings, case_id: str, account: str | None = None) -> Thread:
    for store in _stores(settings, account):
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
    body = " ".join(text[lo:hi].split())
    return ("…" if lo else "") + body + ("…" if hi < len(text) else "")


def search(settings: Settings, text: str, account: str | None = None) -> list[Hit]:
    """Case-insensitive search over subjects *and* message bodies (Amazon's only does subjects)."""
    needle = text.casefold()
    hits: list[Hit] = []
    for store in _stores(settings, account):
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
