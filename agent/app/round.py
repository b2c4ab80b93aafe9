"""One round of monitoring for one account: sync, evaluate the rules, let the autopilot send
what ``[contact] auto_send`` lists (off by default), notify what is new.

The autopilot runs only after a complete sync (a failed read is never a reason to write to
Amazon), under the same contact rules as ``caselog reply --send`` and its own daily cap
(:func:`agent.app.act.autopilot`). Each message it sends is a notice of its own, whether or
not anything else is new; a case it followed up on is not also announced as due.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from agent.app.accounts import open_store
from agent.app.act import AutopilotReport, autopilot
from agent.app.calendar_ics import write_calendar
from agent.app.flags import account_flags, account_todo
from agent.app.notify import Notice, Notifier, compose, sent_notice
from agent.app.sync import AccountSync, SyncResult
from agent.config import Account, Settings
from agent.core.models import utcnow
from agent.core.present import TodoItem
from agent.home import Home
from agent.site.credentials import resolve
from agent.site.session import BrowserSession, CredentialSource

__all__ = ["RoundOutcome", "run_round"]


@dataclass
class RoundOutcome:
    account: str
    sync: SyncResult
    due: list[TodoItem] = field(default_factory=list)
    notice: Notice | None = None
    delivered: bool = False
    autopilot: AutopilotReport | None = None  # None: [contact] auto_send is off

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
    credentials: CredentialSource = resolve,
) -> RoundOutcome:
    """Sync one account, evaluate its rules, let the autopilot send (when configured), and
    notify what is newly changed or due.

    A due flag is remembered as notified only when a target accepted the notice; otherwise
    (no target, a target that failed) it is offered again next round.
    Raises :class:`AuthRequired` when a person must sign in; an incomplete sync notifies
    nothing about cases (a failed read is never news) and sends nothing.
    """
    result = AccountSync(
        session, account, settings, home, clock=clock, credentials=credentials
    ).run()
    now = clock()
    with open_store(home, account.name, readonly=True) as store:
        flags = account_flags(store, account, settings, now)
        cases = store.cases()
    now_due, _ = account_todo(account, flags, cases, now)
    acted = None
    if settings.contact.auto_send and result.snapshot.complete:
        acted = autopilot(home, settings, account, now_due, session, clock, credentials)
        _tell_sent(account, acted, notifier)
    handled = {e.case_id for e in acted.sent} if acted else set()
    with open_store(home, account.name) as store:
        told = set(store.meta().get("notified_flags", []))
        fresh = [i for i in now_due if i.flag_id not in told and i.case_id not in handled]
        notice = compose(account.name, result.events, fresh, cases, repair=result.repair)
        delivered = notice is not None and notifier.send(notice)
        if delivered and fresh:
            store.set_meta(notified_flags=sorted(told | {i.flag_id for i in fresh}))
            store.commit()
    write_calendar(home, settings, now)
    return RoundOutcome(account.name, result, now_due, notice, delivered, acted)


def _tell_sent(account: Account, acted: AutopilotReport, notifier: Notifier) -> None:
    """One notice per message the autopilot sent."""
    zone = ZoneInfo(account.timezone)
    for entry in acted.sent:
        plan = acted.plans[entry.entry_id]
        what = f"a {plan.draft_kind}" if plan.draft_kind else "a message"
        notifier.send(sent_notice(account.name, entry, plan.case.subject, plan.url, zone, what))
