"""What `caselog watch` leaves for a person and for `caselog status`: the log (one format for
ours and apprise's lines, tracebacks only in the file, 0600, rotated), monitor/watch.json and
notify.json, failed pages pruned, and the status report with its exit codes."""

from __future__ import annotations

import io
import json
import logging
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.app.journal import (
    NotifyJournal,
    RoundRecord,
    WatchJournal,
    process_alive,
    read_notify,
    read_watch,
)
from agent.app.logs import PrivateRotatingFileHandler, setup_logging
from agent.app.notify import Notice, Notifier, target_name
from agent.app.status import status_report
from agent.app.sync import prune_failed_pages
from agent.app.watch import IncompleteRound, Watch
from agent.config import Account, NotifySettings, Settings, WatchSettings
from agent.core.models import Case, CaseStatus, IncompleteReason, Snapshot
from agent.errors import ExitCode, SiteUnavailable
from agent.home import Home
from agent.store import Store

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
ACC = Account(name="shop", base_url="https://sellercentral.amazon.com", timezone="UTC")
LINE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4} [A-Z]+ [\w.]+: ")


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path / "home").ensure()


@pytest.fixture
def logs(home: Home) -> Iterator[tuple[Path, io.StringIO]]:
    """setup_logging with a console that writes to a string; undone afterwards."""
    terminal = io.StringIO()
    root = logging.getLogger()
    before = (list(root.handlers), root.level, logging.getLogger("apprise").level)
    path = setup_logging(home, console=logging.StreamHandler(terminal))
    yield path, terminal
    for handler in list(root.handlers):
        if handler not in before[0]:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(before[1])
    logging.getLogger("apprise").setLevel(before[2])


# -- the log -----------------------------------------------------------------------------------


def test_our_lines_and_apprises_share_one_format_and_tracebacks_stay_in_the_file(
    logs: tuple[Path, io.StringIO],
) -> None:
    path, terminal = logs
    logging.getLogger("caselog.watch").info("shop: complete in 1.0 s")
    logging.getLogger("apprise").warning("Failed to send JSON notification to 127.0.0.1.")
    logging.getLogger("apprise").info("Sent JSON notification.")  # below WARNING without -v
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        logging.getLogger("caselog.watch").exception("shop: failed unexpectedly")
    logging.getLogger("caselog.watch").warning("subject \x1b]0;owned\x07 seen")
    shown = terminal.getvalue().splitlines()
    assert len(shown) == 4, shown
    assert all(LINE.match(line) for line in shown), shown
    assert " WARNING apprise: Failed to send" in shown[1]
    assert shown[2].endswith(f"shop: failed unexpectedly (traceback in {path})")
    assert "\x1b" not in terminal.getvalue() and "\\x1b]0;owned\\x07" in shown[3]
    written = path.read_text()
    assert "Traceback (most recent call last)" in written and "ZeroDivisionError" in written
    assert "Sent JSON notification" not in written
    assert all(
        LINE.match(line) for line in written.splitlines() if not line.startswith((" ", "T", "Z"))
    )
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent == Path(path.parent) and path.parent.name == "logs"


def test_verbose_shows_what_apprise_sent(home: Home, logs: tuple[Path, io.StringIO]) -> None:
    terminal = io.StringIO()
    setup_logging(home, verbose=True, console=logging.StreamHandler(terminal))
    logging.getLogger("apprise").info("Sent JSON notification.")
    logging.getLogger("caselog.watch").debug("shop: quiet hours, no round")
    assert [LINE.sub("", x) for x in terminal.getvalue().splitlines()] == [
        "Sent JSON notification.",
        "shop: quiet hours, no round",
    ]
    assert len([h for h in logging.getLogger().handlers if getattr(h, "_caselog_handler", 0)]) == 2


def test_the_log_rotates_and_every_file_is_private(
    home: Home, logs: tuple[Path, io.StringIO]
) -> None:
    path, _ = logs
    handler = next(
        h for h in logging.getLogger().handlers if isinstance(h, PrivateRotatingFileHandler)
    )
    handler.maxBytes = 2000  # type: ignore[attr-defined]
    for i in range(200):
        logging.getLogger("caselog.watch").info("round %d of a long day", i)
    rotated = sorted(path.parent.glob("caselog.log*"))
    assert len(rotated) == 6  # the log and its five old files
    assert {p.stat().st_mode & 0o777 for p in rotated} == {0o600}


# -- monitor/watch.json ------------------------------------------------------------------------


def test_watch_records_each_round_and_the_next_run(home: Home) -> None:
    settings = Settings(accounts=[ACC], watch=WatchSettings(interval_minutes=60, jitter_seconds=0))
    results: list[object] = ["ok", IncompleteRound({"reason": "blank_page", "detail": "blank"})]
    journal = WatchJournal(home, 60, clock=lambda: NOW)

    def one_round(account: Account) -> object:
        outcome = results.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    w = Watch(settings, [ACC], one_round, Notifier([]), clock=lambda: NOW, journal=journal)
    w.run(max_rounds=1)
    entry = read_watch(home)["shop"]
    assert entry["pid"] == os.getpid() and entry["stopped_at"] == NOW.isoformat()
    assert entry["last_round"]["result"] == "complete"
    assert entry["next_run_at"] is None  # stopped: nothing will run
    w.job(ACC)
    entry = read_watch(home)["shop"]
    assert entry["last_round"]["result"] == "incomplete"
    assert entry["last_round"]["detail"] == "blank_page: blank"
    assert entry["last_complete_round_at"] == NOW.isoformat()
    journal.next_runs({"shop": NOW + timedelta(hours=1)})
    assert read_watch(home)["shop"]["next_run_at"] == (NOW + timedelta(hours=1)).isoformat()
    assert home.monitor_file("watch.json").stat().st_mode & 0o777 == 0o600


def test_two_watch_processes_keep_their_own_accounts(home: Home) -> None:
    WatchJournal(home, 60, pid=111).round("a", RoundRecord(NOW.isoformat(), "complete", 1.0))
    WatchJournal(home, 60, pid=222).round("b", RoundRecord(NOW.isoformat(), "failed", 1.0))
    entries = read_watch(home)
    assert (entries["a"]["pid"], entries["b"]["pid"]) == (111, 222)


def test_a_process_is_alive_only_on_its_host_and_until_stopped() -> None:
    import socket

    here = socket.gethostname()
    assert process_alive({"pid": os.getpid(), "host": here}) is True
    assert process_alive({"pid": os.getpid(), "host": here, "stopped_at": "x"}) is False
    assert process_alive({"pid": 2**22 + 12345, "host": here}) is False
    assert process_alive({"pid": os.getpid(), "host": "elsewhere"}) is None


def test_a_watch_journal_that_cannot_be_written_is_said_once(
    home: Home, caplog: pytest.LogCaptureFixture
) -> None:
    (home.root / "monitor").write_text("a file where a folder should be")
    journal = WatchJournal(home, 60)
    journal.started(["shop"])
    journal.round("shop", RoundRecord(NOW.isoformat(), "complete", 1.0))
    assert len([r for r in caplog.records if "cannot keep watch.json" in r.getMessage()]) == 1


# -- monitor/notify.json -------------------------------------------------------------------


def test_each_target_keeps_its_last_success_and_failure(home: Home, notice_sink: Any) -> None:
    notifier = Notifier([notice_sink.url], NotifyJournal(home, clock=lambda: NOW))
    assert notifier.send(Notice("t", "b"))
    notice_sink.fail_next = 1
    assert not notifier.send(Notice("t", "b"))
    entry = read_notify(home)[target_name(notice_sink.url)]
    assert entry["last_success_at"] == entry["last_failure_at"] == NOW.isoformat()
    assert "500" in entry["last_error"] or "JSON" in entry["last_error"]


def test_a_target_is_named_without_its_secrets() -> None:
    name = target_name("mailto://user:hunter2@example.com")
    assert "hunter2" not in name and name.startswith("mailto")
    assert target_name("nonsense://x") == "nonsense://… (not a URL apprise knows)"


# -- failed pages --------------------------------------------------------------------------


def test_failed_pages_are_pruned_per_account(home: Home) -> None:
    folder = home.failed_pages
    for account in ("demo", "x-demo"):
        for i in range(5):
            stem = f"2026112{i}T120000Z-0000000{i}-{account}"
            (folder / f"{stem}.html").write_text("page")
            (folder / f"{stem}.json").write_text("{}")
            (folder / f"{stem}.map.toml").write_text("")  # a map learned from that page
    removed = prune_failed_pages(home, "demo", keep=2)
    assert [p.name[:9] for p in removed] == ["20261120T", "20261121T", "20261122T"]
    assert [p.name for p in home.failed_pages_of("demo")] == [
        "20261123T120000Z-00000003-demo.html",
        "20261124T120000Z-00000004-demo.html",
    ]
    assert len(home.failed_pages_of("x-demo")) == 5  # another account's pages are its own
    assert len(list(folder.glob("*-demo.json"))) == 2 + 5
    assert len(list(folder.glob("*-demo.map.toml"))) == 2 + 5


# -- caselog status ------------------------------------------------------------------------


def snapshot(at: datetime, complete: bool, reason: IncompleteReason | None = None) -> Snapshot:
    return Snapshot(
        snapshot_id=f"{at:%Y%m%dT%H%M%SZ}-00000000",
        account="shop",
        taken_at=at,
        profile="modern-en-US",
        complete=complete,
        reason=reason,
        detail="" if complete else "the Case Log is blank",
    )


def store_with(home: Home, name: str, *snaps: Snapshot) -> None:
    with Store.open(home.store_path(name)) as store:
        store.put_cases(
            [
                Case(
                    case_id="12345678901",
                    account=name,
                    subject="s",
                    status=CaseStatus.OPEN,
                    status_raw="Open",
                    created_at=NOW - timedelta(days=3),
                    first_seen_at=NOW,
                    last_seen_at=NOW,
                )
            ]
        )
        for snap in snaps:
            store.add_snapshot(snap)
        store.commit()


def settings_for(*accounts: Account, **watch: Any) -> Settings:
    return Settings(accounts=list(accounts), watch=WatchSettings(**watch))


def test_a_fresh_sync_is_healthy_and_the_report_says_everything(home: Home) -> None:
    store_with(home, "shop", snapshot(NOW - timedelta(minutes=30), True))
    report = status_report(home, settings_for(ACC), now=NOW)
    assert report.exit_code == 0 and report.problems == []
    (s,) = report.accounts
    assert s.last_complete_age_seconds == 1800 and s.incomplete_streak == 0 and not s.stale
    assert s.cases == 1 and s.store_bytes > 0 and s.failed_pages == 0
    assert s.session is not None and s.session.saved is False
    assert s.stale_after_hours == 3  # three hourly intervals


def test_an_incomplete_streak_is_counted_and_staleness_follows_the_setting(home: Home) -> None:
    store_with(
        home,
        "shop",
        snapshot(NOW - timedelta(hours=5), True),
        snapshot(NOW - timedelta(hours=2), False, IncompleteReason.BLANK_PAGE),
        snapshot(NOW - timedelta(hours=1), False, IncompleteReason.BLANK_PAGE),
    )
    lenient = status_report(home, settings_for(ACC, stale_after_hours=6), now=NOW)
    (s,) = lenient.accounts
    assert (s.incomplete_streak, s.incomplete_reason) == (2, "blank_page")
    assert lenient.exit_code == 0
    strict = status_report(home, settings_for(ACC, stale_after_hours=4), now=NOW)
    assert strict.exit_code == ExitCode.STALE == 6
    assert strict.problems == [
        "shop has had no complete sync for 5.0 h (more than the 4.0 h allowed by "
        "stale_after_hours); the last 2 sync(s) were incomplete (blank_page: the Case Log is "
        "blank)"
    ]


def test_the_default_tolerance_follows_the_interval() -> None:
    assert WatchSettings().stale_after == timedelta(hours=3)
    assert WatchSettings(interval_minutes=240).stale_after == timedelta(hours=12)
    assert WatchSettings(interval_minutes=5).stale_after == timedelta(hours=1)


def test_never_synced_is_stale_and_a_login_needed_is_exit_3(home: Home) -> None:
    report = status_report(home, settings_for(ACC), now=NOW)
    assert report.exit_code == ExitCode.STALE
    assert report.problems == [
        "shop has had no complete sync yet; run `caselog sync --account shop`"
    ]
    store_with(home, "shop", snapshot(NOW, False, IncompleteReason.LOGIN_NEEDED))
    report = status_report(home, settings_for(ACC), now=NOW)
    assert report.exit_code == ExitCode.AUTH
    assert report.accounts[0].session is not None
    assert report.accounts[0].session.needs_person


def test_archived_accounts_are_listed_never_judged(home: Home) -> None:
    store_with(home, "shop", snapshot(NOW - timedelta(minutes=5), True))
    store_with(home, "old-shop", snapshot(NOW - timedelta(days=300), True))
    report = status_report(home, settings_for(ACC), now=NOW)
    assert [(s.account, s.archived, s.stale) for s in report.accounts] == [
        ("shop", False, False),
        ("old-shop", True, False),
    ]
    assert report.exit_code == 0 and report.accounts[1].session is None
    only_archived = status_report(home, Settings(), now=NOW)
    assert [s.account for s in only_archived.accounts] == ["old-shop", "shop"]
    assert only_archived.exit_code == ExitCode.USAGE  # nothing is monitored


def test_the_watch_and_the_targets_are_in_the_report(home: Home, notice_sink: Any) -> None:
    store_with(home, "shop", snapshot(NOW - timedelta(minutes=5), True))
    journal = WatchJournal(home, 60, clock=lambda: NOW)
    journal.started(["shop"])
    journal.next_runs({"shop": NOW + timedelta(minutes=55)})
    NotifyJournal(home, clock=lambda: NOW).record(target_name(notice_sink.url), ok=False, error="x")
    settings = Settings(accounts=[ACC], notify=NotifySettings(urls=[notice_sink.url]))
    report = status_report(home, settings, now=NOW)
    watch = report.accounts[0].watch
    assert watch is not None and watch.running is True and watch.pid == os.getpid()
    assert watch.next_run_at == NOW + timedelta(minutes=55)
    (target,) = report.notify
    assert target.works is False and target.last_error == "x"
    assert report.problems == [f"the notification target {target.target} last refused a notice (x)"]
    data = json.loads(report.model_dump_json())
    assert data["accounts"][0]["watch"]["next_run_at"].startswith("2026-11-22T12:55")


def test_an_unknown_account_is_one_sentence(home: Home) -> None:
    from agent.errors import ConfigError

    with pytest.raises(ConfigError, match="no account named 'nope'"):
        status_report(home, settings_for(ACC), account="nope", now=NOW)


def test_expected_failures_stay_expected() -> None:
    assert issubclass(IncompleteRound, SiteUnavailable)
