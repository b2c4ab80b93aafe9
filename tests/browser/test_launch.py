"""The agent's own launcher starts a real Chromium here (no skip: a missing browser fails).

Run in a child process: this process already runs pytest-playwright's Playwright.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

CODE = """
from agent.site.session import BrowserSession
with BrowserSession() as session:
    page = session.browser.new_page()
    page.set_content("<p id=x>hello</p>")
    print(page.inner_text("#x"))
"""


@pytest.mark.browser
def test_agent_launches_chromium() -> None:
    proc = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "hello"
