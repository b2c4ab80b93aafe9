"""The account's browser context talks only to the account's own host, and never loads
images, fonts or media."""

from __future__ import annotations

import pytest

from agent.config import Account

FETCH = """async (url) => {
  try { const r = await fetch(url); return "status " + r.status; }
  catch (e) { return "blocked"; }
}"""


@pytest.mark.browser
def test_other_hosts_and_heavy_resources_are_blocked(mock_server, agent_session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    account = Account(name="shop", base_url=mock_server.url)
    with agent_session as session:
        ctx = session.context(account, tmp_path / "state.json")
        try:
            ctx.goto("/ap/signin")
            page = ctx.page
            assert page.evaluate(FETCH, mock_server.url + "/ap/signin") == "status 200"
            assert page.evaluate(FETCH, "http://localhost:9/tracker.js") == "blocked"
            assert page.evaluate(FETCH, "https://m.media-amazon.com/images/logo.js") == "blocked"
            assert page.evaluate(FETCH, mock_server.url + "/static/logo.png") == "blocked"
            assert page.evaluate(FETCH, mock_server.url + "/static/font.woff2?v=1") == "blocked"
            assert ctx.blocked == 4
        finally:
            ctx.close()
