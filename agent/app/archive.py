"""The seller's own archive, from the stores: ``caselog export`` and ``caselog import``.

The archive is "as of" the newest moment its data records (not the wall clock), so exporting
the same data twice gives the same bytes, and export -> import into an empty home -> export
gives the same bytes again. Flags are evaluated as of that moment too.

The archive's model and formats are :mod:`agent.export`; this module is where they meet the
stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from agent.app.accounts import StoredAccount, open_store, stored_accounts
from agent.app.flags import account_todo, case_links, flags_of
from agent.app.todo import draft_for
from agent.config import Settings
from agent.core.categories import categoriser_for
from agent.core.drafts import Draft
from agent.core.models import CaseStatus, Event, FlagKind, FlagState, Message
from agent.core.present import TodoItem, most_urgent_first
from agent.core.rules import FlagDecision
from agent.errors import ConfigError
from agent.export.archive import (
    AccountArchive,
    Archive,
    data_as_of,
    filter_archive,
    from_json_bytes,
)
from agent.export.render import ExportResult, write_archive
from agent.export.today import Today, TodayEntry
from agent.export.writer import previous_export
from agent.home import Home
from agent.store import FlagStateRecord

__all__ = [
    "DRAFTS_IN_REPORT",
    "FIRST_CHANGES",
    "ImportedAccount",
    "build_archive",
    "export_archive",
    "import_archive",
]

DRAFTS_IN_REPORT = 100
"""The report's Today list carries a ready draft for this many of its first items."""
FIRST_CHANGES = timedelta(days=7)
"""A first export into a folder shows what changed in this long before the data's moment."""


@dataclass(frozen=True)
class _Read:
    stored: StoredAccount
    decisions: dict[str, FlagDecision]


def build_archive(home: Home, settings: Settings, account: str | None = None) -> Archive:
    """Everything stored for the accounts, with their flags as of the data's newest moment."""
    return _build(home, settings, account)[0]


def _build(home: Home, settings: Settings, account: str | None) -> tuple[Archive, list[_Read]]:
    plain: list[AccountArchive] = []
    reads: list[_Read] = []
    for stored in stored_accounts(home, settings, account):
        with stored.open() as store:
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
            reads.append(_Read(stored, dict(store.flag_states())))
    as_of = data_as_of(plain)
    accounts = [
        a.model_copy(
            update={
                "flags": flags_of(
                    a.cases, a.messages, a.events, r.decisions, r.stored.account, settings, as_of
                )
            }
        )
        for a, r in zip(plain, reads, strict=True)
    ]
    return Archive(generated_at=as_of, accounts=accounts), reads


def _today(archive: Archive, reads: list[_Read], settings: Settings, since: datetime) -> Today:
    """The Today list as of the archive's moment: the same items as ``caselog due``, most
    urgent first; the first :data:`DRAFTS_IN_REPORT` with a draft; and each account's links."""
    now = archive.generated_at
    links: dict[str, dict[str, str]] = {}
    items: list[TodoItem] = []
    context: dict[str, tuple[AccountArchive, _Read]] = {}
    for acc, r in zip(archive.accounts, reads, strict=True):
        link = case_links(r.stored.account)
        links[acc.account] = {c.case_id: link(c) for c in acc.cases}
        due, _ = account_todo(r.stored.account, acc.flags, acc.cases, now)
        items += due
        context[acc.account] = (acc, r)
    items = most_urgent_first(items)
    drafted = [
        i for i in items[:DRAFTS_IN_REPORT] if i.kind is not FlagKind.REOPEN_WINDOW
    ]  # reopening is done on the site: no message to write
    drafts: dict[str, Draft] = {}
    for name in {i.account for i in drafted}:
        acc, r = context[name]
        wanted = {i.case_id for i in drafted if i.account == name}
        messages: dict[str, list[Message]] = {}
        for m in acc.messages:
            if m.case_id in wanted:
                messages.setdefault(m.case_id, []).append(m)
        events: dict[str, list[Event]] = {}
        for e in acc.events:
            if e.case_id in wanted:
                events.setdefault(e.case_id, []).append(e)
        cases = {c.case_id: c for c in acc.cases if c.case_id in wanted}
        for item in (i for i in drafted if i.account == name):
            drafts[item.flag_id] = draft_for(
                cases[item.case_id],
                messages.get(item.case_id, []),
                events.get(item.case_id, []),
                acc.flags,
                kind=_DRAFT_KINDS.get(item.kind, "follow-up"),
                account=r.stored.account,
                settings=settings,
                now=now,
            )
    return Today(
        due=[TodayEntry(i, drafts.get(i.flag_id)) for i in items],
        changes_since=since,
        links=links,
        drafts_up_to=DRAFTS_IN_REPORT,
    )


_DRAFT_KINDS = {
    FlagKind.ESCALATE: "escalation",
    FlagKind.REPLY_DUE: "reply",
    FlagKind.CLOSES_SOON: "reply",
}


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
    """Write the archive of the accounts in ``formats`` under ``out_dir``.

    The index pages open on Today (as of the data's moment) and on what changed since the
    last export into the same folder: the manifest keeps that export's moment. Exporting the
    same data again gives the same bytes (the "since" of the last export is kept too); a
    first export into a folder shows the :data:`FIRST_CHANGES` before the data's moment.
    """
    archive, reads = _build(home, settings, account)
    if since is not None or statuses:
        archive = filter_archive(archive, since=since, statuses=statuses or None)
        keep = {a.account for a in archive.accounts}
        reads = [r for r in reads if r.stored.name in keep]
    as_of = archive.generated_at
    changes_since = _changes_since(previous_export(out_dir), as_of)
    return write_archive(
        archive,
        out_dir,
        formats,
        now=as_of,
        categorise=categoriser_for(settings.rules),
        today=_today(archive, reads, settings, changes_since),
        manifest_extra={
            "as_of": as_of.isoformat(),
            "changes_since": changes_since.isoformat(),
        },
    )


def _changes_since(previous: dict[str, str], as_of: datetime) -> datetime:
    """Where "changed since the last export" starts (see :func:`export_archive`)."""
    try:
        last = datetime.fromisoformat(previous["as_of"])
        last_since = datetime.fromisoformat(previous["changes_since"])
    except (KeyError, ValueError):
        return as_of - FIRST_CHANGES
    if last.tzinfo is None or last_since.tzinfo is None:
        return as_of - FIRST_CHANGES
    if last == as_of:
        return last_since  # the same data again: the same page
    return min(last, as_of)


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
