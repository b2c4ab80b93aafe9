"""The watch loop's promises, with a fake round and a fake notifier (no browser, no sleep)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from agent.app.notify import Notice, Notifier
from agent.app.watch import Watch
from agent.config import Account, Settings, WatchSettings
from agent.errors import AuthRequired

ACC = Account(name="shop", base_url="https://sellercentral.amazon.com", timezone="UTC")


def make_watch(outcomes: list[object], **watch: object) -> tuple[Watch, list[Notice]]:
    settings = Settings(accounts=[ACC], watch=WatchSettings(**watch))  # type: ignore[arg-type]
    sent: list[Notice] = []
    notifier = Notifier([])
    notifier.send = lambda n: sent.append(n) or True  # type: ignore[method-assign]
    calls = iter(outcomes)

    def run_round(account: Account) -> object:
        outcome = next(calls)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    w = Watch(
        settings, [ACC], run_round, notifier, clock=lambda: datetime(2026, 11, 22, 12, tzinfo=UTC)
    )
    return w, sent


def test_failures_alert_once_after_k_then_recovery_is_said() -> None:
    w, sent = make_watch(
        [
            RuntimeError("blank page"),
            RuntimeError("blank page"),
            RuntimeError("blank page"),
            RuntimeError("blank page"),
            "ok",
        ],
        failures_before_alert=3,
    )
    for _ in range(5):
        w.job(ACC)
    assert [n.body for n in sent] == [
        "monitoring is broken: blank page",
        "The last round succeeded.",
    ]
    assert w.health["shop"].failures == 0


def test_login_needed_is_said_at_once_and_only_once() -> None:
    w, sent = make_watch([AuthRequired("sign in again")] * 4, failures_before_alert=3)
    for _ in range(4):
        w.job(ACC)
    assert [n.body for n in sent] == ["monitoring is broken: sign in again"]


@pytest.mark.parametrize(
    ("quiet", "hour", "skipped"), [((22, 7), 23, True), ((22, 7), 12, False), ((1, 5), 3, True)]
)
def test_quiet_hours(quiet: tuple[int, int], hour: int, skipped: bool) -> None:
    ran: list[str] = []
    settings = Settings(accounts=[ACC], watch=WatchSettings(quiet_hours=quiet))
    w = Watch(
        settings,
        [ACC],
        lambda a: ran.append(a.name),
        Notifier([]),
        clock=lambda: datetime(2026, 11, 22, hour, tzinfo=UTC),
    )
    w.job(ACC)
    assert (ran == []) is skipped


def test_stop_event_ends_the_loop_between_jobs() -> None:
    stop = threading.Event()
    rounds: list[int] = []

    def run_round(account: Account) -> None:
        rounds.append(1)
        stop.set()  # a SIGTERM arriving during a job

    settings = Settings(
        accounts=[ACC], watch=WatchSettings(interval_minutes=0.01, jitter_seconds=0)
    )
    w = Watch(settings, [ACC], run_round, Notifier([]), stop_event=stop)
    t = threading.Thread(target=w.run)
    t.start()
    t.join(timeout=10)
    assert not t.is_alive() and rounds == [1]


def test_missed_intervals_run_once_not_many_times() -> None:
    ran: list[int] = []
    settings = Settings(accounts=[ACC], watch=WatchSettings(interval_minutes=1, jitter_seconds=0))
    w = Watch(settings, [ACC], lambda a: ran.append(1), Notifier([]))
    sched = w.scheduler()
    job = next(j for j in sched.jobs if j.job_func and j.job_func.func == w.job)  # type: ignore[union-attr]
    # pretend the machine slept through ten intervals
    assert job.next_run is not None
    job.next_run = job.next_run.replace(year=job.next_run.year - 1)
    sched.run_pending()
    sched.run_pending()
    assert ran == [1]
