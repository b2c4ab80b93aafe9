"""``caselog login``: sign in to an account and keep the session (cookies, mode 0600)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from agent.app.maps import maps_in_use
from agent.config import Account
from agent.home import Home
from agent.site.session import BrowserSession
from agent.site.signin import wait_for_person

__all__ = ["login"]


def login(
    home: Home,
    account: Account,
    *,
    headed: bool,
    timeout_s: float = 600,
    say: Callable[[str], None] = lambda line: None,
) -> Path:
    """Sign in to ``account`` (a person does it in a visible browser with ``headed``; else
    with the configured credentials) and save the session; return where it was saved."""
    _, smap = maps_in_use(home, account)[0]
    landing = smap.urls.lobby
    with BrowserSession(headless=not headed) as session:
        ctx = session.context(account, home.state_path(account.name))
        try:
            if headed:
                say(f"Sign in to {account.base_url} in the browser window…")
                wait_for_person(ctx, landing, timeout_s)
            else:
                ctx.ensure_signed_in(landing)
                ctx.save_state()
        finally:
            ctx.close()
    return ctx.state_file
