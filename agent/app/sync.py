"""``caselog sync``: read one account's Case Log into its store, completely or not at all.

A run is *complete* only if every marketplace's list was read page by page, the rows add up
to the count the site states, and every detail that needed reading was read. Otherwise the
snapshot is stored as incomplete with its reason, and nothing downstream treats it as truth:
no events come from it. Cases and messages that *were* read are still kept (they are true).

:meth:`AccountSync.run` reads like the table of contents of a sync: open the store and the
browser context, read each marketplace (:meth:`~AccountSync._read_marketplace`), make the
snapshot, diff it into events (complete runs only), keep the page that could not be read
(incomplete runs only), commit once, and let go of kept pages beyond the newest
``[watch] keep_failed_pages`` of the account.
"""

from __future__ import annotations

import glob
import json
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PlaywrightError

from agent.app.calendar_ics import write_calendar
from agent.app.maps import accept, maps_in_use, repair
from agent.config import Account, Marketplace, Settings
from agent.core.diff import Absences, absences, diff_snapshots
from agent.core.models import (
    Case,
    CaseState,
    Direction,
    Event,
    IncompleteReason,
    ListRow,
    Message,
    Snapshot,
    SnapshotCounters,
    utcnow,
)
from agent.errors import AuthRequired, CaselogError, ExitCode, ReadError
from agent.home import Home, inside, write_private
from agent.site.credentials import resolve
from agent.site.crew import Crew
from agent.site.readers import CaseDetail, Reader, make_reader
from agent.site.selectormap import SelectorMap
from agent.site.session import AccountContext, BrowserSession, CredentialSource
from agent.store import Store

__all__ = [
    "AccountSync",
    "SyncProgress",
    "SyncResult",
    "prune_failed_pages",
    "sync_accounts",
]


@dataclass
class SyncProgress:
    """Callbacks the CLI uses for its progress bar (all optional)."""

    on_listed: Callable[[str, int, int], None] = lambda account, cases, to_read: None
    on_detail: Callable[[int], None] = lambda n: None


@dataclass
class SyncResult:
    account: str
    snapshot: Snapshot
    events: list[Event] = field(default_factory=list)
    new_messages: int = 0
    failed_page: str | None = None
    transport: str = ""  # where pages were fetched: "worker", "page" or both ("page+worker")
    candidate_map: str | None = None  # learned after a selector matched nothing
    repair: str = ""  # what came of trying to learn one, in one sentence

    @property
    def exit_code(self) -> ExitCode:
        if self.snapshot.complete:
            return ExitCode.OK
        if self.snapshot.reason is IncompleteReason.LOGIN_NEEDED:
            return ExitCode.AUTH
        return ExitCode.INCOMPLETE

    def summary(self) -> dict[str, Any]:
        s = self.snapshot
        return {
            "account": self.account,
            "complete": s.complete,
            "reason": s.reason.value if s.reason else None,
            "detail": s.detail,
            "cases_seen": s.counters.rows_seen,
            "stated_count": s.counters.stated_count,
            "details_read": s.counters.details_read,
            "pages": s.counters.pages,
            "requests": s.counters.requests,
            "seconds": round(s.counters.seconds, 2),
            "new_messages": self.new_messages,
            "events": len(self.events),
            "snapshot_id": s.snapshot_id,
            "failed_page": self.failed_page,
            "fetched_in": self.transport,
            "candidate_map": self.candidate_map,
            "repair": self.repair,
        }


def _case_from(
    row: ListRow,
    detail: CaseDetail | None,
    stored: Case | None,
    messages: list[Message] | None,
    account: str,
    now: datetime,
) -> Case:
    last_reply = row.last_amazon_reply_at
    if messages is not None:
        amazon = [m.sent_at for m in messages if m.direction is Direction.FROM_AMAZON]
        last_reply = last_reply or (max(amazon) if amazon else None)
    elif stored is not None:
        last_reply = last_reply or stored.last_amazon_reply_at
    return Case(
        case_id=row.case_id,
        account=account,
        marketplace=row.marketplace,
        subject=row.subject,
        status=row.status,
        status_raw=row.status_raw,
        created_at=row.created_at,
        last_updated_at=row.last_updated_at
        or (detail.last_updated_at if detail else (stored.last_updated_at if stored else None)),
        last_amazon_reply_at=last_reply,
        primary_email=detail.primary_email if detail else (stored.primary_email if stored else ""),
        cc=detail.cc if detail else (stored.cc if stored else ()),
        message_count=len(messages)
        if messages is not None
        else (stored.message_count if stored else 0),
        first_seen_at=stored.first_seen_at if stored else now,
        last_seen_at=now,
        fingerprint=row.fingerprint(),
    )


def same_ids(read: list[Message], stored: Sequence[Message]) -> list[Message]:
    """The messages read, each with the id it is stored under when it is a message already
    stored under another id: same direction, time and text. The page's own ids come and go
    with its design (a redesign may show none, and the agent then makes its own); a message
    seen again is never news."""
    ids = {m.message_id for m in stored}
    read_ids = {m.message_id for m in read}
    spare = [m for m in stored if m.message_id not in read_ids]  # not read under its own id
    out = []
    for m in read:
        if m.message_id not in ids:
            twin = next(
                (
                    s
                    for s in spare
                    if (s.direction, s.sent_at, s.body) == (m.direction, m.sent_at, m.body)
                ),
                None,
            )
            if twin is not None:
                spare.remove(twin)
                m = m.model_copy(update={"message_id": twin.message_id})
        out.append(m)
    return out


def _state_of(case: Case) -> CaseState:
    return CaseState(
        status=case.status,
        status_raw=case.status_raw,
        subject=case.subject,
        cc=case.cc,
        message_count=case.message_count,
        fingerprint=case.fingerprint,
    )


@dataclass
class _Run:
    """What one sync has seen so far (filled marketplace by marketplace)."""

    now: datetime
    snapshot_id: str
    stored: dict[str, Case]
    prev: Snapshot | None
    away: Absences
    started: float = field(default_factory=time.monotonic)
    states: dict[str, CaseState] = field(default_factory=dict)
    new_messages: list[Message] = field(default_factory=list)
    readers: dict[str, Reader] = field(default_factory=dict)
    pages: int = 0
    stated: int = 0
    rows_seen: int = 0
    details_read: int = 0
    reason: IncompleteReason | None = None
    detail: str = ""
    auth_error: AuthRequired | None = None
    reading: tuple[Marketplace | None, SelectorMap] | None = None  # the marketplace being read

    def stop(self, reason: IncompleteReason, detail: str) -> None:
        self.reason, self.detail = reason, detail


STORE_EVERY = 1000
"""Cases read whole are put into the store this many at a time (each put rewrites the tables
it touches in memory, so not one batch at a time; nor all at the end, which held every
thread of a 10,000-case sync in memory at once)."""


class AccountSync:
    """One sync of one account; :meth:`run` never raises for a failed read."""

    def __init__(
        self,
        session: BrowserSession,
        account: Account,
        settings: Settings,
        home: Home,
        *,
        full: bool = False,
        progress: SyncProgress | None = None,
        clock: Callable[[], datetime] = utcnow,
        credentials: CredentialSource = resolve,
    ) -> None:
        self.session = session
        self.account = account
        self.settings = settings
        self.home = home
        self.full = full
        self.progress = progress or SyncProgress()
        self.clock = clock
        self.credentials = credentials

    def run(self) -> SyncResult:
        maps = maps_in_use(self.home, self.account)  # bad maps fail before anything opens
        name = self.account.name
        with Store.open(self.home.store_path(name)) as store:
            ctx = self.session.context(self.account, self.home.state_path(name), self.credentials)
            try:
                run = self._begin(store)
                try:
                    for marketplace, smap in maps:
                        self._read_marketplace(run, store, ctx, marketplace, smap)
                except ReadError as exc:
                    run.stop(exc.reason, exc.detail)
                except AuthRequired as exc:
                    run.stop(IncompleteReason.LOGIN_NEEDED, str(exc))
                    run.auth_error = exc
                result = self._finish(run, store, ctx, maps)
            finally:
                ctx.close()
        if run.auth_error is not None:
            raise run.auth_error
        return result

    # -- the steps ---------------------------------------------------------------------------

    def _begin(self, store: Store) -> _Run:
        now = self.clock()
        return _Run(
            now=now,
            snapshot_id=f"{now.strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:8]}",
            stored={c.case_id: c for c in store.cases()},
            prev=store.last_complete_snapshot(),
            away=absences(store.events()),
        )

    def _read_marketplace(
        self,
        run: _Run,
        store: Store,
        ctx: AccountContext,
        marketplace: Marketplace | None,
        smap: SelectorMap,
    ) -> None:
        """List every case of one marketplace, read the new and changed ones whole, store
        what was read."""
        run.reading = (marketplace, smap)
        reader = make_reader(ctx, smap, self.account, marketplace)
        run.readers[marketplace.id if marketplace else ""] = reader
        reader.open()
        listing = reader.list_all()
        listing.rows.extend(self._rescue(reader, listing.rows, run))
        run.pages += listing.pages
        run.stated += listing.stated_total
        run.rows_seen += len(listing.rows)
        to_read = [r.case_id for r in listing.rows if self._needs_reading(r, run.stored)]
        self.progress.on_listed(self.account.name, len(listing.rows), len(to_read))
        rows = {r.case_id: r for r in listing.rows}
        read: set[str] = set()
        held: dict[str, CaseDetail] = {}
        for batch in reader.detail_batches(to_read, self.progress.on_detail):
            # stored as they arrive and let go: memory holds at most STORE_EVERY threads
            held.update(batch)
            run.details_read += len(batch)
            read.update(batch)
            if len(held) >= STORE_EVERY:
                self._store(run, store, [rows[cid] for cid in held], held)
                held = {}
        self._store(run, store, [rows[cid] for cid in held], held)
        self._store(run, store, [r for r in listing.rows if r.case_id not in read], {})

    def _store(
        self, run: _Run, store: Store, rows: list[ListRow], details: dict[str, CaseDetail]
    ) -> None:
        """Listed cases into the store, with their threads where they were read whole."""
        known = store.messages_of(details) if details else {}
        cases: list[Case] = []
        fresh: list[Message] = []
        for row in rows:
            d = details.get(row.case_id)
            msgs = same_ids(d.messages, known.get(row.case_id, ())) if d else None
            case = _case_from(row, d, run.stored.get(row.case_id), msgs, self.account.name, run.now)
            cases.append(case)
            fresh.extend(msgs or ())
            run.states[row.case_id] = _state_of(case)
        store.put_cases(cases)
        run.new_messages.extend(store.put_messages(fresh))

    def _needs_reading(self, row: ListRow, stored: dict[str, Case]) -> bool:
        known = stored.get(row.case_id)
        return self.full or known is None or known.fingerprint != row.fingerprint()

    def _rescue(self, reader: Reader, rows: list[ListRow], run: _Run) -> list[ListRow]:
        """Cases the last complete listing had and this one lacks: search each ID before
        believing it. A case the search finds was only left out of the listing (the site
        does that for a while); it is read as listed, and nothing is reported."""
        if run.prev is None:
            return []
        listed = {r.case_id for r in rows}
        market = reader.marketplace_id
        lacking = [
            cid
            for cid in run.prev.cases
            if cid not in listed
            and cid not in run.away.missing
            and cid not in run.away.gone
            and (cid not in run.stored or run.stored[cid].marketplace == market)
        ]
        return list(reader.search_rows(lacking).values()) if lacking else []

    def _finish(
        self,
        run: _Run,
        store: Store,
        ctx: AccountContext,
        maps: list[tuple[Marketplace | None, SelectorMap]],
    ) -> SyncResult:
        """Make the snapshot; diff it (complete) or keep the failed page (incomplete);
        commit everything at once."""
        snapshot = self._snapshot(run, maps)
        fetchers = [r.fetcher for r in run.readers.values()]
        result = SyncResult(
            self.account.name,
            snapshot,
            new_messages=len(run.new_messages),
            transport="+".join(sorted({f.counters.transport for f in fetchers} - {""})),
        )
        if snapshot.complete:
            result.events = self._record_events(store, snapshot, run)
        elif run.reason is not IncompleteReason.LOGIN_NEEDED:
            failed = next((f.failed_page for f in fetchers if f.failed_page), None)
            result.failed_page = self._save_failed_page(snapshot, failed, ctx)
            if run.reason is IncompleteReason.SELECTOR_MISSING and run.reading is not None:
                self._repair(result, ctx, *run.reading, stem=Path(result.failed_page or "x").stem)
        store.add_snapshot(snapshot)
        if store.meta().get("timezone") != self.account.timezone:
            store.set_meta(timezone=self.account.timezone)
        store.commit()
        prune_failed_pages(self.home, self.account.name, self.settings.watch.keep_failed_pages)
        return result

    def _snapshot(self, run: _Run, maps: list[tuple[Marketplace | None, SelectorMap]]) -> Snapshot:
        complete = run.reason is None
        return Snapshot(
            snapshot_id=run.snapshot_id,
            account=self.account.name,
            taken_at=run.now,
            profile="+".join(sorted({m.name for _, m in maps})),
            complete=complete,
            reason=run.reason,
            detail=run.detail,
            cases=run.states if complete else {},
            counters=SnapshotCounters(
                pages=run.pages,
                requests=sum(r.fetcher.counters.requests for r in run.readers.values()),
                details_read=run.details_read,
                rows_seen=run.rows_seen,
                stated_count=run.stated,
                seconds=time.monotonic() - run.started,
            ),
        )

    def _repair(
        self,
        result: SyncResult,
        ctx: AccountContext,
        marketplace: Marketplace | None,
        smap: SelectorMap,
        *,
        stem: str,
    ) -> None:
        """A selector matched nothing: the page changed. Learn a map from the live pages and
        what the store knows, keep it beside the failed page, and switch to it only when the
        account says ``auto_accept_maps`` and it reproduces every known record."""
        try:
            candidate = repair(
                self.home, self.session, ctx, self.account, marketplace, smap, stem=stem
            )
        except CaselogError as exc:
            result.repair = f"no map could be learned ({exc})"
            return
        if candidate is None or not candidate.path.is_file():
            problems = "; ".join(candidate.report.get("problems", [])) if candidate else ""
            result.repair = f"no map could be learned{f' ({problems})' if problems else ''}"
            return
        result.candidate_map = str(candidate.path)
        market = marketplace.id if marketplace else ""
        if candidate.complete and self.account.auto_accept_maps:
            _, target = accept(self.home, self.account, market)
            result.repair = f"learned and switched to a new selector map ({target})"
        elif candidate.complete:
            result.repair = (
                "learned a selector map that reproduces every known record; check it and "
                f"switch to it with `caselog maps accept {self.account.name}`"
            )
        else:
            result.repair = "learned a partial selector map; see its report beside it"

    def _record_events(self, store: Store, snapshot: Snapshot, run: _Run) -> list[Event]:
        """Diff against the previous complete snapshot; store the events (append-only).

        A case missing since an earlier sync and still absent is searched by its ID; only
        when the search finds nothing is it ``case_gone``.
        """
        gone_confirmed: set[str] = set()
        by_marketplace: dict[str, list[str]] = {}
        for cid in run.away.to_search(snapshot):
            stored = store.case(cid)
            by_marketplace.setdefault(stored.marketplace if stored else "", []).append(cid)
        for marketplace, ids in by_marketplace.items():
            reader = run.readers.get(marketplace) or next(iter(run.readers.values()), None)
            if reader is None:
                continue
            try:
                gone_confirmed |= set(ids) - reader.search_ids(ids)
            except (ReadError, AuthRequired):
                continue  # not confirmed: the case stays "missing", nothing is claimed
        events = diff_snapshots(
            run.prev,
            snapshot,
            run.new_messages,
            gone_confirmed=gone_confirmed,
            previously_missing=run.away.missing,
            previously_gone=run.away.gone,
            last_known=run.away.last_known,
            now=run.now,
        )
        return store.add_events(events)

    def _save_failed_page(
        self, snapshot: Snapshot, failed: tuple[str, str] | None, ctx: AccountContext
    ) -> str | None:
        """Keep the page that could not be read, beside a note of why, for a person."""
        try:
            url, html = failed if failed else (ctx.page.url, ctx.page.content())
        except PlaywrightError:  # the page is gone (the browser crashed): nothing to keep
            return None
        folder = self.home.failed_pages
        stem = f"{snapshot.snapshot_id}-{self.account.name}"
        page = inside(folder, f"{stem}.html")
        write_private(page, html.encode("utf-8", "replace"))
        note = {
            "url": url,
            "account": self.account.name,
            "taken_at": snapshot.taken_at.isoformat(),
            "reason": snapshot.reason.value if snapshot.reason else None,
            "detail": snapshot.detail,
            "profile": snapshot.profile,
        }
        write_private(inside(folder, f"{stem}.json"), json.dumps(note, indent=2).encode())
        return str(page)


def prune_failed_pages(home: Home, account: str, keep: int) -> list[Path]:
    """Remove ``account``'s kept pages but the newest ``keep``, with everything kept beside
    each (its note, a map learned from it: ``<stem>.*``); return the pages removed."""
    pages = home.failed_pages_of(account)
    removed = pages[: max(len(pages) - keep, 0)]
    for page in removed:
        for companion in page.parent.glob(glob.escape(page.stem) + ".*"):
            companion.unlink(missing_ok=True)
    return removed


def sync_accounts(
    accounts: list[Account],
    settings: Settings,
    home: Home,
    *,
    full: bool = False,
    headless: bool = True,
    progress: SyncProgress | None = None,
    clock: Callable[[], datetime] = utcnow,
    at_once: int | None = None,
) -> list[SyncResult]:
    """Sync the accounts in one Chromium, a context each, ``at_once`` at a time (default
    ``[fleet] accounts_at_once``; see :mod:`agent.site.crew`). An account that fails does
    not stop the others: when one needed a person (or failed otherwise), that error is raised
    once every account has had its turn. Afterwards the calendar (``calendar/caselog.ics``)
    is rewritten from what was stored."""
    limit = at_once if at_once is not None else settings.fleet.accounts_at_once
    with ThreadPoolExecutor(1, thread_name_prefix="calendar") as pool:
        with BrowserSession(headless=headless) as session:
            jobs = [
                AccountSync(
                    session, account, settings, home, full=full, progress=progress, clock=clock
                ).run
                for account in accounts
            ]
            outcomes = Crew(session.browser, limit).run(jobs)
            # from the stores as committed; written while Chromium closes (which only waits)
            calendar = pool.submit(write_calendar, home, settings, clock())
        calendar.result()
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    # a person must sign in (exit 3) is said before anything else that went wrong
    first = next((e for e in failed if isinstance(e, AuthRequired)), failed[0] if failed else None)
    if first is not None:
        raise first
    return [o for o in outcomes if isinstance(o, SyncResult)]
