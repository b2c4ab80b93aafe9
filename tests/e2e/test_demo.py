"""`caselog demo` from a fresh home: prints changes, due items and a draft, exits 0, and
stays under 60 seconds on this machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_demo_from_a_fresh_home(tmp_path: Path) -> None:
    env = {**os.environ, "CASELOG_HOME": str(tmp_path / "fresh-home"), "COLUMNS": "160"}
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "agent", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    seconds = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "What changed while the clock ran" in out
    assert "Amazon wrote" in out and ("Status changed from" in out or "First seen" in out)
    assert "What is due now" in out and ("Reply due" in out or "Follow up" in out)
    assert "reply_due" not in out and "PENDING_AMAZON_ACTION" not in out
    assert "Subject: Urgent Escalation Request: " in out
    assert "calendar:" in out
    assert seconds < 60, f"the demo took {seconds:.1f} s"


def test_demo_json(tmp_path: Path) -> None:
    env = {**os.environ, "CASELOG_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [sys.executable, "-m", "agent", "demo", "--days", "1", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert all(s["complete"] for s in report["syncs"])
    assert report["changes"] and report["due"]
    assert Path(report["calendar"]).read_text().startswith("BEGIN:VCALENDAR")
