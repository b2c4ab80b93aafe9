"""Which accounts a command works on, and their stores: the one definition every command uses.

An account is *configured* when ``caselog.toml`` names it. An account whose database is in
the home but not in ``caselog.toml`` (restored by ``caselog import``, or removed from the
file) is *archived*: every read command shows it (``cases``, ``show``, ``search``, ``due``,
``export``...), nothing syncs it, and its time zone is the one its store remembers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from agent.config import Account, Settings
from agent.errors import ConfigError
from agent.home import Home
from agent.store import Store

ARCHIVED_BASE_URL = "https://sellercentral.amazon.com"
"""The site an archived account's links point to (its own is not known without its config)."""


@dataclass(frozen=True)
class StoredAccount:
    """An account that has a database in the home."""

    account: Account
    path: Path
    archived: bool

    @property
    def name(self) -> str:
        return self.account.name

    def open(self, *, readonly: bool = True, lock_timeout: float = 30.0) -> Store:
        return Store.open(self.path, readonly=readonly, lock_timeout=lock_timeout)


def open_store(
    home: Home, account: str, *, readonly: bool = False, lock_timeout: float = 30.0
) -> Store:
    """The database of ``account`` in ``home`` (created on the first commit)."""
    return Store.open(home.store_path(account), readonly=readonly, lock_timeout=lock_timeout)


def stored_accounts(home: Home, settings: Settings, name: str | None = None) -> list[StoredAccount]:
    """The accounts with data in ``home``: configured ones (in ``caselog.toml`` order), then
    archived ones (by name). With ``name``, only that account: one that is neither configured
    nor stored is a :class:`ConfigError` naming the known ones."""
    configured = {a.name: a for a in settings.accounts}
    if name is not None and name not in configured and not home.has_store(name):
        known = sorted(set(configured) | set(home.stored_accounts()))
        raise ConfigError(
            f"no account named {name!r} in caselog.toml or in {home.root}; known accounts: "
            f"{', '.join(known) or 'none'}"
        )
    found = [
        StoredAccount(acc, home.store_path(acc.name), archived=False)
        for acc in settings.accounts
        if (name is None or acc.name == name) and home.has_store(acc.name)
    ]
    for stem in home.stored_accounts():
        if stem in configured or (name is not None and stem != name):
            continue
        path = home.store_path(stem)
        with Store.open(path, readonly=True) as store:
            tz = store.meta().get("timezone") or "UTC"
        account = Account(name=stem, base_url=ARCHIVED_BASE_URL, timezone=tz)
        found.append(StoredAccount(account, path, archived=True))
    return found


def each_store(
    home: Home, settings: Settings, name: str | None = None
) -> Iterator[tuple[StoredAccount, Store]]:
    """Each account with data and its store, open read-only while the caller looks at it."""
    for stored in stored_accounts(home, settings, name):
        with stored.open() as store:
            yield stored, store
