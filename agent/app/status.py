"""``caselog status``: is monitoring healthy? One report from what the home already holds.

Per account (configured ones in ``caselog.toml`` order, then archived ones, which are listed
and never judged): the last complete sync and its age, how many syncs in a row since then
were incomplete and why, the saved session (its age, when its cookies expire, and with
``check_session`` whether the site still takes it), the watch that looks after the account
(running?, its last round, its next run: ``monitor/watch.json``), the store's size and the
pages kept in ``failed-pages/``. Then each notification target's last success and failure
(``monitor/notify.json``).

The exit code is for cron and monitoring systems: :attr:`ExitCode.USAGE` (2) when no account
is configured; :attr:`ExitCode.AUTH` (3) when a person must sign in (a checked session the
site no longer takes, or, unchecked, a last sync that met a sign-in it could not do); else
:attr:`ExitCode.STALE` (6) when a configured account has had no complete sync for longer
than ``[watch] stale_after_hours``; else 0.

Checking a session is cheap but opens a browser, so it is asked for: the account's Case Log
is opened with the saved cookies and the page it lands on is classified (content, or a
sign-in step). Nothing is signed in and nothing is saved.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from agent.app.accounts import stored_accounts
from agent.app.journal import process_alive, read_notify, read_watch
from agent.app.logs import LOG_FILE
from agent.app.notify import target_name
from agent.config import Account, Settings
from agent.core.models import Snapshot, utcnow
from agent.errors import ExitCode
from agent.home import Home
from agent.site.credentials import login_hint
from agent.site.storage_state import read_session_file
from agent.store import Store

if TYPE_CHECKING:
    from agent.app.session_check import Verdict

__all__ = [
    "AccountStatus",
    "SessionStatus",
    "StatusReport",
    "TargetStatus",
    "WatchStatus",
    "status_report",
]


class SessionStatus(BaseModel):
    file: str
    saved: bool
    saved_at: datetime | None = None
    age_seconds: float | None = None
    cookies: int = 0
    first_cookie_expiry: datetime | None = None
    last_cookie_expiry: datetime | None = None
    checked: str | None = None  # works | expired | ... | "could not be checked: ..."
    needs_person: bool = False


class WatchStatus(BaseModel):
    running: bool | None = None  # None: it ran on another host, or never
    pid: int | None = None
    host: str | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    heard_at: datetime | None = None
    next_run_at: datetime | None = None
    last_round: dict[str, Any] | None = None


class AccountStatus(BaseModel):
    account: str
    archived: bool
    last_sync_at: datetime | None = None
    last_sync_complete: bool | None = None
    last_complete_sync_at: datetime | None = None
    last_complete_age_seconds: float | None = None
    incomplete_streak: int = 0
    incomplete_reason: str | None = None
    incomplete_detail: str = ""
    stale: bool = False
    stale_after_hours: float | None = None
    session: SessionStatus | None = None
    watch: WatchStatus | None = None
    store_file: str | None = None
    store_bytes: int = 0
    cases: int = 0
    failed_pages: int = 0
    problems: list[str] = Field(default_factory=list)


class TargetStatus(BaseModel):
    target: str
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_error: str = ""
    works: bool | None = None  # None: nothing was sent yet


class StatusReport(BaseModel):
    now: datetime
    home: str
    log_file: str
    accounts: list[AccountStatus]
    notify: list[TargetStatus]
    exit_code: int
    problems: list[str]


def _hours(delta: timedelta) -> str:
    """A duration as a person says it: 45 s, 12 min, 5.5 h, 3.2 days."""
    seconds = delta.total_seconds()
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    hours = seconds / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def _from_snapshots(status: AccountStatus, snapshots: list[Snapshot], now: datetime) -> None:
    if not snapshots:
        return
    last = snapshots[-1]
    status.last_sync_at, status.last_sync_complete = last.taken_at, last.complete
    complete = [s for s in snapshots if s.complete]
    if complete:
        status.last_complete_sync_at = complete[-1].taken_at
        status.last_complete_age_seconds = (now - complete[-1].taken_at).total_seconds()
    streak = 0
    for snap in reversed(snapshots):
        if snap.complete:
            break
        streak += 1
    status.incomplete_streak = streak
    if streak:
        status.incomplete_reason = last.reason.value if last.reason else None
        status.incomplete_detail = last.detail


def _judge(status: AccountStatus, settings: Settings, now: datetime) -> None:
    """Mark a configured account stale, with the sentence that says why."""
    allowed = settings.watch.stale_after
    status.stale_after_hours = round(allowed.total_seconds() / 3600, 4)
    name = status.account
    streak = ""
    if status.incomplete_streak:
        streak = (
            f"; the last {status.incomplete_streak} sync(s) were incomplete "
            f"({status.incomplete_reason}: {status.incomplete_detail})"
        )
    if status.last_complete_sync_at is None:
        status.stale = True
        status.problems.append(
            f"{name} has had no complete sync yet{streak}; run `caselog sync --account {name}`"
        )
        return
    age = now - status.last_complete_sync_at
    if age > allowed:
        status.stale = True
        status.problems.append(
            f"{name} has had no complete sync for {_hours(age)} (more than the {_hours(allowed)} "
            f"allowed by stale_after_hours){streak}"
        )


def _session(home: Home, account: Account, now: datetime) -> SessionStatus:
    info = read_session_file(home.state_path(account.name), account)
    status = SessionStatus(file=str(info.path), saved=info.exists)
    if info.saved_at is not None:
        status.saved_at = info.saved_at
        status.age_seconds = (now - info.saved_at).total_seconds()
    status.cookies = info.cookies
    status.first_cookie_expiry, status.last_cookie_expiry = info.first_expiry, info.last_expiry
    if info.exists and not info.readable:
        status.checked = "unreadable"
    return status


def _watch(entry: dict[str, Any] | None) -> WatchStatus | None:
    if entry is None:
        return None
    fields = ("pid", "host", "started_at", "stopped_at", "heard_at", "next_run_at", "last_round")
    known = {k: entry.get(k) for k in fields}
    try:
        status = WatchStatus.model_validate(known)
    except ValueError:
        status = WatchStatus()
    status.running = process_alive(entry)
    if status.running is False:
        status.next_run_at = None  # nobody will run it
    return status


def _targets(home: Home, settings: Settings) -> list[TargetStatus]:
    journal = read_notify(home)
    found = []
    for url in settings.notify.urls:
        name = target_name(url)
        entry = journal.get(name, {})
        try:
            target = TargetStatus.model_validate({"target": name, **entry})
        except ValueError:
            target = TargetStatus(target=name)
        ok, bad = target.last_success_at, target.last_failure_at
        if ok or bad:
            target.works = bad is None or (ok is not None and ok > bad)
        found.append(target)
    return found


def status_report(
    home: Home,
    settings: Settings,
    *,
    account: str | None = None,
    check_session: bool = False,
    now: datetime | None = None,
) -> StatusReport:
    """How monitoring is doing, per account, with the exit code that sums it up."""
    now = now or utcnow()
    configured = [a for a in settings.accounts if account is None or a.name == account]
    # an unknown name is refused here, with the accounts that are known
    stored = {s.name: s for s in stored_accounts(home, settings, account)}
    watch_entries = read_watch(home)
    statuses: list[AccountStatus] = []
    verdicts: dict[str, Verdict] = {}
    if check_session:  # opens a browser: Playwright is imported only for this
        from agent.app.session_check import check_sessions

        verdicts = check_sessions(home, configured)
    names = [a.name for a in configured] + [n for n, s in stored.items() if s.archived]
    by_name = {a.name: a for a in configured}
    for name in names:
        status = AccountStatus(account=name, archived=name not in by_name)
        held = stored.get(name)
        if held is not None:
            with Store.open(held.path, readonly=True) as store:
                _from_snapshots(status, store.snapshots(), now)
                status.cases = store.count_cases()
                status.store_bytes = store.size()
            status.store_file = str(held.path)
        status.failed_pages = len(home.failed_pages_of(name))
        if not status.archived:
            acc = by_name[name]
            status.session = _session(home, acc, now)
            if name in verdicts:
                status.session.checked = verdicts[name].said
                status.session.needs_person = verdicts[name].needs_person
            elif check_session and not status.session.saved:
                status.session.checked = "no saved session"
            elif status.incomplete_reason == "login_needed":
                # the last sync met a sign-in it could not do: known without a browser
                status.session.checked = "needed a person at the last sync"
                status.session.needs_person = True
            status.watch = _watch(watch_entries.get(name))
            _judge(status, settings, now)
            if status.session.needs_person:
                status.problems.append(
                    f"the saved session of {name} {status.session.checked}; {login_hint(name)}"
                )
        statuses.append(status)
    targets = _targets(home, settings)
    problems = [p for s in statuses for p in s.problems]
    for target in targets:
        if target.works is False:
            problems.append(
                f"the notification target {target.target} last refused a notice "
                f"({target.last_error or 'no reason given'})"
            )
    if not settings.accounts:
        problems.append(
            "no account is configured, so nothing is monitored; run `caselog init` (or add an "
            "[[accounts]] table to caselog.toml)"
        )
    if not settings.accounts:
        code = ExitCode.USAGE
    elif any(s.session and s.session.needs_person for s in statuses):
        code = ExitCode.AUTH
    elif any(s.stale for s in statuses):
        code = ExitCode.STALE
    else:
        code = ExitCode.OK
    return StatusReport(
        now=now,
        home=str(home.root),
        log_file=str(home.log_dir / LOG_FILE),
        accounts=statuses,
        notify=targets,
        exit_code=int(code),
        problems=problems,
    )
