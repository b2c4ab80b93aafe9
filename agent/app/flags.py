"""Flags and links from the stores: the one place every use case gets them.

- :func:`account_flags` evaluates the rules over an account's stored cases (due or upcoming);
  :func:`flags_of` does the same over records already read (the export reads them anyway).
- :func:`case_links` is the Seller Central page of each case: the selector map of the case's
  marketplace (``urls.detail``) on the account's ``base_url``, so the terminal, the notices,
  the calendar and the report link to the same page.
- :func:`account_todo` is an account's to-do (:class:`agent.core.present.TodoItem`): due now
  and upcoming, with subjects and links.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from agent.config import Account, Settings
from agent.core.models import Case, CaseStatus, Event, Flag, Message
from agent.core.present import TodoItem, case_url, todo_items
from agent.core.rules import FlagDecision, evaluate
from agent.core.turn import can_flag
from agent.errors import ConfigError
from agent.store import Store

__all__ = ["account_flags", "account_todo", "case_links", "flaggable_cases", "flags_of"]


def flags_of(
    cases: Sequence[Case],
    messages: Sequence[Message],
    events: Sequence[Event],
    decisions: dict[str, FlagDecision],
    account: Account,
    settings: Settings,
    now: datetime,
) -> list[Flag]:
    """Every flag of ``cases`` at ``now`` from records already read."""
    by_case: dict[str, list[Message]] = {}
    for m in messages:
        by_case.setdefault(m.case_id, []).append(m)
    return evaluate(
        cases, by_case, events, decisions, rules=settings.rules, account=account, now=now
    )


def flaggable_cases(store: Store) -> list[Case]:
    """The stored cases that can carry a flag (:func:`agent.core.rules.can_flag`); only
    these are read whole, and only their messages."""
    return store.cases(where=lambda row: row["status"] in _FLAGGABLE)


_FLAGGABLE = frozenset(s.value for s in CaseStatus if can_flag(s))


def account_flags(
    store: Store,
    account: Account,
    settings: Settings,
    now: datetime,
    cases: Sequence[Case] | None = None,
) -> list[Flag]:
    """Every flag of the account's stored cases at ``now`` (due or upcoming); ``cases``:
    the store's :func:`flaggable_cases` when the caller has them already."""
    if cases is None:
        cases = flaggable_cases(store)
    threads = store.turn_threads(c.case_id for c in cases)
    return evaluate(
        cases,
        threads,
        store.events(),
        dict(store.flag_states()),
        rules=settings.rules,
        account=account,
        now=now,
    )


def _detail_path(map_name: str) -> str:
    from agent.site.selectormap import detail_url  # only when a link is made

    try:
        return detail_url(map_name)
    except ConfigError:
        return ""


def case_links(account: Account) -> Callable[[Case], str]:
    """The function giving a case's Seller Central page for ``account`` ('' if unknown)."""
    paths = {
        m.id: _detail_path(m.selector_map or account.selector_map) for m in account.marketplaces
    }
    default = next(iter(paths.values())) if paths else _detail_path(account.selector_map)

    def link(case: Case) -> str:
        return case_url(account.base_url, paths.get(case.marketplace, default), case.case_id)

    return link


def account_todo(
    account: Account, flags: Sequence[Flag], cases: Sequence[Case], now: datetime
) -> tuple[list[TodoItem], list[TodoItem]]:
    """(due now, upcoming) of one account as to-do items with subjects and links."""
    return todo_items(
        flags,
        {c.case_id: c for c in cases},
        ZoneInfo(account.timezone),
        now,
        url=case_links(account),
    )
