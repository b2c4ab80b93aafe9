"""``caselog watch``: sync, rules and notify for each account on a schedule.

- The ``schedule`` library runs one job per account every N minutes (plus random jitter) and
  a daily digest. Jobs run one after another in this thread, so runs never overlap.
- Each round is one log line per account: its result (complete, incomplete, needs a person,
  failed), how long it took, and for a complete one the cases read, the events and what is
  due; with ``[contact] auto_send`` (off by default) also what the autopilot sent and what
  it held back, and why (:mod:`agent.app.round`; each sent message is also a notice). An
  expected failure (a :class:`CaselogError`: the site was blank, a page failed, the store
  was locked) is its one sentence; anything else is a bug and its record carries the
  traceback, which only the log file shows (:mod:`agent.app.logs`).
- A failing job never stops the loop: it runs again next round. After K failures in a row
  one "monitoring is broken: <reason>" notice goes out; a login that needs a person is said
  once, at once. A success clears both.
- Without a notification target (``[notify] urls``) ``watch`` refuses to start, unless
  ``notify=False`` (``--no-notify``): then it only syncs and keeps the calendar, and no flag
  is recorded as notified, so a target added later still hears of everything due.
- What ``caselog status`` needs is kept in ``monitor/`` (:mod:`agent.app.journal`): each
  round's result, the next scheduled run, and each notification target's last success.
- SIGINT and SIGTERM stop the loop between jobs. After a sleep or suspend an overdue job
  runs once, not once per missed interval (``schedule`` reschedules from the run time).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

import schedule

from agent.app.calendar_ics import write_calendar
from agent.app.journal import NotifyJournal, RoundRecord, WatchJournal
from agent.app.notify import Notice, Notifier
from agent.app.notify import digest as digest_notice
from agent.app.round import RoundOutcome, run_round
from agent.app.todo import due
from agent.config import Account, Settings
from agent.core.models import utcnow
from agent.errors import AuthRequired, CaselogError, ConfigError, SiteUnavailable
from agent.home import Home
from agent.site.crew import Crew
from agent.site.session import BrowserSession, KeptBrowser

log = logging.getLogger("caselog.watch")

RoundFn = Callable[[Account], object]
Batch = Callable[[list[Callable[[], object]]], None]


def one_by_one(jobs: list[Callable[[], object]]) -> None:
    for job in jobs:
        job()


class IncompleteRound(SiteUnavailable):
    """A round whose sync could not read everything (stored as incomplete, no alarm)."""

    def __init__(self, summary: dict[str, Any]) -> None:
        super().__init__(f"{summary['reason']}: {summary['detail']}")
        self.summary = summary


@dataclass
class AccountHealth:
    failures: int = 0
    alerted: bool = False
    rounds: int = 0
    last_error: str = ""
    rest_until: datetime | None = None  # after failures: no round before then


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
    journal: WatchJournal | None = None
    notify: bool = True
    batch: Batch = one_by_one

    def in_quiet_hours(self, account: Account) -> bool:
        quiet = self.settings.watch.quiet_hours
        if not quiet:
            return False
        hour = self.clock().astimezone(ZoneInfo(account.timezone)).hour
        start, end = quiet
        return start <= hour < end if start <= end else (hour >= start or hour < end)

    def job(self, account: Account) -> None:
        if self.stop_event.is_set():
            return
        if self.in_quiet_hours(account):
            log.debug("%s: quiet hours, no round", account.name)
            return
        health = self.health.setdefault(account.name, AccountHealth())
        health.rounds += 1
        started = time.monotonic()
        at = self.clock()
        try:
            outcome = self.run_round(account)
        except AuthRequired as exc:
            self._failed(account, health, at, started, "needs_person", str(exc), at_once=True)
        except IncompleteRound as exc:
            self._failed(account, health, at, started, "incomplete", str(exc), at_once=False)
        except CaselogError as exc:
            self._failed(account, health, at, started, "failed", str(exc), at_once=False)
        except Exception as exc:  # a bug: keep watching, but say where it happened
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            self._failed(account, health, at, started, "bug", reason, at_once=False)
        else:
            self._succeeded(account, health, at, started, outcome)

    def _succeeded(
        self, account: Account, health: AccountHealth, at: datetime, started: float, outcome: object
    ) -> None:
        seconds = time.monotonic() - started
        facts: dict[str, int] = outcome.facts() if isinstance(outcome, RoundOutcome) else {}
        said = ""
        if isinstance(outcome, RoundOutcome):
            said = (
                f": {facts['cases']} cases listed, {facts['details']} read in full, "
                f"{facts['events']} events, {facts['due']} due, {self._told(outcome)}"
                f"{_autopilot_said(outcome)}"
            )
        log.info("%s: complete in %.1f s%s", account.name, seconds, said)
        self._journal(
            account,
            RoundRecord(
                at.isoformat(),
                "complete",
                round(seconds, 2),
                cases=facts.get("cases"),
                events=facts.get("events"),
                due=facts.get("due"),
            ),
        )
        if health.alerted:
            self.notifier.send(
                Notice(
                    f"caselog {account.name}: monitoring works again",
                    "The last round succeeded.",
                )
            )
        health.failures, health.alerted, health.last_error = 0, False, ""
        health.rest_until = None

    def _told(self, outcome: RoundOutcome) -> str:
        if outcome.delivered:
            return "notified"
        if not self.notify:
            return "not notified (--no-notify)"
        if outcome.notice is not None:
            return "notice NOT delivered, will retry"
        return "nothing new"

    def _journal(self, account: Account, record: RoundRecord) -> None:
        if self.journal is not None:
            self.journal.round(account.name, record)

    def _failed(
        self,
        account: Account,
        health: AccountHealth,
        at: datetime,
        started: float,
        result: str,
        reason: str,
        at_once: bool,
    ) -> None:
        seconds = time.monotonic() - started
        health.failures += 1
        health.last_error = reason
        health.rest_until = self.clock() + self.settings.fleet.backoff(health.failures)
        said = {
            "needs_person": "needs a person",
            "incomplete": "incomplete",
            "failed": "failed",
            "bug": "failed unexpectedly",
        }[result]
        log.log(
            logging.ERROR if result == "bug" else logging.WARNING,
            "%s: %s in %.1f s (%d in a row): %s",
            account.name,
            said,
            seconds,
            health.failures,
            reason,
            exc_info=True if result == "bug" else None,
        )
        self._journal(
            account,
            RoundRecord(
                at.isoformat(),
                "failed" if result == "bug" else result,
                round(seconds, 2),
                detail=reason,
            ),
        )
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
            every.seconds.do(self.job, account).tag(account.name)
        sched.every().day.at(self.settings.watch.digest_time).do(self.send_digest)
        return sched

    def _record_next_runs(self, sched: schedule.Scheduler) -> None:
        """Each account's next run, for ``caselog status`` (schedule keeps local time)."""
        if self.journal is None:
            return
        runs = {
            account.name: job.next_run.astimezone(UTC)
            for account in self.accounts
            for job in sched.get_jobs(account.name)
            if job.next_run is not None
        }
        self.journal.next_runs(runs)

    def install_signal_handlers(self) -> None:
        def stop(signum: int, frame: FrameType | None) -> None:
            log.info("signal %d: stopping after the current job", signum)
            self.stop_event.set()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)

    def run(self, max_rounds: int | None = None) -> None:
        """Run every account once now, then on schedule until stopped."""
        names = [a.name for a in self.accounts]
        if self.journal is not None:
            self.journal.started(names)
        try:
            self._loop(max_rounds)
        finally:
            if self.journal is not None:
                self.journal.stopped(names)

    def _loop(self, max_rounds: int | None) -> None:
        sched = self.scheduler()
        self.batch([partial(self.job, account) for account in self.accounts])
        while not self.stop_event.is_set():
            self._record_next_runs(sched)
            if max_rounds is not None and all(h.rounds >= max_rounds for h in self.health.values()):
                return
            self.run_pending(sched)  # a job started after a stop signal returns at once
            idle = sched.idle_seconds
            self.stop_event.wait(timeout=min(max(idle or 1.0, 0.05), 30.0))

    def run_pending(self, sched: schedule.Scheduler) -> None:
        """Run the jobs due now as one batch; an account resting after failures is put off
        to the end of its rest instead (``schedule`` plans the next run after each one)."""
        due = sorted(j for j in sched.jobs if j.should_run)
        runnable = []
        for job in due:
            account = next((a for a in self.accounts if a.name in job.tags), None)
            rest = self.health.get(account.name) if account is not None else None
            if rest is not None and rest.rest_until is not None and self._resting(rest):
                log.debug("%s: resting after failures until %s", job.tags, rest.rest_until)
                job.next_run = rest.rest_until.astimezone().replace(tzinfo=None)
                continue
            runnable.append(job.run)
        if runnable:
            self.batch(runnable)

    def _resting(self, health: AccountHealth) -> bool:
        return health.rest_until is not None and self.clock() < health.rest_until


def watch(
    home: Home,
    settings: Settings,
    accounts: list[Account],
    *,
    rounds: int | None = None,
    notify: bool = True,
) -> None:
    """``caselog watch``: rounds for ``accounts`` on the schedule until SIGINT/SIGTERM (or
    ``rounds`` rounds each); one log line per round (:mod:`agent.app.logs` sets up where).
    Refuses to start without a notification target unless ``notify`` is False."""
    check_targets(settings, notify)
    notifier = Notifier(settings.notify.urls if notify else [], NotifyJournal(home))

    browser = KeptBrowser(settings.fleet.browser_rounds)

    def one_round(account: Account) -> RoundOutcome:
        return checked_round(browser.session(), account, settings, home, notifier)

    def batch(jobs: list[Callable[[], object]]) -> None:
        """The accounts due now, read at once by one kept Chromium (a new one first if it
        crashed or has served ``browser_rounds`` rounds)."""
        session = browser.session()
        outcomes = Crew(session.browser, settings.fleet.accounts_at_once).run(jobs)
        browser.round_done()
        for outcome in outcomes:  # a job says its own failures; only an interrupt is left
            if isinstance(outcome, BaseException) and not isinstance(outcome, Exception):
                raise outcome

    def digest() -> Notice | None:
        now = utcnow()
        items = [i for r in due(home, settings, None, now) for i in r.due]
        write_calendar(home, settings, now)
        return digest_notice(items)

    if settings.contact.auto_send:
        log.info(
            "autopilot on: sends %s drafts by itself, at most %d a day per account, under the "
            "contact rules ([contact] auto_send)",
            " and ".join(settings.contact.auto_send),
            settings.contact.auto_send_daily_cap,
        )
    journal = WatchJournal(home, settings.watch.interval_minutes)
    w = Watch(
        settings,
        accounts,
        one_round,
        notifier,
        digest=digest,
        journal=journal,
        notify=notify,
        batch=batch,
    )
    w.install_signal_handlers()
    try:
        w.run(max_rounds=rounds)
    finally:
        browser.close()


def checked_round(
    session: BrowserSession, account: Account, settings: Settings, home: Home, notifier: Notifier
) -> RoundOutcome:
    """One round of ``account``; an incomplete sync is an :class:`IncompleteRound`."""
    outcome = run_round(session, account, settings, home, notifier)
    summary = outcome.sync.summary()
    if not summary["complete"]:
        raise IncompleteRound(summary)
    return outcome


def _autopilot_said(outcome: RoundOutcome) -> str:
    """The autopilot's part of a round's line: what it sent, and what it held back why."""
    acted = outcome.autopilot
    if acted is None:
        return ""
    said = f"; autopilot sent {len(acted.sent)}"
    if acted.sent:
        said += f" ({', '.join('case ' + e.case_id for e in acted.sent)})"
    if acted.held:
        said += ", held back " + ", ".join(f"{n} ({why})" for why, n in acted.held_counts().items())
    return said


def check_targets(settings: Settings, notify: bool) -> None:
    """Refuse to watch with nobody to tell (unless told not to notify), and to let the
    autopilot send with nobody told."""
    if notify and not settings.notify.urls:
        raise ConfigError(
            'caselog watch has no notification target: add [notify] urls = ["..."] (an '
            "apprise URL: mailto://, slack://, json://...) to caselog.toml, or run "
            "`caselog watch --no-notify` to only sync and keep the calendar"
        )
    if not notify and settings.contact.auto_send:
        raise ConfigError(
            "caselog watch --no-notify would let the autopilot send messages without telling "
            "anyone; add a [notify] target and run without --no-notify, or remove [contact] "
            "auto_send from caselog.toml"
        )
