"""What the seller acts on: the to-do from the stored data, and the seller's snooze/done
decisions. Library functions behind ``due``, ``draft``, ``snooze``, ``done``, ``snoozes``,
``unsnooze``, ``history`` and ``open``.

Every decision (snooze, done, unsnooze) rewrites the calendar, so a subscribed calendar app
shows what ``due`` shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from agent.app.accounts import StoredAccount, each_store, open_store, stored_accounts
from agent.app.calendar_ics import write_calendar
from agent.app.flags import account_flags, account_todo, case_links, flaggable_cases
from agent.config import Account, Settings
from agent.core.drafts import Draft, draft_escalation, draft_follow_up, draft_reply
from agent.core.labels import flag_label
from agent.core.models import Case, Event, Flag, FlagKind, FlagState, Message
from agent.core.present import TodoItem
from agent.core.times import local_time
from agent.errors import NotFound
from agent.home import Home
from agent.store import FlagStateRecord

__all__ = [
    "AccountDue",
    "Decision",
    "account_flags",
    "case_page",
    "decide",
    "decisions",
    "draft",
    "draft_for",
    "due",
    "find_case",
    "history",
    "unsnooze",
]


@dataclass
class AccountDue:
    account: Account
    due: list[TodoItem]
    upcoming: list[TodoItem]


def due(home: Home, settings: Settings, account: str | None, now: datetime) -> list[AccountDue]:
    """Per account with data: what needs action at ``now``, and what falls due later."""
    out = []
    for stored, store in each_store(home, settings, account):
        cases = flaggable_cases(store)
        flags = account_flags(store, stored.account, settings, now, cases)
        now_due, upcoming = account_todo(stored.account, flags, cases, now)
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
    """Snooze (until a time) or mark done the case's current flags; return those changed.
    The calendar is rewritten."""
    stored = find_case(home, settings, case_id, account)
    with open_store(home, stored.name) as store:
        flags = [
            f
            for f in account_flags(store, stored.account, settings, now)
            if f.case_id == case_id
            and (kind is None or f.kind is kind)
            and f.state is not FlagState.DONE
        ]
        if not flags:
            raise NotFound(f"case {case_id} has nothing flagged to {state.value}")
        store.set_flag_states(
            FlagStateRecord(flag_id=f.flag_id, state=state, snoozed_until=until, updated_at=now)
            for f in flags
        )
        store.commit()
    write_calendar(home, settings, now)
    return flags


@dataclass(frozen=True)
class Decision:
    """A snooze or done mark the seller made, as ``caselog snoozes`` lists it."""

    account: str
    case_id: str
    subject: str
    flag_id: str
    kind: FlagKind | None  # None: the flag no longer exists (the case moved on)
    label: str
    state: FlagState
    snoozed_until: datetime | None
    until_local: str
    decided_at: datetime
    decided_local: str
    in_force: bool  # a snooze that has not ended yet, or a done mark

    def as_json(self) -> dict[str, object]:
        return {
            "account": self.account,
            "case_id": self.case_id,
            "subject": self.subject,
            "flag_id": self.flag_id,
            "kind": self.kind.value if self.kind else None,
            "label": self.label,
            "state": self.state.value,
            "snoozed_until": self.snoozed_until.isoformat() if self.snoozed_until else None,
            "until": self.until_local,
            "decided_at": self.decided_at.isoformat(),
            "decided": self.decided_local,
            "in_force": self.in_force,
        }


def decisions(
    home: Home, settings: Settings, account: str | None, now: datetime, *, ended: bool = False
) -> list[Decision]:
    """The snoozes and done marks of the current flags (and, with ``ended``, snoozes that
    have run out), newest first."""
    out: list[Decision] = []
    for stored, store in each_store(home, settings, account):
        zone = ZoneInfo(stored.account.timezone)
        records = store.flag_states()
        flags = {f.flag_id: f for f in account_flags(store, stored.account, settings, now)}
        for rec in records.values():
            if rec.state is FlagState.ACTIVE:
                continue  # undone by unsnooze
            flag = flags.get(rec.flag_id)
            if flag is None:
                continue  # the case moved on: the mark no longer applies to anything
            until = rec.snoozed_until
            if until is not None and until.tzinfo is None:
                until = until.replace(tzinfo=ZoneInfo("UTC"))
            live = rec.state is FlagState.DONE or (until is not None and until > now)
            if not live and not ended:
                continue
            case = store.case(flag.case_id)
            decided = (
                rec.updated_at
                if rec.updated_at.tzinfo
                else rec.updated_at.replace(tzinfo=ZoneInfo("UTC"))
            )
            out.append(
                Decision(
                    account=stored.name,
                    case_id=flag.case_id,
                    subject=case.subject if case else "",
                    flag_id=rec.flag_id,
                    kind=flag.kind,
                    label=flag_label(flag.kind),
                    state=rec.state,
                    snoozed_until=until,
                    until_local=local_time(until, zone) if until else "",
                    decided_at=decided,
                    decided_local=local_time(decided, zone),
                    in_force=live,
                )
            )
    return sorted(out, key=lambda d: (d.decided_at, d.flag_id), reverse=True)


def unsnooze(
    home: Home, settings: Settings, case_id: str, now: datetime, account: str | None = None
) -> list[str]:
    """Undo every snooze and done mark on the case's current flags; return their IDs.
    The calendar is rewritten."""
    stored = find_case(home, settings, case_id, account)
    with open_store(home, stored.name) as store:
        records = store.flag_states()
        ids = [
            f.flag_id
            for f in account_flags(store, stored.account, settings, now)
            if f.case_id == case_id
            and f.flag_id in records
            and records[f.flag_id].state is not FlagState.ACTIVE
        ]
        if not ids:
            raise NotFound(f"case {case_id} has no snooze or done mark to undo")
        store.set_flag_states(
            FlagStateRecord(flag_id=i, state=FlagState.ACTIVE, updated_at=now) for i in ids
        )
        store.commit()
    write_calendar(home, settings, now)
    return ids


def draft_for(
    case: Case,
    messages: list[Message],
    events: list[Event],
    flags: list[Flag],
    *,
    kind: str | None,
    account: Account,
    settings: Settings,
    now: datetime,
) -> Draft:
    """The draft that fits: ``kind`` (follow-up, escalation, reply), or by the case's flags.

    A follow-up on a case where it is the seller's turn is a reply (see
    :func:`agent.core.drafts.draft_follow_up`). An escalation says "Urgent" for an urgent
    category or when its deadline is overdue: the escalation (or the reply before the
    auto-close) fell due a day or more ago.
    """
    own = [f for f in flags if f.case_id == case.case_id and f.in_force(now)]
    if kind is None:
        kinds = {f.kind for f in own if f.due_at <= now}
        kind = "escalation" if FlagKind.ESCALATE in kinds else "follow-up"
    overdue = any(
        f.kind in (FlagKind.ESCALATE, FlagKind.CLOSES_SOON)
        and (now - f.due_at).total_seconds() >= 86400
        for f in own
    )
    if kind == "escalation":
        return draft_escalation(
            case, messages, events, account=account, now=now, rules=settings.rules, overdue=overdue
        )
    make = draft_reply if kind == "reply" else draft_follow_up
    return make(case, messages, events, account=account, now=now, rules=settings.rules)


def draft(
    home: Home,
    settings: Settings,
    case_id: str,
    kind: str | None,
    now: datetime,
    account: str | None = None,
) -> Draft:
    """A follow-up, escalation or reply for ``case_id`` from its own facts (``kind`` None:
    the one its flags call for)."""
    stored = find_case(home, settings, case_id, account)
    with stored.open() as store:
        case = store.case(case_id)
        if case is None:
            raise NotFound(f"no stored case {case_id}; run `caselog sync` first")
        messages = store.messages(case_id)
        events = store.events(case_id=case_id)
        flags = [
            f for f in account_flags(store, stored.account, settings, now) if f.case_id == case_id
        ]
    return draft_for(
        case,
        messages,
        events,
        flags,
        kind=kind,
        account=stored.account,
        settings=settings,
        now=now,
    )


@dataclass(frozen=True)
class History:
    account: Account
    case: Case
    events: list[Event]
    url: str


def history(home: Home, settings: Settings, case_id: str, account: str | None = None) -> History:
    """One case's recorded events, oldest first, with its Seller Central link."""
    stored = find_case(home, settings, case_id, account)
    with stored.open() as store:
        case = store.case(case_id)
        if case is None:
            raise NotFound(f"no stored case {case_id}; run `caselog sync` first")
        events = store.events(case_id=case_id)
    return History(stored.account, case, events, case_links(stored.account)(case))


def case_page(home: Home, settings: Settings, case_id: str, account: str | None = None) -> str:
    """The case's page on Seller Central (``caselog open``)."""
    stored = find_case(home, settings, case_id, account)
    with stored.open() as store:
        case = store.case(case_id)
    url = case_links(stored.account)(case) if case else ""
    if not url:
        raise NotFound(
            f"case {case_id}'s Seller Central page is not known: its account's selector map "
            "has no detail URL"
        )
    return url
