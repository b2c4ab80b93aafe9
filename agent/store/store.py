"""The local database of one account: TinyDB tables. Every TinyDB call lives in this package.

- Each table is its own TinyDB document, read only when a command asks for it: listing cases
  never reads a message; showing a case reads the one shard (of ``SHARDS``) its messages are
  in; a search reads the search table, which the store keeps up to date itself: per case,
  its subject and messages as one text, with where each part starts.
- Data is written only on :meth:`Store.commit` (one commit per sync), all tables at once and
  only those that changed, atomically, mode 0600 (see :mod:`agent.store.backend`).
- A file lock beside the store admits one writer at a time; a second waits up to a timeout
  and then fails with :class:`StoreLocked`. Readers need no lock.
- TinyDB rewrites a whole table on every update, so writes are batched: one table update per
  call, never one per record.
- Records are validated when read (:class:`StoreCorrupt` names a bad one), and only those a
  command reads; the schema version is checked when a store opens (:mod:`agent.store.schema`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError
from tinydb import TinyDB
from tinydb.table import Document, Table

from agent.core.contact import OutboxEntry
from agent.core.models import Case, CaseStatus, Event, FlagState, Message, Record, Snapshot
from agent.core.times import iso_utc
from agent.core.turn import can_flag, turn_thread
from agent.errors import StoreCorrupt, StoreLocked
from agent.home import cannot_write, private_dir
from agent.store.backend import Backend, FolderBackend, MemoryBackend
from agent.store.schema import check_schema
from agent.store.storage import TableStorage

if TYPE_CHECKING:
    from filelock import FileLock

__all__ = ["SHARDS", "FlagStateRecord", "SearchHit", "Store"]

SHARDS = 64
"""Messages are kept in this many tables, by case ID, so one case's thread is a small read."""

SEARCH = "search"
TURNS = "turns"  # each flaggable case's turn thread
OUTBOX = "outbox"


def _doc(record: BaseModel) -> dict[str, Any]:
    return record.model_dump(mode="json")


def _thread_order(row: dict[str, Any]) -> tuple[datetime, int, str]:
    """:attr:`Message.order` of a stored message, without reading it whole."""
    return (datetime.fromisoformat(row["sent_at"]), row.get("seq", 0), row["message_id"])


def _folded(text: str) -> str:
    """``text`` casefolded, with the two Turkish i's made ``i``: where an ASCII word matches
    ignoring case (``re.IGNORECASE``), its folded form is in the folded text. An ASCII letter
    ignoring case matches itself in either case and four other letters (İ ı ſ K, Python's
    ``re`` documentation): casefolding turns ſ and K into s and k, and ``İ`` would become two
    characters, so both i's are replaced first."""
    if not text.isascii():
        text = text.replace("İ", "i").replace("ı", "i")
    return text.casefold()


def _shard(case_id: str) -> str:
    return f"messages-{int(case_id) % SHARDS:02d}"


class FlagStateRecord(Record):
    """The seller's decision about one flag: snoozed until a time, or done."""

    flag_id: str
    state: FlagState
    snoozed_until: datetime | None = None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SearchHit:
    """Where a text was found in a case: its subject, or a message (``message_id``)."""

    case_id: str
    where: str  # "subject" or a message id
    start: int  # where the match starts in the part's text
    end: int  # and ends
    text: str  # the part's text, as stored


class Store:
    """The records of one account. Use as a context manager; call :meth:`commit` to save."""

    def __init__(self, backend: Backend, lock: FileLock | None, path: Path | None) -> None:
        self._backend = backend
        self._lock = lock
        self.path = path
        self._dbs: dict[str, TinyDB] = {}
        self._message_index: dict[str, dict[str, int]] = {}  # shard -> message id -> doc id
        self._to_index: set[str] = set()  # cases whose search text must be made again
        legacy = backend.legacy_tables() if isinstance(backend, FolderBackend) else None
        if legacy is not None:
            self._adopt(legacy)
        elif not (self._has(SEARCH) and self._has(TURNS)) and self._has("cases"):
            # derived tables missing (a store from before they were kept): made again from
            # the records, in memory for a reader, on disk by the next commit
            self._to_index = {str(r["case_id"]) for r in self._rows("cases")}
        meta = self._table("meta").get(doc_id=1)
        fresh = check_schema(meta if isinstance(meta, dict) else None, path)
        if fresh is not None:
            self._table("meta").insert(Document(fresh, doc_id=1))

    # -- opening and closing ---------------------------------------------------------------

    @classmethod
    def open(
        cls, path: Path | None, *, readonly: bool = False, lock_timeout: float = 30.0
    ) -> Store:
        """Open the store in folder ``path`` (None: in memory, for tests)."""
        if path is None:
            return cls(MemoryBackend(), None, None)
        lock = None
        if not readonly:
            from filelock import FileLock, Timeout  # a writer's: readers need no lock

            private_dir(path.parent)
            lock_file = path.with_name(f"{path.name}.lock")
            lock = FileLock(str(lock_file), timeout=lock_timeout)
            try:
                lock.acquire()
            except Timeout:
                raise StoreLocked(
                    f"another caselog process is writing {path} and did not finish within "
                    f"{lock_timeout:g} s; wait for it (or stop it) and run again"
                ) from None
            except OSError as exc:  # after Timeout, which is an OSError too
                raise cannot_write(lock_file, exc) from None
        try:
            return cls(FolderBackend(path), lock, path)
        except BaseException:
            if lock is not None:
                lock.release()
            raise

    def commit(self) -> None:
        """Write every table that changed, all at once (see :mod:`agent.store.backend`)."""
        self._reindex()
        changed = {}
        for name, db in self._dbs.items():
            storage = db.storage
            if isinstance(storage, TableStorage) and storage.dirty:
                changed[name] = storage.dump()
        self._backend.commit(changed)
        for name in changed:
            storage = self._dbs[name].storage
            assert isinstance(storage, TableStorage)
            storage.dirty = False

    def close(self) -> None:
        for db in self._dbs.values():
            db.close()
        if self._lock is not None and self._lock.is_locked:
            self._lock.release()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers -----------------------------------------------------------------------------

    def _table(self, name: str) -> Table:
        db = self._dbs.get(name)
        if db is None:
            db = self._dbs[name] = TinyDB(self._backend, name, storage=TableStorage)
        return db.table(name)

    def _has(self, table: str) -> bool:
        """Whether the store holds ``table`` at all (written, or made in this session), without
        reading it when it was not read yet (the search table is the store's largest)."""
        db = self._dbs.get(table)
        storage = db.storage if db is not None else None
        if isinstance(storage, TableStorage) and storage.loaded:
            return storage.read() is not None
        return self._backend.has(table)

    def _rows(self, table: str) -> Iterator[dict[str, Any]]:
        """The table's records as stored, without TinyDB's per-document wrapper (reading
        70,000 messages that way costs more than parsing them); read-only."""
        self._table(table)
        data = self._dbs[table].storage.read() or {}
        yield from data.get(table, {}).values()

    def _replace(self, table: str, docs: dict[int, dict[str, Any]]) -> None:
        """Insert or replace documents by id, in one table update."""
        if not docs:
            return
        tbl = self._table(table)
        existing = [i for i in docs if tbl.contains(doc_id=i)]
        if existing:
            tbl.remove(doc_ids=existing)
        tbl.insert_multiple(Document(doc, doc_id=i) for i, doc in docs.items())

    def _upsert(self, table: str, key: str, records: Iterable[BaseModel]) -> None:
        """Insert records, replacing those whose ``key`` field is stored already."""
        by_key = {doc[key]: doc.doc_id for doc in self._table(table)}
        docs = [_doc(r) for r in records]
        self._replace(table, {by_key[d[key]]: d for d in docs if d[key] in by_key})
        fresh = [d for d in docs if d[key] not in by_key]
        if fresh:
            self._table(table).insert_multiple(fresh)

    @staticmethod
    def _parse(model: type[Any], rows: Iterable[dict[str, Any]], what: str) -> list[Any]:
        try:
            return [model.model_validate(r) for r in rows]
        except ValidationError as exc:
            raise StoreCorrupt(
                f"a stored {what} record is invalid ({exc.errors()[0]['msg']}); "
                "move the store aside and sync again"
            ) from None

    def _adopt(self, legacy: dict[str, Any]) -> None:
        """A caselog 0.1 store (every table in one file): the same records, in this layout
        (in memory until the next commit)."""
        for name, docs in legacy.items():
            if name == "messages" or not isinstance(docs, dict):
                continue
            self._replace(name, {int(i): d for i, d in docs.items()})
        messages = legacy.get("messages")
        if isinstance(messages, dict):
            by_shard: dict[str, list[dict[str, Any]]] = {}
            for doc in messages.values():
                by_shard.setdefault(_shard(doc["case_id"]), []).append(doc)
            for shard, docs in by_shard.items():
                self._table(shard).insert_multiple(docs)
        self._to_index = {str(r["case_id"]) for r in self._rows("cases")}

    # -- cases -------------------------------------------------------------------------------

    def cases(
        self,
        *,
        where: Callable[[dict[str, Any]], bool] | None = None,
        key: Callable[[dict[str, Any]], Any] | None = None,
        reverse: bool = False,
        limit: int | None = None,
    ) -> list[Case]:
        """The stored cases (by case ID, or ``key`` of the stored record); with ``where`` and
        ``limit`` only those are read whole and validated."""
        rows = [r for r in self._rows("cases") if where is None or where(r)]
        rows.sort(key=lambda r: r["case_id"])  # ties in ``key`` stay in case ID order
        if key is not None:
            rows.sort(key=key, reverse=reverse)
        return self._parse(Case, rows[:limit] if limit is not None else rows, "case")

    def count_cases(self, where: Callable[[dict[str, Any]], bool] | None = None) -> int:
        return sum(1 for r in self._rows("cases") if where is None or where(r))

    def case(self, case_id: str) -> Case | None:
        if not case_id.isdigit():
            return None
        row = self._table("cases").get(doc_id=int(case_id))
        return self._parse(Case, [row], "case")[0] if isinstance(row, dict) else None

    def put_cases(self, cases: Iterable[Case]) -> None:
        docs = {int(c.case_id): _doc(c) for c in cases}
        old = self._table("cases")
        self._to_index.update(
            str(i)
            for i, d in docs.items()
            if (o := old.get(doc_id=i)) is None
            or (o["subject"], o["status"]) != (d["subject"], d["status"])
        )
        self._replace("cases", docs)

    # -- messages ----------------------------------------------------------------------------

    def _shards(self) -> list[str]:
        return [f"messages-{i:02d}" for i in range(SHARDS)]

    def _index_of(self, shard: str) -> dict[str, int]:
        index = self._message_index.get(shard)
        if index is None:
            index = self._message_index[shard] = {
                doc["message_id"]: doc.doc_id for doc in self._table(shard)
            }
        return index

    def message_ids(self) -> set[str]:
        return {mid for shard in self._shards() for mid in self._index_of(shard)}

    def messages(self, case_id: str | None = None) -> list[Message]:
        """One case's messages (one shard read), or every message, in thread order."""
        if case_id is not None:
            if not case_id.isdigit():
                return []
            rows = [r for r in self._rows(_shard(case_id)) if r["case_id"] == case_id]
        else:
            rows = [r for shard in self._shards() for r in self._rows(shard)]
        msgs: list[Message] = self._parse(Message, rows, "message")
        msgs.sort(key=lambda m: (m.case_id, *m.order))
        return msgs

    def messages_of(self, case_ids: Iterable[str]) -> dict[str, list[Message]]:
        """The stored messages of some cases, by case, in thread order (their shards only)."""
        wanted = {c for c in case_ids if c.isdigit()}
        rows = [
            r
            for shard in sorted({_shard(c) for c in wanted})
            for r in self._rows(shard)
            if r["case_id"] in wanted
        ]
        out: dict[str, list[Message]] = {}
        for m in sorted(self._parse(Message, rows, "message"), key=lambda m: m.order):
            out.setdefault(m.case_id, []).append(m)
        return out

    def put_messages(self, messages: Iterable[Message]) -> list[Message]:
        """Store messages; return those never stored before. Changed ones are replaced."""
        by_shard: dict[str, list[Message]] = {}
        for msg in messages:
            by_shard.setdefault(_shard(msg.case_id), []).append(msg)
        new: list[Message] = []
        for shard, msgs in sorted(by_shard.items()):
            index = self._index_of(shard)
            table = self._table(shard)
            replace: dict[int, dict[str, Any]] = {}
            fresh: list[dict[str, Any]] = []
            for msg in msgs:
                doc = _doc(msg)
                doc_id = index.get(msg.message_id)
                if doc_id is None:
                    new.append(msg)
                    fresh.append(doc)
                    self._to_index.add(msg.case_id)
                elif table.get(doc_id=doc_id) != doc:
                    replace[doc_id] = doc
                    self._to_index.add(msg.case_id)
            self._replace(shard, replace)
            if fresh:
                ids = table.insert_multiple(fresh)
                index.update({d["message_id"]: i for d, i in zip(fresh, ids, strict=True)})
        return new

    # -- search ------------------------------------------------------------------------------

    def _reindex(self) -> None:
        """Make the derived records of every case whose subject, status or messages changed:
        its search text, and (while it can carry a flag) its turn thread. One message shard
        at a time, so only that shard's threads are ever read whole."""
        if not self._to_index:
            return
        cases = self._table("cases")
        by_shard: dict[str, set[str]] = {}
        for cid in self._to_index:
            by_shard.setdefault(_shard(cid), set()).add(cid)
        texts: dict[int, dict[str, Any]] = {}
        turns: dict[int, dict[str, Any]] = {}
        gone: list[int] = []
        for shard, cids in sorted(by_shard.items()):
            threads: dict[str, list[dict[str, Any]]] = {cid: [] for cid in cids}
            for r in self._rows(shard):
                if r["case_id"] in cids:
                    threads[r["case_id"]].append(r)
            for cid, rows in threads.items():
                row = cases.get(doc_id=int(cid))
                if not isinstance(row, dict):
                    continue
                rows.sort(key=_thread_order)
                parts = [["subject", row["subject"]]] + [[m["message_id"], m["body"]] for m in rows]
                texts[int(cid)] = {"case_id": cid, "parts": parts}
                if can_flag(CaseStatus(row["status"])):
                    thread = turn_thread(self._parse(Message, rows, "message"))
                    turns[int(cid)] = {"case_id": cid, "messages": [_doc(m) for m in thread]}
                else:
                    gone.append(int(cid))
        for name in (SEARCH, TURNS):  # kept even when empty: an absent one is made again
            if not self._has(name):
                self._table(name)
                self._dbs[name].storage.write({name: {}})
        self._replace(SEARCH, texts)
        self._replace(TURNS, turns)
        held = [i for i in gone if self._table(TURNS).contains(doc_id=i)]
        if held:
            self._table(TURNS).remove(doc_ids=held)
        self._to_index.clear()

    def turn_threads(self, case_ids: Iterable[str]) -> dict[str, list[Message]]:
        """The turn threads (:func:`agent.core.turn.turn_thread`) of cases that can carry a
        flag, by case: what the rules need, without reading every message."""
        self._reindex()
        wanted = set(case_ids)
        rows = [m for r in self._rows(TURNS) if r["case_id"] in wanted for m in r["messages"]]
        out: dict[str, list[Message]] = {}
        for m in sorted(self._parse(Message, rows, "message"), key=lambda m: m.order):
            out.setdefault(m.case_id, []).append(m)
        return out

    def search(self, text: str) -> Iterator[SearchHit]:
        """Every subject and message holding ``text`` (ignoring case; the offsets are the
        stored text's), from the search table the commits keep: by case, each case's parts
        in thread order (subject first)."""
        self._reindex()
        if not text:
            return
        pattern = re.compile(re.escape(text), re.IGNORECASE)
        needle = _folded(text) if text.isascii() else None
        for row in self._rows(SEARCH):
            case_id = row["case_id"]
            if needle is not None and needle not in _folded(
                "\x00".join([p for _, p in row["parts"]])
            ):
                continue  # (ten times quicker than the pattern, which then finds no part)
            for where, part in row["parts"]:
                found = pattern.search(part)
                if found is not None:
                    yield SearchHit(case_id, where, found.start(), found.end(), part)

    # -- snapshots ---------------------------------------------------------------------------

    def add_snapshot(self, snapshot: Snapshot) -> None:
        """Append a snapshot; older ones keep their counters but drop their per-case states
        except the newest complete one, which the next diff needs."""
        table = self._table("snapshots")
        keep = self.last_complete_snapshot() if not snapshot.complete else None
        stripped: dict[int, dict[str, Any]] = {}
        for doc in table:
            if doc.get("cases") and (keep is None or doc["snapshot_id"] != keep.snapshot_id):
                stripped[doc.doc_id] = {**doc, "cases": {}}
        self._replace("snapshots", stripped)
        table.insert(_doc(snapshot))

    def snapshots(self) -> list[Snapshot]:
        rows = sorted(self._rows("snapshots"), key=lambda r: r["taken_at"])
        return self._parse(Snapshot, rows, "snapshot")

    def last_complete_snapshot(self) -> Snapshot | None:
        best: dict[str, Any] | None = None
        for row in self._rows("snapshots"):
            if row["complete"] and (best is None or row["taken_at"] > best["taken_at"]):
                best = row
        return self._parse(Snapshot, [best], "snapshot")[0] if best else None

    # -- events (append-only, idempotent by id) ------------------------------------------------

    def add_events(self, events: Iterable[Event]) -> list[Event]:
        known = {r["event_id"] for r in self._rows("events")}
        new = [e for e in events if e.event_id not in known]
        unique = list({e.event_id: e for e in new}.values())
        if unique:
            self._table("events").insert_multiple(_doc(e) for e in unique)
        return unique

    def events(self, since: datetime | None = None, case_id: str | None = None) -> list[Event]:
        # UTC ISO-8601 text sorts as time: only the events after ``since`` are read whole
        cutoff = iso_utc(since)[:19] if since is not None else ""
        rows = [
            r
            for r in self._rows("events")
            if (case_id is None or r["case_id"] == case_id) and str(r["detected_at"]) >= cutoff
        ]
        evs: list[Event] = self._parse(Event, rows, "event")
        if since is not None:
            evs = [e for e in evs if e.detected_at >= since]
        evs.sort(key=lambda e: (e.detected_at, e.event_id))
        return evs

    # -- flag states (snooze / done) ---------------------------------------------------------

    def flag_states(self) -> dict[str, FlagStateRecord]:
        recs = self._parse(FlagStateRecord, self._rows("flag_states"), "flag state")
        return {r.flag_id: r for r in recs}

    def set_flag_states(self, records: Iterable[FlagStateRecord]) -> None:
        self._upsert("flag_states", "flag_id", records)

    # -- outbox (what the agent sends; written before each click) ---------------------------

    def outbox(self, case_id: str | None = None) -> list[OutboxEntry]:
        """The outbox's entries (of one case), oldest first."""
        rows = [r for r in self._rows(OUTBOX) if case_id is None or r["case_id"] == case_id]
        entries: list[OutboxEntry] = self._parse(OutboxEntry, rows, "outbox")
        entries.sort(key=lambda e: (e.created_at, e.entry_id))
        return entries

    def put_outbox(self, *entries: OutboxEntry) -> None:
        """Add entries, or replace those with the same ``entry_id`` (until :meth:`commit`)."""
        self._upsert(OUTBOX, "entry_id", entries)

    # -- meta ------------------------------------------------------------------------------

    def size(self) -> int:
        """Bytes the store takes on disk (its current generation)."""
        return self._backend.size()

    def meta(self) -> dict[str, Any]:
        row = self._table("meta").get(doc_id=1)
        return dict(row) if isinstance(row, dict) else {}

    def set_meta(self, **values: Any) -> None:
        self._replace("meta", {1: {**self.meta(), **values}})
