"""``caselog watch``: sync, rules and notify for each account on a schedule.

- The ``schedule`` library runs one job per account every N minutes (plus random jitter) and
  a daily digest. Jobs run one after another in this thread, so runs never overlap.
- A failing job never stops the loop: it runs again next round. An expected failure (a
  :class:`CaselogError`: the site was blank, a page failed, the store was locked) is logged as
  its one sentence; anything else is a bug and is logged with its traceback. After K
  failures in a row one "monitoring is broken: <reason>" notice goes out; a login that needs
  a person is said once, at once. A success clears both.
- Without a notification target (``[notify] urls``) ``watch`` refuses to start, unless
  ``notify=False`` (``--no-notify``): then it only syncs and keeps the calendar, and no flag
  is recorded as notified, so a target added later still hears of everything due.
- SIGINT and SIGTERM stop the loop between jobs. After a sleep or suspend an overdue job
  runs once, not once per missed interval (``schedule`` reschedules from the run time).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import FrameType
from zoneinfo import ZoneInfo

import schedule

from agent.app.calendar_ics import write_calendar
from agent.app.notify import Notice, Notifier
from agent.app.notify import digest as digest_notice
from agent.app.round import RoundOutcome, run_round
from agent.app.todo import due
from agent.config import Account, Settings
from agent.core.models import utcnow
from agent.errors import AuthRequired, CaselogError, ConfigError, SiteUnavailable
from agent.home import Home
from agent.site.session import BrowserSession

log = logging.getLogger("caselog.watch")

RoundFn = Callable[[Account], object]


@dataclass
class AccountHealth:
    failures: int = 0
    alerted: bool = False
    rounds: int = 0
    last_error: str = ""


@dataclass
class Watch:
    settings: Settings
    accounts: list[Account]
    run_round: RoundFn
    notifier: Notifier
    digest: Callable[[], Notice | None] = lambda: None
    clock: Callable[[], datetime] = utcnow
    stop_event: threading.Event = field(default_factory=threading.Event)
    health: dict[str, AccountHealth] = field(default_factory=dict)

    def in_quiet_hours(self, account: Account) -> bool:
        quiet = self.settings.watch.quiet_hours
        if not quiet:
            return False
        hour = self.clock().astimezone(ZoneInfo(account.timezone)).hour
        start, end = quiet
        return start <= hour < end if start <= end else (hour >= start or hour < end)

    def job(self, account: Account) -> None:
        if self.stop_event.is_set() or self.in_quiet_hours(account):
            return
        health = self.health.setdefault(account.name, AccountHealth())
        health.rounds += 1
        try:
            self.run_round(account)
        except AuthRequired as exc:
            self._failed(account, health, str(exc), at_once=True)
        except CaselogError as exc:
            self._failed(account, health, str(exc), at_once=False)
        except Exception as exc:  # a bug: keep watching, but say where it happened
            log.exception("round for %s failed unexpectedly", account.name)
            self._failed(account, health, str(exc) or type(exc).__name__, at_once=False)
        else:
            if health.alerted:
                self.notifier.send(
                    Notice(
                        f"caselog {account.name}: monitoring works again",
                        "The last round succeeded.",
                    )
                )
            health.failures, health.alerted, health.last_error = 0, False, ""

    def _failed(self, account: Account, health: AccountHealth, reason: str, at_once: bool) -> None:
        health.failures += 1
        health.last_error = reason
        log.warning("%s: round failed (%d in a row): %s", account.name, health.failures, reason)
        limit = 1 if at_once else self.settings.watch.failures_before_alert
        if health.failures >= limit and not health.alerted:
            health.alerted = True
            self.notifier.send(
                Notice(
                    f"caselog {account.name}: monitoring is broken",
                    f"monitoring is broken: {reason}",
                )
            )

    def send_digest(self) -> None:
        try:
            notice = self.digest()
            if notice is not None:
                self.notifier.send(notice)
        except CaselogError as exc:
            log.warning("the daily digest failed: %s", exc)
        except Exception:
            log.exception("the daily digest failed unexpectedly")

    def scheduler(self) -> schedule.Scheduler:
        sched = schedule.Scheduler()
        interval = max(1, round(self.settings.watch.interval_minutes * 60))
        jitter = round(self.settings.watch.jitter_seconds)
        for account in self.accounts:
            every = sched.every(interval)
            if jitter:
                every = every.to(interval + jitter)
            every.seconds.do(self.job, account)
        sched.every().day.at(self.settings.watch.digest_time).do(self.send_digest)
        return sched

    def install_signal_handlers(self) -> None:
        def stop(signum: int, frame: FrameType | None) -> None:
            log.info("signal %d: stopping after the current job", signum)
            self.stop_event.set()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)

    def run(self, max_rounds: int | None = None) -> None:
        """Run every account once now, then on schedule until stopped."""
        sched = self.scheduler()
        for account in self.accounts:
            if self.stop_event.is_set():
                return
            self.job(account)
        while not self.stop_event.is_set():
            if max_rounds is not None and all(h.rounds >= max_rounds for h in self.health.values()):
                return
            sched.run_pending()  # a job started after a stop signal returns at once
            idle = sched.idle_seconds
            self.stop_event.wait(timeout=min(max(idle or 1.0, 0.05), 30.0))


Say = Callable[[str], None]


def watch(
    home: Home,
    settings: Settings,
    accounts: list[Account],
    *,
    rounds: int | None = None,
    say: Say = lambda line: None,
    notify: bool = True,
) -> None:
    """``caselog watch``: rounds for ``accounts`` on the schedule until SIGINT/SIGTERM (or
    ``rounds`` rounds each); ``say`` gets one line per round. Refuses to start without a
    notification target unless ``notify`` is False."""
    check_targets(settings, notify)
    notifier = Notifier(settings.notify.urls if notify else [])

    def one_round(account: Account) -> RoundOutcome:
        with BrowserSession() as session:
            outcome = run_round(session, account, settings, home, notifier)
        summary = outcome.sync.summary()
        if not summary["complete"]:
            raise SiteUnavailable(f"sync incomplete ({summary['reason']}: {summary['detail']})")
        told = (
            "notified"
            if outcome.delivered
            else "not notified (--no-notify)"
            if not notify
            else "notice NOT delivered, will retry"
            if outcome.notice is not None
            else "nothing new"
        )
        say(
            f"{datetime.now():%H:%M:%S} {account.name}: {summary['cases_seen']} cases, "
            f"{len(outcome.due)} due, {summary['events']} change(s), {told}"
        )
        return outcome

    def digest() -> Notice | None:
        now = utcnow()
        items = [i for r in due(home, settings, None, now) for i in r.due]
        write_calendar(home, settings, now)
        return digest_notice(items)

    w = Watch(settings, accounts, one_round, notifier, digest=digest)
    w.install_signal_handlers()
    w.run(max_rounds=rounds)


def check_targets(settings: Settings, notify: bool) -> None:
    """Refuse to watch with nobody to tell (unless told not to notify)."""
    if notify and not settings.notify.urls:
        raise ConfigError(
            "caselog watch has no notification target: add [notify] urls = [\"...\"] (an "
            "apprise URL: mailto://, slack://, json://...) to caselog.toml, or run "
            "`caselog watch --no-notify` to only sync and keep the calendar"
        )
