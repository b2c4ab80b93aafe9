"""The seller's own archive, from the stores: ``caselog export`` and ``caselog import``.

The archive is "as of" the newest moment its data records (not the wall clock), so exporting
the same data twice gives the same bytes, and export -> import into an empty home -> export
gives the same bytes again. Flags are evaluated as of that moment too.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from agent.app.todo import account_flags
from agent.config import Account, Settings
from agent.core.models import CaseStatus, FlagState
from agent.errors import ConfigError
from agent.export.archive import (
    AccountArchive,
    Archive,
    ExportResult,
    data_as_of,
    filter_archive,
    from_json_bytes,
    write_archive,
)
from agent.home import home_dir
from agent.store import FlagStateRecord, Store, open_store, store_path

DEFAULT_BASE_URL = "https://sellercentral.amazon.com"


def stored_accounts(settings: Settings, name: str | None = None) -> list[Account]:
    """Accounts that have a database: the configured ones, and any other database in the home
    (an imported archive), with the time zone its store remembers."""
    if name is not None:
        configured = {a.name: a for a in settings.accounts}
        if name in configured:
            return [configured[name]]
        if not store_path(name).exists():
            raise ConfigError(f"no account named {name!r} has data in {home_dir()}")
    found = {a.name: a for a in settings.accounts if store_path(a.name).exists()}
    for path in sorted((home_dir() / "data").glob("*.json")):
        if path.stem not in found and (name is None or path.stem == name):
            with Store.open(path, readonly=True) as store:
                tz = store.meta().get("timezone") or "UTC"
            found[path.stem] = Account(name=path.stem, base_url=DEFAULT_BASE_URL, timezone=tz)
    return [found[n] for n in sorted(found) if name is None or n == name]


def build_archive(settings: Settings, account: str | None = None) -> Archive:
    """Everything stored for the accounts, with their flags as of the data's newest moment."""
    parts: list[tuple[Account, Store]] = []
    plain: list[AccountArchive] = []
    stores = []
    try:
        for acc in stored_accounts(settings, account):
            store = Store.open(store_path(acc.name), readonly=True)
            stores.append(store)
            parts.append((acc, store))
            plain.append(
                AccountArchive(
                    account=acc.name,
                    timezone=acc.timezone,
                    cases=store.cases(),
                    messages=store.messages(),
                    events=store.events(),
                    flags=[],
                )
            )
        as_of = data_as_of(plain)
        accounts = [
            a.model_copy(update={"flags": account_flags(store, acc, settings, as_of)})
            for a, (acc, store) in zip(plain, parts, strict=True)
        ]
    finally:
        for store in stores:
            store.close()
    return Archive(generated_at=as_of, accounts=accounts)


def export_archive(
    settings: Settings,
    out_dir: Path,
    formats: set[str],
    *,
    account: str | None = None,
    since: datetime | None = None,
    statuses: set[CaseStatus] | None = None,
) -> ExportResult:
    archive = build_archive(settings, account)
    if since is not None or statuses:
        archive = filter_archive(archive, since=since, statuses=statuses or None)
    return write_archive(archive, out_dir, formats, now=archive.generated_at)


def default_out_dir() -> Path:
    return home_dir() / "archive"


def import_archive(path: Path) -> dict[str, int]:
    """Restore an ``archive.json`` into this home; each account's database must be empty."""
    try:
        archive = from_json_bytes(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"cannot read {path} ({exc.strerror}); check the path") from None
    counts: dict[str, int] = {}
    for acc in archive.accounts:
        with open_store(acc.account) as store:
            if store.cases() or store.messages() or store.events():
                raise ConfigError(
                    f"account {acc.account} already has data in {store.path}; import into an "
                    "empty home (set CASELOG_HOME to a new folder)"
                )
            store.put_cases(acc.cases)
            store.put_messages(acc.messages)
            store.add_events(acc.events)
            store.set_flag_states(
                FlagStateRecord(
                    flag_id=f.flag_id,
                    state=f.state,
                    snoozed_until=f.snoozed_until,
                    updated_at=archive.generated_at,
                )
                for f in acc.flags
                if f.state is not FlagState.ACTIVE
            )
            store.set_meta(timezone=acc.timezone)
            store.commit()
        counts[acc.account] = len(acc.cases)
    return counts
