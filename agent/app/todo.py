"""What the seller acts on: flags from the stored data, a round of sync + rules + notify,
and the seller's snooze/done decisions. Library functions behind `due`, `changes`, `draft`,
`snooze`, `done` and `watch`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from agent.app.calendar_ics import render_calendar
from agent.app.notify import Notice, Notifier, compose
from agent.app.sync import AccountSync, SyncResult
from agent.config import Account, Settings
from agent.core.drafts import Draft, draft_escalation, draft_follow_up
from agent.core.models import Event, Flag, FlagKind, FlagState, Message, utcnow
from agent.core.rules import due_now, evaluate
from agent.errors import NotFound
from agent.home import home_dir, private_dir, write_private
from agent.site.session import BrowserSession
from agent.store import FlagStateRecord, Store, open_store, store_path


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


def due(settings: Settings, account: str | None, now: datetime) -> list[AccountDue]:
    out = []
    for acc in settings.selected(account):
        if not store_path(acc.name).exists():
            continue
        with open_store(acc.name, readonly=True) as store:
            flags = account_flags(store, acc, settings, now)
        now_due = due_now(flags, now)
        ids = {f.flag_id for f in now_due}
        upcoming = sorted(
            (f for f in flags if f.flag_id not in ids and f.state is not FlagState.DONE),
            key=lambda f: f.due_at,
        )
        out.append(AccountDue(acc, now_due, upcoming))
    return out


def changes(settings: Settings, account: str | None, since: datetime) -> list[Event]:
    events: list[Event] = []
    for acc in settings.selected(account):
        if store_path(acc.name).exists():
            with open_store(acc.name, readonly=True) as store:
                events += store.events(since=since)
    return sorted(events, key=lambda e: (e.detected_at, e.event_id))


def _find_account_of(settings: Settings, case_id: str, account: str | None) -> Account:
    for acc in settings.selected(account):
        if store_path(acc.name).exists():
            with open_store(acc.name, readonly=True) as store:
                if store.case(case_id):
                    return acc
    raise NotFound(f"no stored case {case_id}; run `caselog sync` first, or check the ID")


def decide(
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
    acc = _find_account_of(settings, case_id, account)
    with open_store(acc.name) as store:
        flags = [
            f
            for f in account_flags(store, acc, settings, now)
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
    settings: Settings, case_id: str, kind: str, now: datetime, account: str | None = None
) -> Draft:
    acc = _find_account_of(settings, case_id, account)
    with open_store(acc.name, readonly=True) as store:
        case = store.case(case_id)
        assert case is not None
        messages = store.messages(case_id)
        events = store.events(case_id=case_id)
    make = draft_escalation if kind == "escalation" else draft_follow_up
    return make(case, messages, events, account=acc, now=now, rules=settings.rules)


def calendar_path() -> Path:
    return private_dir(home_dir() / "calendar") / "caselog.ics"


def write_calendar(settings: Settings, now: datetime) -> Path:
    """Rewrite the ICS file with every account's active flags (a calendar subscribes to it)."""
    flags: list[Flag] = []
    subjects: dict[str, str] = {}
    for acc in settings.accounts:
        if store_path(acc.name).exists():
            with open_store(acc.name, readonly=True) as store:
                flags += account_flags(store, acc, settings, now)
                subjects.update({c.case_id: c.subject for c in store.cases()})
    path = calendar_path()
    write_private(path, render_calendar(flags, subjects, stamp=now).encode())
    return path


@dataclass
class RoundOutcome:
    account: str
    sync: SyncResult
    due: list[Flag] = field(default_factory=list)
    notice: Notice | None = None


def run_round(
    session: BrowserSession,
    account: Account,
    settings: Settings,
    notifier: Notifier,
    clock: Callable[[], datetime] = utcnow,
) -> RoundOutcome:
    """Sync one account, evaluate its rules, and notify what is newly changed or due.

    Raises :class:`AuthRequired` when a person must sign in; an incomplete sync notifies
    nothing about cases (a failed read is never news).
    """
    result = AccountSync(session, account, settings, clock=clock).run()
    now = clock()
    with open_store(account.name) as store:
        flags = account_flags(store, account, settings, now)
        now_due = due_now(flags, now)
        told = set(store.meta().get("notified_flags", []))
        fresh = [f for f in now_due if f.flag_id not in told]
        notice = compose(account.name, result.events, fresh, store.cases())
        if notice is not None and notifier.send(notice):
            store.set_meta(notified_flags=sorted(told | {f.flag_id for f in fresh}))
            store.commit()
    write_calendar(settings, now)
    return RoundOutcome(account.name, result, now_due, notice)


def parse_duration(text: str) -> timedelta:
    """``2d``, ``36h``, ``90m``, ``1w`` -> timedelta."""
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    value, unit = text[:-1], text[-1:].lower()
    try:
        amount = float(value)
    except ValueError:
        amount = -1
    if unit not in units or amount <= 0:
        raise NotFound(f"cannot read the duration {text!r}; write it like 2d, 36h, 90m or 1w")
    return timedelta(**{units[unit]: amount})
