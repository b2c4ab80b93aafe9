"""The agent's own launcher starts a real Chromium here (no skip: a missing browser fails)."""

from __future__ import annotations

import pytest

from agent.session import BrowserSession


@pytest.mark.browser
def test_agent_launches_chromium() -> None:
    with BrowserSession() as session:
        page = session.browser.new_page()
        page.set_content("<p id=x>hello</p>")
        assert page.inner_text("#x") == "hello"
        page.close()
