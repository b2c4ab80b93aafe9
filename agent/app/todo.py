"""What the seller acts on: flags from the stored data, and the seller's snooze/done
decisions. Library functions behind ``due``, ``draft``, ``snooze`` and ``done``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agent.app.accounts import StoredAccount, each_store, open_store, stored_accounts
from agent.config import Account, Settings
from agent.core.drafts import Draft, draft_escalation, draft_follow_up
from agent.core.models import Flag, FlagKind, FlagState, Message
from agent.core.rules import due_now, evaluate
from agent.errors import NotFound
from agent.home import Home
from agent.store import FlagStateRecord, Store

__all__ = ["AccountDue", "account_flags", "decide", "draft", "due", "find_case"]


def account_flags(store: Store, account: Account, settings: Settings, now: datetime) -> list[Flag]:
    """Every flag of the account's stored cases at ``now`` (due or upcoming)."""
    messages: dict[str, list[Message]] = {}
    for m in store.messages():
        messages.setdefault(m.case_id, []).append(m)
    return evaluate(
        store.cases(),
        messages,
        store.events(),
        store.flag_states(),
        rules=settings.rules,
        account=account,
        now=now,
    )


@dataclass
class AccountDue:
    account: Account
    due: list[Flag]
    upcoming: list[Flag]


def due(home: Home, settings: Settings, account: str | None, now: datetime) -> list[AccountDue]:
    """Per account with data: what needs action at ``now``, and what falls due later."""
    out = []
    for stored, store in each_store(home, settings, account):
        flags = account_flags(store, stored.account, settings, now)
        now_due = due_now(flags, now)
        ids = {f.flag_id for f in now_due}
        upcoming = sorted(
            (f for f in flags if f.flag_id not in ids and f.state is not FlagState.DONE),
            key=lambda f: f.due_at,
        )
        out.append(AccountDue(stored.account, now_due, upcoming))
    return out


def find_case(home: Home, settings: Settings, case_id: str, account: str | None) -> StoredAccount:
    """The account whose store holds ``case_id``."""
    for stored in stored_accounts(home, settings, account):
        with stored.open() as store:
            if store.case(case_id):
                return stored
    raise NotFound(f"no stored case {case_id}; run `caselog sync` first, or check the ID")


def decide(
    home: Home,
    settings: Settings,
    case_id: str,
    state: FlagState,
    now: datetime,
    *,
    until: datetime | None = None,
    account: str | None = None,
    kind: FlagKind | None = None,
) -> list[Flag]:
    """Snooze (until a time) or mark done the case's current flags; return those changed."""
    stored = find_case(home, settings, case_id, account)
    with open_store(home, stored.name) as store:
        flags = [
            f
            for f in account_flags(store, stored.account, settings, now)
            if f.case_id == case_id and (kind is None or f.kind is kind)
        ]
        if not flags:
            raise NotFound(f"case {case_id} has nothing flagged to {state.value}")
        store.set_flag_states(
            FlagStateRecord(flag_id=f.flag_id, state=state, snoozed_until=until, updated_at=now)
            for f in flags
        )
        store.commit()
    return flags


def draft(
    home: Home,
    settings: Settings,
    case_id: str,
    kind: str,
    now: datetime,
    account: str | None = None,
) -> Draft:
    """A follow-up or escalation message for ``case_id`` from its own facts."""
    stored = find_case(home, settings, case_id, account)
    with stored.open() as store:
        case = store.case(case_id)
        if case is None:
            raise NotFound(f"no stored case {case_id}; run `caselog sync` first")
        messages = store.messages(case_id)
        events = store.events(case_id=case_id)
    make = draft_escalation if kind == "escalation" else draft_follow_up
    return make(case, messages, events, account=stored.account, now=now, rules=settings.rules)
