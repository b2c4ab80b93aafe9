"""``caselog login``: sign in to an account and keep the session (cookies, mode 0600); carry a
session signed in on one machine to another (``--save-state`` / ``--import-state``).

A server has no screen for a captcha or an SMS code, so a person signs in on a desktop with
``caselog login --headed --save-state FILE`` and the server takes the file with ``caselog
login --import-state FILE`` (see :mod:`agent.site.storage_state` for what is checked).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from agent.app.maps import maps_in_use
from agent.config import Account
from agent.core.models import utcnow
from agent.errors import ConfigError
from agent.home import Home, write_private
from agent.site.session import BrowserSession, require_display
from agent.site.signin import wait_for_person
from agent.site.storage_state import MAX_STATE_BYTES, check_state

__all__ = ["ImportedState", "import_state", "login"]


def login(
    home: Home,
    account: Account,
    *,
    headed: bool,
    timeout_s: float = 600,
    save_to: Path | None = None,
    say: Callable[[str], None] = lambda line: None,
) -> Path:
    """Sign in to ``account`` (a person does it in a visible browser with ``headed``; else
    with the configured credentials) and save the session, also to ``save_to`` when given;
    return the account's state file."""
    if save_to is not None and save_to.is_dir():
        raise ConfigError(f"--save-state {save_to} is a folder; name a file, e.g. session.json")
    if headed:
        require_display(account.name)
    _, smap = maps_in_use(home, account)[0]
    landing = smap.urls.lobby
    with BrowserSession(headless=not headed) as session:
        ctx = session.context(account, home.state_path(account.name), for_person=headed)
        try:
            if headed:
                say(f"Sign in to {account.base_url} in the browser window…")
                wait_for_person(ctx, landing, timeout_s)
            else:
                ctx.ensure_signed_in(landing)
            ctx.save_state(also_to=save_to)
        finally:
            ctx.close()
    return ctx.state_file


@dataclass(frozen=True)
class ImportedState:
    account: str
    source: Path
    state_file: Path
    cookies: int
    dropped: int


def import_state(
    home: Home, account: Account, source: Path, *, now: datetime | None = None
) -> ImportedState:
    """Take a storage state saved elsewhere as ``account``'s session (checked, other hosts'
    cookies dropped, written 0600); nothing is written when it is refused."""
    try:
        with source.open("rb") as fh:
            raw = fh.read(MAX_STATE_BYTES + 1)  # more than that is refused: no need to read it
    except FileNotFoundError:
        raise ConfigError(f"{source} does not exist; check the --import-state path") from None
    except IsADirectoryError:
        raise ConfigError(f"{source} is a folder; name the file --save-state wrote") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {source} ({exc.strerror}); check its permissions") from None
    checked = check_state(raw, str(source), account, now or utcnow())
    target = home.state_path(account.name)
    write_private(target, checked.to_bytes())
    return ImportedState(account.name, source, target, checked.cookies, checked.dropped)
