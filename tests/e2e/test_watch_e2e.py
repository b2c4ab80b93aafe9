"""`caselog watch` with a short interval and a local webhook as the apprise target: it keeps
running through an injected failure, says "monitoring is broken" once, notifies each newly
due item exactly once, and stops cleanly on SIGTERM. Without a target it refuses to start
(unless --no-notify); a target that fails once gets the flags on the next round, once."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_watch_notifies_once_survives_failure_and_stops_on_sigterm(cli, site, notice_sink) -> None:  # type: ignore[no-untyped-def]
    url, received = notice_sink.url, notice_sink.received
    config = cli.home / "caselog.toml"
    config.write_text(
        config.read_text()
        + f"""
[watch]
interval_minutes = 0.05
jitter_seconds = 0
failures_before_alert = 2

[fleet]
backoff_minutes = 0  # a failed round comes again at the next interval (3 s), not after a rest

[notify]
urls = ["{url}"]
"""
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent", "watch", "--account", "demo-outdoor", "-v"],
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    log: list[str] = []  # watch's stderr, one line per round or failure, read as it comes
    reader = threading.Thread(target=lambda: log.extend(iter(proc.stderr.readline, "")))
    reader.start()

    def rounds() -> int:
        return sum(": complete in " in line for line in log)

    def failures() -> int:
        return sum(": incomplete in " in line for line in log)

    try:
        wait_for(lambda: any(due_lines(r) for r in received), 90, "the first notice")
        first = [r for r in received if due_lines(r)]
        assert len(first) == 1
        assert "Needs action" in first[0]["message"] and "view-case" in first[0]["message"]
        done = rounds()
        wait_for(lambda: rounds() >= done + 2, 90, "two more rounds")  # nothing new: silence
        assert len([r for r in received if due_lines(r)]) == 1

        site.admin.set_faults(blank=True)  # the injected failure
        wait_for(
            lambda: any("monitoring is broken" in r["message"] for r in received),
            90,
            "the broken-monitoring notice",
        )
        failed = failures()
        wait_for(lambda: failures() >= failed + 2, 90, "two more failed rounds")  # said once
        assert len([r for r in received if "monitoring is broken" in r["message"]]) == 1
        site.admin.clear_faults()
        wait_for(lambda: any("works again" in r["title"] for r in received), 90, "recovery")
        assert proc.poll() is None, "a failing job must never stop the loop"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        reader.join(timeout=10)
    err = "".join(log)
    assert proc.returncode == 0, err
    assert "stopped" in err
    assert "Traceback" not in err  # a blank Case Log is expected: one sentence per round
    assert "incomplete in" in err and "(2 in a row): blank_page: " in err
    notified = [line for r in received for line in due_lines(r)]
    assert len(notified) == len(set(notified)), "an item was notified twice"


def due_lines(notice: dict[str, Any]) -> list[str]:
    """The due items of a notice: the lines between "Needs action" and "What changed"."""
    lines = notice["message"].split("What changed")[0].splitlines()
    return [line for line in lines if line.startswith("- case")]


def with_target(cli: Any, url: str | None) -> None:
    config = cli.home / "caselog.toml"
    text = config.read_text().split("\n[watch]")[0]
    text += "\n[watch]\ninterval_minutes = 0.05\njitter_seconds = 0\n"
    if url:
        text += f'\n[notify]\nurls = ["{url}"]\n'
    config.write_text(text)


def test_watch_without_a_target_refuses_to_start(cli) -> None:  # type: ignore[no-untyped-def]
    with_target(cli, None)
    proc = cli("watch", "--rounds", "1")
    assert proc.returncode == 2, proc.stderr
    assert "no notification target" in proc.stderr and "--no-notify" in proc.stderr
    assert "complete in" not in proc.stderr  # it never synced


def test_a_failed_delivery_is_retried_next_round_exactly_once(cli, site, notice_sink) -> None:  # type: ignore[no-untyped-def]
    with_target(cli, notice_sink.url)
    notice_sink.fail_next = 1
    proc = cli("watch", "--account", "demo-outdoor", "--rounds", "3", timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert notice_sink.refused == 1
    assert "notice NOT delivered, will retry" in proc.stderr
    delivered = [line for r in notice_sink.received for line in due_lines(r)]
    assert delivered, notice_sink.received
    assert len(delivered) == len(set(delivered)), "an item was delivered twice"
    assert len([r for r in notice_sink.received if due_lines(r)]) == 1  # round 2 only
    assert proc.stderr.count(", notified") == 1  # round 3: nothing new, nothing sent


def test_no_notify_marks_nothing_so_a_later_target_hears_everything(cli, site, notice_sink) -> None:  # type: ignore[no-untyped-def]
    with_target(cli, None)
    quiet = cli("watch", "--account", "demo-outdoor", "--rounds", "1", "--no-notify")
    assert quiet.returncode == 0, quiet.stderr
    assert "not notified (--no-notify)" in quiet.stderr
    with_target(cli, notice_sink.url)
    loud = cli("watch", "--account", "demo-outdoor", "--rounds", "1", timeout=300)
    assert loud.returncode == 0, loud.stderr
    assert any(due_lines(r) for r in notice_sink.received), notice_sink.received
