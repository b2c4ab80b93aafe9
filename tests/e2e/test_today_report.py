"""The report opens on "Today", and Today is `caselog due`: the demo's export in Chromium at
1280x900, compared item by item with `caselog due --json --at <the archive's moment>`.

Screenshots of the Today section and of a case page are saved to
``test-results/screenshots/`` (``report-today.png``, ``report-case.png``) for people to look
at; the assertions are on the page itself.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"


def caselog(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        env={**os.environ, "CASELOG_HOME": str(home), "COLUMNS": "160"},
        capture_output=True,
        text=True,
        timeout=240,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("today-report")
    proc = caselog(root, "demo")
    assert proc.returncode == 0, proc.stderr
    return root / "demo"


def test_today_is_caselog_due_and_the_report_fits_1280(demo_home: Path, browser: Browser) -> None:
    archive = json.loads((demo_home / "archive" / "archive.json").read_text())
    as_of = archive["generated_at"]
    proc = caselog(demo_home, "due", "--json", "--at", as_of)
    assert proc.returncode == 0, proc.stderr
    due = json.loads(proc.stdout)["due"]
    assert due, "the demo has due items"

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto((demo_home / "archive" / "html" / "index.html").as_uri())
    page.wait_for_selector("body[data-ready='1']")

    # The page opens on Today: it is the first section of <main>.
    first = page.eval_on_selector("main > section", "s => s.id")
    assert first == "today"
    shown: list[dict[str, Any]] = page.eval_on_selector_all(
        "#today-list > li.todo",
        """items => items.map(li => ({
            flag_id: li.dataset.flagId,
            case_id: li.dataset.caseId,
            account: li.dataset.account,
            kind: li.dataset.kind,
            label: li.querySelector('.todo-label').textContent,
            subject: li.querySelector('.todo-subject').textContent,
            action: li.querySelector('.todo-action').textContent,
            by_when: li.querySelector('.todo-when').textContent,
            due_at: li.querySelector('.todo-when').getAttribute('datetime'),
            why: li.querySelector('.todo-why bdi').textContent,
            url: (li.querySelector('a.sc-link') || {}).href || '',
        }))""",
    )
    keys = ("flag_id", "case_id", "account", "kind", "label", "subject", "action", "by_when",
            "due_at", "why", "url")  # fmt: skip
    assert shown == [{k: item[k] for k in keys} for item in due]
    assert all(item["url"].startswith(archive_base(demo_home)) for item in due)

    # Drafts are there, with a copy button that works.
    drafts = page.locator("#today-list details.draft")
    assert drafts.count() == len([i for i in due if i["kind"] != "reopen_window"])
    drafts.first.locator("summary").click()
    button = drafts.first.locator("button.copy")
    button.click()
    expect(button).to_have_attribute("data-copied", re.compile("^[01]$"))
    text = drafts.first.locator("pre.draft-text").text_content() or ""
    assert text.startswith("Subject: ") and due[0]["case_id"] in text

    # No internal values anywhere a seller reads.
    body = page.inner_text("body")
    for code in ("PENDING_AMAZON_ACTION", "NEEDS_YOUR_ATTENTION", "reply_due", "closes_soon",
                 "reopen_window", "ATVPDKIKX0DER", '{"status"'):  # fmt: skip
        assert code not in body, code
    assert "Changed since the last export" in body

    # The table fits 1280 px: nothing scrolls sideways.
    page.locator("#h-cases").scroll_into_view_if_needed()
    wrap = page.eval_on_selector(".table-wrap", "w => [w.scrollWidth, w.clientWidth]")
    assert wrap[0] <= wrap[1], wrap
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#today").scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / "report-today.png"))

    # A case page: human labels, the timeline in sentences, a link to Seller Central.
    page.locator("#today-list li.todo a[href^='cases/']").first.click()
    page.wait_for_selector("#h-timeline")
    link = page.locator("header a.sc-link")
    assert link.get_attribute("href") == due[0]["url"]
    assert link.get_attribute("rel") == "noopener noreferrer"
    timeline = page.inner_text("ol.timeline")
    assert '{"status"' not in timeline and "NEEDS_YOUR_ATTENTION" not in timeline
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.screenshot(path=str(SCREENSHOTS / "report-case.png"))
    context.close()


def archive_base(demo_home: Path) -> str:
    toml = (demo_home / "caselog.toml").read_text()
    return toml.split('base_url = "', 1)[1].split('"', 1)[0]


def test_the_demos_calendar_is_in_business_hours_and_never_in_the_past(demo_home: Path) -> None:
    from zoneinfo import ZoneInfo

    import icalendar

    zone = ZoneInfo("America/Los_Angeles")  # the demo accounts' zone, hours 9-17 Mon-Fri
    archive = json.loads((demo_home / "archive" / "archive.json").read_text())
    as_of = datetime.fromisoformat(archive["generated_at"].replace("Z", "+00:00"))
    cal = icalendar.Calendar.from_ical((demo_home / "calendar" / "caselog.ics").read_bytes())
    events = list(cal.walk("VEVENT"))
    assert events
    for e in events:
        start = e.decoded("dtstart").astimezone(zone)
        end = e.decoded("dtend").astimezone(zone)
        assert start.weekday() < 5 and start.hour >= 9 and (end.hour, end.minute) <= (17, 0)
        assert start >= as_of
        assert "view-case" in str(e["url"])
        assert list(e.walk("VALARM"))
    uids = [str(e["uid"]) for e in events]
    assert len(uids) == len(set(uids))
