"""A signed-in session carried from one machine to another: Playwright's storage state.

``caselog login --headed --save-state FILE`` on a desktop writes the browser context's
``storage_state()`` (cookies, and each origin's localStorage) to FILE, mode 0600, as
shot-scraper's ``auth`` command does; ``caselog login --import-state FILE`` on a server
takes it in as the account's session. A server has no screen to solve a captcha or type an
SMS code on, so this is how a person signs in for it.

What is taken in is checked first, and refused in one sentence when it is not what it should
be: a JSON object with a ``cookies`` list (each cookie with a name, value, domain and path)
and an ``origins`` list, holding at least one cookie for the account's own Seller Central
host that has not expired. Cookies and origins for other hosts are dropped: the agent's
browser may talk only to the account's hosts, so they could never be sent, and a file saved
from a person's everyday browser may carry sessions of other sites that have no business
being copied into the home.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agent.config import Account
from agent.errors import ConfigError

__all__ = [
    "MAX_STATE_BYTES",
    "CheckedState",
    "SessionFile",
    "account_hosts",
    "check_state",
    "read_session_file",
]

MAX_STATE_BYTES = 5 * 1024 * 1024
"""A real storage state is a few kilobytes; anything past this is not one."""

_COOKIE_FIELDS = ("name", "value", "domain", "path")
_SAME_SITE = ("Strict", "Lax", "None")


def account_hosts(account: Account) -> set[str]:
    """The hosts the account's browser may talk to: its site's, and ``allowed_hosts``."""
    host = (urlsplit(account.base_url).hostname or "").lower()
    return {host, *(h.lower() for h in account.allowed_hosts)} - {""}


def _domain_matches(domain: str, hosts: set[str]) -> bool:
    """RFC 6265 domain matching: the cookie's domain (``.amazon.com`` or a host) covers one
    of ``hosts``."""
    bare = domain.lower().lstrip(".")
    return bool(bare) and any(h == bare or h.endswith("." + bare) for h in hosts)


def _expiry(cookie: dict[str, Any]) -> datetime | None:
    """When a persistent cookie expires; None for a session cookie (``expires`` -1)."""
    value = cookie.get("expires", -1)
    if not isinstance(value, int | float) or value <= 0 or not math.isfinite(value):
        return None
    return datetime.fromtimestamp(value, UTC)


@dataclass(frozen=True)
class CheckedState:
    """A storage state fit for one account: what to write, and what was kept."""

    data: dict[str, Any]
    cookies: int
    dropped: int

    def to_bytes(self) -> bytes:
        return json.dumps(self.data).encode()


def _not_a_state(source: str, why: str) -> ConfigError:
    return ConfigError(
        f"{source} is not a Playwright storage state ({why}); make one with `caselog login "
        "--headed --save-state FILE` on a machine with a screen"
    )


def check_state(raw: bytes, source: str, account: Account, now: datetime) -> CheckedState:
    """Check that ``raw`` is a storage state holding a live session for ``account``'s host;
    return it with other hosts' cookies and origins removed. Refuse with one sentence."""
    if len(raw) > MAX_STATE_BYTES:
        raise _not_a_state(source, f"it is larger than {MAX_STATE_BYTES // (1024 * 1024)} MB")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise _not_a_state(source, "it is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("cookies"), list):
        raise _not_a_state(source, "it has no list of cookies")
    origins = data.get("origins", [])
    if not isinstance(origins, list) or not all(
        isinstance(o, dict) and isinstance(o.get("origin"), str) for o in origins
    ):
        raise _not_a_state(source, "its origins are not a list of origins")
    cookies: list[dict[str, Any]] = data["cookies"]
    for number, cookie in enumerate(cookies, 1):
        if not isinstance(cookie, dict) or not all(
            isinstance(cookie.get(f), str) for f in _COOKIE_FIELDS
        ):
            raise _not_a_state(source, f"cookie {number} lacks a name, value, domain or path")
        # what the browser would refuse when it loads the state (and start signed out)
        expires = cookie.get("expires", -1)
        if isinstance(expires, bool) or not isinstance(expires, int | float):
            raise _not_a_state(source, f"cookie {number} has an expiry that is not a number")
        if cookie.get("sameSite", "Lax") not in _SAME_SITE:
            raise _not_a_state(source, f"cookie {number} has an unknown sameSite value")
    hosts = account_hosts(account)
    mine = [c for c in cookies if _domain_matches(c["domain"], hosts)]
    site = ", ".join(sorted(hosts))
    if not mine:
        seen = sorted({c["domain"].lstrip(".") for c in cookies})
        found = f"it has cookies for {', '.join(seen[:3])}" if seen else "it has no cookies"
        raise ConfigError(
            f"{source} holds no session for account {account.name} at {site} ({found}); "
            f"sign in to that site with `caselog login --account {account.name} --headed "
            "--save-state FILE` and import that file"
        )
    expiries = [_expiry(c) for c in mine]
    if all(e is not None and e <= now for e in expiries):
        last = max(e for e in expiries if e is not None)
        raise ConfigError(
            f"the session in {source} expired on {last:%Y-%m-%d %H:%M} UTC; sign in again with "
            f"`caselog login --account {account.name} --headed --save-state FILE` and import "
            "the new file"
        )
    kept_origins = [o for o in origins if (urlsplit(o["origin"]).hostname or "") in hosts]
    return CheckedState(
        data={"cookies": mine, "origins": kept_origins},
        cookies=len(mine),
        dropped=len(cookies) - len(mine) + len(origins) - len(kept_origins),
    )


@dataclass(frozen=True)
class SessionFile:
    """What the saved session of an account says without opening a browser."""

    path: Path
    exists: bool
    saved_at: datetime | None = None
    # when the first and the last of its persistent cookies for the account's hosts expire
    # (which of them is the sign-in the site decides; cookies without a date are left out)
    first_expiry: datetime | None = None
    last_expiry: datetime | None = None
    cookies: int = 0
    readable: bool = True


def read_session_file(path: Path, account: Account) -> SessionFile:
    """The saved session's age (the file's time), how many cookies it holds for the account's
    hosts, and when the first and the last of those with a date expire."""
    if not path.is_file():
        return SessionFile(path, exists=False)
    saved_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    try:
        data = json.loads(path.read_bytes())
        cookies = [
            c
            for c in data.get("cookies", [])
            if isinstance(c, dict)
            and isinstance(c.get("domain"), str)
            and _domain_matches(c["domain"], account_hosts(account))
        ]
    except (OSError, ValueError, AttributeError):
        return SessionFile(path, exists=True, saved_at=saved_at, readable=False)
    dated = [e for e in (_expiry(c) for c in cookies) if e is not None]
    return SessionFile(
        path,
        exists=True,
        saved_at=saved_at,
        first_expiry=min(dated) if dated else None,
        last_expiry=max(dated) if dated else None,
        cookies=len(cookies),
    )
