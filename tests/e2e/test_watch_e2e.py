"""`caselog watch` with a short interval and a local webhook as the apprise target: it keeps
running through an injected failure, says "monitoring is broken" once, notifies each newly
due item exactly once, and stops cleanly on SIGTERM."""

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
        wait_for(lambda: any("need action" in r["title"] for r in received), 90, "the first notice")
        first = [r for r in received if "need action" in r["title"]]
        assert len(first) == 1
        due_lines = [line for line in first[0]["message"].splitlines() if line.startswith("- case")]
        assert due_lines, first[0]["message"]
        done = rounds()
        wait_for(lambda: rounds() >= done + 2, 90, "two more rounds")  # nothing new: silence
        assert len([r for r in received if "need action" in r["title"]]) == 1

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
    notified = [
        line for r in received for line in r["message"].splitlines() if line.startswith("- case")
    ]
    assert len(notified) == len(set(notified)), "an item was notified twice"
