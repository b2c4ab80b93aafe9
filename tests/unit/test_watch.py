"""The watch loop's promises, with a fake round and a real notification target (a local
webhook; no browser, no sleep)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agent.app.notify import Notifier
from agent.app.watch import Watch, check_targets
from agent.config import (
    Account,
    ContactSettings,
    FleetSettings,
    NotifySettings,
    Settings,
    WatchSettings,
)
from agent.errors import AuthRequired, ConfigError, SiteUnavailable
from agent.site.session import KeptBrowser

ACC = Account(name="shop", base_url="https://sellercentral.amazon.com", timezone="UTC")


@pytest.fixture
def make_watch(notice_sink: Any) -> Any:
    def make(outcomes: list[object], **watch: object) -> tuple[Watch, Any]:
        return _make_watch(notice_sink, outcomes, **watch)

    return make


def _make_watch(sink: Any, outcomes: list[object], **watch: object) -> tuple[Watch, Any]:
    settings = Settings(accounts=[ACC], watch=WatchSettings(**watch))  # type: ignore[arg-type]
    notifier = Notifier([sink.url])
    calls = iter(outcomes)

    def run_round(account: Account) -> object:
        outcome = next(calls)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    w = Watch(
        settings, [ACC], run_round, notifier, clock=lambda: datetime(2026, 11, 22, 12, tzinfo=UTC)
    )
    return w, sink


def test_failures_alert_once_after_k_then_recovery_is_said(make_watch: Any) -> None:
    w, sink = make_watch(
        [
            SiteUnavailable("blank page"),
            SiteUnavailable("blank page"),
            SiteUnavailable("blank page"),
            SiteUnavailable("blank page"),
            "ok",
        ],
        failures_before_alert=3,
    )
    for _ in range(5):
        w.job(ACC)
    assert sink.bodies == [
        "monitoring is broken: blank page",
        "The last round succeeded.",
    ]
    assert w.health["shop"].failures == 0


def test_login_needed_is_said_at_once_and_only_once(make_watch: Any) -> None:
    w, sink = make_watch([AuthRequired("sign in again")] * 4, failures_before_alert=3)
    for _ in range(4):
        w.job(ACC)
    assert sink.bodies == ["monitoring is broken: sign in again"]


def test_a_bug_in_a_round_is_logged_with_its_traceback_and_the_loop_goes_on(
    make_watch: Any, caplog: pytest.LogCaptureFixture
) -> None:
    w, sink = make_watch([ZeroDivisionError("division by zero"), "ok"], failures_before_alert=1)
    w.job(ACC)
    w.job(ACC)
    assert sink.bodies == [
        "monitoring is broken: ZeroDivisionError: division by zero",
        "The last round succeeded.",
    ]
    bug = next(r for r in caplog.records if "unexpectedly" in r.getMessage())
    assert bug.exc_info is not None and bug.exc_info[0] is ZeroDivisionError


def test_an_expected_failure_is_one_sentence_without_a_traceback(
    make_watch: Any, caplog: pytest.LogCaptureFixture
) -> None:
    w, _ = make_watch([SiteUnavailable("the Case Log is blank")], failures_before_alert=3)
    w.job(ACC)
    assert [r.exc_info for r in caplog.records] == [None]
    assert "the Case Log is blank" in caplog.records[0].getMessage()


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


def test_the_autopilot_never_runs_with_nobody_told() -> None:
    autopilot = Settings(accounts=[ACC], contact=ContactSettings(auto_send=["follow_up"]))
    with pytest.raises(ConfigError) as exc:
        check_targets(autopilot, notify=False)
    assert str(exc.value) == (
        "caselog watch --no-notify would let the autopilot send messages without telling "
        "anyone; add a [notify] target and run without --no-notify, or remove [contact] "
        "auto_send from caselog.toml"
    )
    check_targets(Settings(accounts=[ACC]), notify=False)  # no autopilot: fine
    told = autopilot.model_copy(update={"notify": NotifySettings(urls=["json://127.0.0.1/x"])})
    check_targets(told, notify=True)


# -- many accounts: a failing one rests, the browser is kept ------------------------------------


@pytest.mark.parametrize(
    ("failures", "minutes"), [(0, 0), (1, 5), (2, 10), (3, 20), (6, 160), (7, 240), (60, 240)]
)
def test_backoff_doubles_per_failure_up_to_its_max(failures: int, minutes: float) -> None:
    fleet = FleetSettings(backoff_minutes=5, backoff_max_minutes=240)
    assert fleet.backoff(failures) == timedelta(minutes=minutes)


def test_a_failing_account_rests_while_the_others_go_on() -> None:
    broken = Account(name="broken", base_url="https://sellercentral.amazon.com", timezone="UTC")
    now = datetime(2026, 11, 22, 12, tzinfo=UTC)
    ran: list[str] = []

    def run_round(account: Account) -> None:
        ran.append(account.name)
        if account.name == "broken":
            raise SiteUnavailable("the Case Log is blank")

    settings = Settings(
        accounts=[ACC, broken],
        watch=WatchSettings(interval_minutes=1, jitter_seconds=0),
        fleet=FleetSettings(backoff_minutes=30),
    )
    w = Watch(settings, [ACC, broken], run_round, Notifier([]), clock=lambda: now)
    w.job(broken)
    assert w.health["broken"].rest_until == now + timedelta(minutes=30)
    sched = w.scheduler()
    for job in sched.jobs:  # every account due now
        if job.tags:
            job.next_run = datetime.now() - timedelta(seconds=1)
    ran.clear()
    w.run_pending(sched)
    assert ran == ["shop"]
    (put_off,) = sched.get_jobs("broken")
    assert put_off.next_run == (now + timedelta(minutes=30)).astimezone().replace(tzinfo=None)


class FakeBrowser:
    def __init__(self) -> None:
        self.connected = True
        self.closed = False

    def is_connected(self) -> bool:
        return self.connected


class FakeSession:
    def __init__(self) -> None:
        self.browser = FakeBrowser()

    def close(self) -> None:
        self.browser.closed = True


def test_the_kept_browser_is_reused_then_replaced_when_worn_out_or_crashed() -> None:
    started: list[FakeSession] = []

    def start() -> FakeSession:
        started.append(FakeSession())
        return started[-1]

    kept = KeptBrowser(max_rounds=2, start=start)  # type: ignore[arg-type]
    first = kept.session()
    kept.round_done()
    assert kept.session() is first  # kept across rounds
    kept.round_done()
    second = kept.session()  # served two rounds: a new one, the old one closed
    assert second is not first and first.browser.closed
    second.browser.connected = False  # Chromium crashed
    third = kept.session()
    assert third is not second and kept.launches == 3
    kept.close()
    assert third.browser.closed
