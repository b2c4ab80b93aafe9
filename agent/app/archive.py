"""The seller's own archive, from the stores: ``caselog export`` and ``caselog import``.

The archive is "as of" the newest moment its data records (not the wall clock), so exporting
the same data twice gives the same bytes, and export -> import into an empty home -> export
gives the same bytes again. Flags are evaluated as of that moment too.

The archive's model and formats are :mod:`agent.export`; this module is where they meet the
stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from agent.app.accounts import StoredAccount, open_store, stored_accounts
from agent.app.todo import account_flags
from agent.config import Settings
from agent.core.categories import categoriser_for
from agent.core.models import CaseStatus, FlagState
from agent.errors import ConfigError
from agent.export.archive import (
    AccountArchive,
    Archive,
    data_as_of,
    filter_archive,
    from_json_bytes,
)
from agent.export.render import ExportResult, write_archive
from agent.home import Home
from agent.store import FlagStateRecord, Store

__all__ = ["ImportedAccount", "build_archive", "export_archive", "import_archive"]


def build_archive(home: Home, settings: Settings, account: str | None = None) -> Archive:
    """Everything stored for the accounts, with their flags as of the data's newest moment."""
    parts: list[tuple[StoredAccount, Store]] = []
    plain: list[AccountArchive] = []
    stores: list[Store] = []
    try:
        for stored in stored_accounts(home, settings, account):
            store = stored.open()
            stores.append(store)
            parts.append((stored, store))
            plain.append(
                AccountArchive(
                    account=stored.name,
                    timezone=stored.account.timezone,
                    cases=store.cases(),
                    messages=store.messages(),
                    events=store.events(),
                    flags=[],
                )
            )
        as_of = data_as_of(plain)
        accounts = [
            a.model_copy(update={"flags": account_flags(store, s.account, settings, as_of)})
            for a, (s, store) in zip(plain, parts, strict=True)
        ]
    finally:
        for store in stores:
            store.close()
    return Archive(generated_at=as_of, accounts=accounts)


def export_archive(
    home: Home,
    settings: Settings,
    out_dir: Path,
    formats: set[str],
    *,
    account: str | None = None,
    since: datetime | None = None,
    statuses: set[CaseStatus] | None = None,
) -> ExportResult:
    """Write the archive of the accounts in ``formats`` under ``out_dir``."""
    archive = build_archive(home, settings, account)
    if since is not None or statuses:
        archive = filter_archive(archive, since=since, statuses=statuses or None)
    return write_archive(
        archive,
        out_dir,
        formats,
        now=archive.generated_at,
        categorise=categoriser_for(settings.rules),
    )


@dataclass(frozen=True)
class ImportedAccount:
    """What ``caselog import`` restored for one account, and whether anything syncs it."""

    account: str
    cases: int
    messages: int
    events: int
    configured: bool
    store_file: Path

    def next_step(self) -> str:
        """One sentence: how the account is seen now, and how to start syncing it."""
        if self.configured:
            return (
                f"{self.account} is in caselog.toml: `caselog sync --account {self.account}` "
                "continues from what was imported"
            )
        return (
            f"{self.account} is not in caselog.toml, so it is archived: `caselog cases`, "
            "`show`, `search`, `due`, `export` and `status` show it, nothing syncs it; to sync "
            f"it, run `caselog init --account {self.account}` (or add an [[accounts]] table "
            f"named {self.account}), then `caselog sync --account {self.account}`"
        )


def import_archive(home: Home, settings: Settings, path: Path) -> list[ImportedAccount]:
    """Restore an ``archive.json`` into ``home``; each account's database must be empty."""
    try:
        archive = from_json_bytes(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"cannot read {path} ({exc.strerror}); check the path") from None
    configured = {a.name for a in settings.accounts}
    done: list[ImportedAccount] = []
    for acc in archive.accounts:
        with open_store(home, acc.account) as store:
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
        done.append(
            ImportedAccount(
                account=acc.account,
                cases=len(acc.cases),
                messages=len(acc.messages),
                events=len(acc.events),
                configured=acc.account in configured,
                store_file=home.store_path(acc.account),
            )
        )
    return done
