"""One round of monitoring for one account: sync, evaluate the rules, notify what is new."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from agent.app.accounts import open_store
from agent.app.calendar_ics import write_calendar
from agent.app.flags import account_flags, account_todo
from agent.app.notify import Notice, Notifier, compose
from agent.app.sync import AccountSync, SyncResult
from agent.config import Account, Settings
from agent.core.models import utcnow
from agent.core.present import TodoItem
from agent.home import Home
from agent.site.session import BrowserSession

__all__ = ["RoundOutcome", "run_round"]


@dataclass
class RoundOutcome:
    account: str
    sync: SyncResult
    due: list[TodoItem] = field(default_factory=list)
    notice: Notice | None = None
    delivered: bool = False

    def facts(self) -> dict[str, int]:
        """What the round's log line says: cases read, details read, events, due."""
        counters = self.sync.snapshot.counters
        return {
            "cases": counters.rows_seen,
            "details": counters.details_read,
            "events": len(self.sync.events),
            "due": len(self.due),
        }


def run_round(
    session: BrowserSession,
    account: Account,
    settings: Settings,
    home: Home,
    notifier: Notifier,
    clock: Callable[[], datetime] = utcnow,
) -> RoundOutcome:
    """Sync one account, evaluate its rules, and notify what is newly changed or due.

    A due flag is remembered as notified only when a target accepted the notice; otherwise
    (no target, a target that failed) it is offered again next round.
    Raises :class:`AuthRequired` when a person must sign in; an incomplete sync notifies
    nothing about cases (a failed read is never news).
    """
    result = AccountSync(session, account, settings, home, clock=clock).run()
    now = clock()
    with open_store(home, account.name) as store:
        flags = account_flags(store, account, settings, now)
        cases = store.cases()
        now_due, _ = account_todo(account, flags, cases, now)
        told = set(store.meta().get("notified_flags", []))
        fresh = [i for i in now_due if i.flag_id not in told]
        notice = compose(account.name, result.events, fresh, cases, repair=result.repair)
        delivered = notice is not None and notifier.send(notice)
        if delivered and fresh:
            store.set_meta(notified_flags=sorted(told | {i.flag_id for i in fresh}))
            store.commit()
    write_calendar(home, settings, now)
    return RoundOutcome(account.name, result, now_due, notice, delivered)
