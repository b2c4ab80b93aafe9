"""``caselog sync``: read one account's Case Log into its store, completely or not at all.

A run is *complete* only if every marketplace's list was read page by page, the rows add up
to the count the site states, and every detail that needed reading was read. Otherwise the
snapshot is stored as incomplete with its reason, and nothing downstream treats it as truth:
no events come from it. Cases and messages that *were* read are still kept (they are true).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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
from agent.errors import AuthRequired, ExitCode
from agent.home import home_dir, private_dir, write_private
from agent.site.fetcher import Fetcher, ReadError
from agent.site.readers import CaseDetail, Reader, make_reader
from agent.site.selectormap import SelectorMap, load_map
from agent.site.session import AccountContext, BrowserSession
from agent.store import Store, open_store


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
        }


def marketplace_maps(account: Account) -> list[tuple[Marketplace | None, SelectorMap]]:
    if not account.marketplaces:
        return [(None, load_map(account.selector_map))]
    return [(mp, load_map(mp.selector_map or account.selector_map)) for mp in account.marketplaces]


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


class AccountSync:
    """One sync of one account; :meth:`run` never raises for a failed read."""

    def __init__(
        self,
        session: BrowserSession,
        account: Account,
        settings: Settings,
        *,
        full: bool = False,
        progress: SyncProgress | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.session = session
        self.account = account
        self.settings = settings
        self.full = full
        self.progress = progress or SyncProgress()
        self.clock = clock

    def run(self) -> SyncResult:
        maps = marketplace_maps(self.account)  # bad map names fail before anything opens
        with open_store(self.account.name) as store:
            ctx = self.session.context(self.account)
            try:
                return self._run(store, ctx, maps)
            finally:
                ctx.close()

    def _run(
        self,
        store: Store,
        ctx: AccountContext,
        maps: list[tuple[Marketplace | None, SelectorMap]],
    ) -> SyncResult:
        started = time.monotonic()
        now = self.clock()
        snapshot_id = f"{now.strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:8]}"
        stored = {c.case_id: c for c in store.cases()}
        prev = store.last_complete_snapshot()
        away = absences(store.events())
        states: dict[str, CaseState] = {}
        pages = stated = rows_seen = details_read = 0
        new_messages: list[Message] = []
        readers: dict[str, Reader] = {}
        reason: IncompleteReason | None = None
        detail = ""
        auth_error: AuthRequired | None = None
        try:
            for marketplace, smap in maps:
                fetcher = Fetcher(
                    ctx,
                    concurrency=self.account.concurrency,
                    max_retries=self.account.max_retries,
                    timeout_s=self.account.request_timeout_seconds,
                    relogin=lambda: None,
                )
                reader = make_reader(ctx, smap, self.account, marketplace, fetcher)
                fetcher.relogin = reader.open  # an expired session: sign in, back to the lobby
                readers[marketplace.id if marketplace else ""] = reader
                reader.open()
                listing = reader.list_all()
                listing.rows.extend(self._rescue(reader, listing.rows, prev, away, stored))
                pages += listing.pages
                stated += listing.stated_total
                rows_seen += len(listing.rows)
                to_read = [
                    r.case_id
                    for r in listing.rows
                    if self.full
                    or r.case_id not in stored
                    or stored[r.case_id].fingerprint != r.fingerprint()
                ]
                self.progress.on_listed(self.account.name, len(listing.rows), len(to_read))
                details = reader.details(to_read, self.progress.on_detail)
                details_read += len(details)
                cases = []
                fresh_msgs: list[Message] = []
                for row in listing.rows:
                    d = details.get(row.case_id)
                    msgs = d.messages if d else None
                    case = _case_from(row, d, stored.get(row.case_id), msgs, self.account.name, now)
                    cases.append(case)
                    if msgs:
                        fresh_msgs.extend(msgs)
                    states[row.case_id] = CaseState(
                        status=case.status,
                        status_raw=case.status_raw,
                        subject=case.subject,
                        cc=case.cc,
                        message_count=case.message_count,
                        fingerprint=case.fingerprint,
                    )
                store.put_cases(cases)
                new_messages.extend(store.put_messages(fresh_msgs))
        except ReadError as exc:
            reason, detail = IncompleteReason(exc.reason), exc.detail
        except AuthRequired as exc:
            reason, detail, auth_error = IncompleteReason.LOGIN_NEEDED, str(exc), exc
        requests = sum(r.fetcher.counters.requests for r in readers.values())
        snapshot = Snapshot(
            snapshot_id=snapshot_id,
            account=self.account.name,
            taken_at=now,
            profile="+".join(sorted({m.name for _, m in maps})),
            complete=reason is None,
            reason=reason,
            detail=detail,
            cases=states if reason is None else {},
            counters=SnapshotCounters(
                pages=pages,
                requests=requests,
                details_read=details_read,
                rows_seen=rows_seen,
                stated_count=stated,
                seconds=time.monotonic() - started,
            ),
        )
        result = SyncResult(
            self.account.name,
            snapshot,
            new_messages=len(new_messages),
            transport="+".join(
                sorted({r.fetcher.counters.transport for r in readers.values()} - {""})
            ),
        )
        if snapshot.complete:
            result.events = self._record_events(
                store, snapshot, new_messages, readers, prev, away, now
            )
        failed = next(
            (r.fetcher.failed_page for r in readers.values() if r.fetcher.failed_page), None
        )
        if reason is not None and reason is not IncompleteReason.LOGIN_NEEDED:
            result.failed_page = self._save_failed_page(snapshot, failed, ctx)
        store.add_snapshot(snapshot)
        if store.meta().get("timezone") != self.account.timezone:
            store.set_meta(timezone=self.account.timezone)
        store.commit()
        if auth_error is not None:
            raise auth_error
        return result

    @staticmethod
    def _rescue(
        reader: Reader,
        rows: list[ListRow],
        prev: Snapshot | None,
        away: Absences,
        stored: dict[str, Case],
    ) -> list[ListRow]:
        """Cases the last complete listing had and this one lacks: search each ID before
        believing it. A case the search finds was only left out of the listing (the site
        does that for a while); it is read as listed, and nothing is reported."""
        if prev is None:
            return []
        listed = {r.case_id for r in rows}
        market = reader.marketplace_id
        lacking = [
            cid
            for cid in prev.cases
            if cid not in listed
            and cid not in away.missing
            and cid not in away.gone
            and (cid not in stored or stored[cid].marketplace == market)
        ]
        return list(reader.search_rows(lacking).values()) if lacking else []

    def _record_events(
        self,
        store: Store,
        snapshot: Snapshot,
        new_messages: list[Message],
        readers: dict[str, Reader],
        prev: Snapshot | None,
        away: Absences,
        now: datetime,
    ) -> list[Event]:
        """Diff against the previous complete snapshot; store the events (append-only).

        A case missing since an earlier sync and still absent is searched by its ID; only
        when the search finds nothing is it ``case_gone``.
        """
        gone_confirmed: set[str] = set()
        by_marketplace: dict[str, list[str]] = {}
        for cid in away.to_search(snapshot):
            stored = store.case(cid)
            by_marketplace.setdefault(stored.marketplace if stored else "", []).append(cid)
        for marketplace, ids in by_marketplace.items():
            reader = readers.get(marketplace) or next(iter(readers.values()), None)
            if reader is None:
                continue
            try:
                gone_confirmed |= set(ids) - reader.search_ids(ids)
            except (ReadError, AuthRequired):
                continue  # not confirmed: the case stays "missing", nothing is claimed
        events = diff_snapshots(
            prev,
            snapshot,
            new_messages,
            gone_confirmed=gone_confirmed,
            previously_missing=away.missing,
            previously_gone=away.gone,
            last_known=away.last_known,
            now=now,
        )
        return store.add_events(events)

    def _save_failed_page(
        self, snapshot: Snapshot, failed: tuple[str, str] | None, ctx: AccountContext
    ) -> str | None:
        """Keep the page that could not be read, beside a note of why, for a person."""
        try:
            url, html = failed if failed else (ctx.page.url, ctx.page.content())
        except Exception:
            return None
        folder = private_dir(home_dir() / "failed-pages")
        stem = f"{snapshot.snapshot_id}-{self.account.name}"
        write_private(folder / f"{stem}.html", html.encode("utf-8", "replace"))
        note = {
            "url": url,
            "account": self.account.name,
            "taken_at": snapshot.taken_at.isoformat(),
            "reason": snapshot.reason.value if snapshot.reason else None,
            "detail": snapshot.detail,
            "profile": snapshot.profile,
        }
        write_private(folder / f"{stem}.json", json.dumps(note, indent=2).encode())
        return str(folder / f"{stem}.html")


def sync_accounts(
    accounts: list[Account],
    settings: Settings,
    *,
    full: bool = False,
    headless: bool = True,
    progress: SyncProgress | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> list[SyncResult]:
    """Sync each account in one Chromium; a login needed on one account stops the run."""
    results = []
    with BrowserSession(headless=headless) as session:
        for account in accounts:
            sync = AccountSync(
                session, account, settings, full=full, progress=progress, clock=clock
            )
            results.append(sync.run())
    return results
