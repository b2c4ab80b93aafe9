"""The local database of one account: a TinyDB file. Every TinyDB call lives in this package.

- Data is written only on :meth:`Store.commit` (one flush per sync), atomically, mode 0600
  (see :mod:`agent.store.storage`).
- A file lock beside the database admits one writer at a time; a second waits up to a
  timeout and then fails with :class:`StoreLocked`. Readers need no lock (renames are atomic).
- TinyDB rewrites a whole table on every update, so writes are batched: one table update per
  call, never one per record.
- The schema version is checked (and older layouts migrated) when a store opens
  (:mod:`agent.store.schema`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from pydantic import BaseModel, ValidationError
from tinydb import TinyDB
from tinydb.storages import MemoryStorage, Storage
from tinydb.table import Document

from agent.core.models import Case, Event, FlagState, Message, Record, Snapshot
from agent.errors import StoreCorrupt, StoreLocked
from agent.home import cannot_write, private_dir
from agent.store.schema import check_schema
from agent.store.storage import AtomicJSONStorage


def _doc(record: BaseModel) -> dict[str, Any]:
    return record.model_dump(mode="json")


class FlagStateRecord(Record):
    """The seller's decision about one flag: snoozed until a time, or done."""

    flag_id: str
    state: FlagState
    snoozed_until: datetime | None = None
    updated_at: datetime


class Store:
    """The records of one account. Use as a context manager; call :meth:`commit` to save."""

    def __init__(self, db: TinyDB, storage: Storage, lock: FileLock | None, path: Path | None):
        self._db = db
        self._storage = storage
        self._lock = lock
        self.path = path
        self._message_index: dict[str, int] | None = None
        meta = self._db.table("meta").get(doc_id=1)
        fresh = check_schema(meta if isinstance(meta, dict) else None, path)
        if fresh is not None:
            self._db.table("meta").insert(Document(fresh, doc_id=1))

    # -- opening and closing ---------------------------------------------------------------

    @classmethod
    def open(
        cls, path: Path | None, *, readonly: bool = False, lock_timeout: float = 30.0
    ) -> Store:
        """Open the database at ``path`` (None: in memory, for tests)."""
        if path is None:
            db = TinyDB(storage=MemoryStorage)
            return cls(db, db.storage, None, None)
        lock = None
        if not readonly:
            private_dir(path.parent)
            lock = FileLock(str(path) + ".lock", timeout=lock_timeout)
            try:
                lock.acquire()
            except Timeout:
                raise StoreLocked(
                    f"another caselog process is writing {path} and did not finish within "
                    f"{lock_timeout:g} s; wait for it (or stop it) and run again"
                ) from None
            except OSError as exc:  # after Timeout, which is an OSError too
                raise cannot_write(Path(str(path) + ".lock"), exc) from None
        try:
            if lock is not None:
                for stale in path.parent.glob(f".{path.name}.*.tmp"):
                    stale.unlink(missing_ok=True)  # left by a writer killed mid-flush
            db = TinyDB(path, storage=AtomicJSONStorage)
            return cls(db, db.storage, lock, path)
        except BaseException:
            if lock is not None:
                lock.release()
            raise

    def commit(self) -> None:
        """Write everything to disk atomically (no-op in memory)."""
        if isinstance(self._storage, AtomicJSONStorage):
            self._storage.flush()

    def close(self) -> None:
        self._db.close()
        if self._lock is not None and self._lock.is_locked:
            self._lock.release()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers -----------------------------------------------------------------------------

    def _rows(self, table: str) -> Iterator[dict[str, Any]]:
        yield from self._db.table(table)

    def _replace(self, table: str, docs: dict[int, dict[str, Any]]) -> None:
        """Insert or replace documents by id, in one table update."""
        if not docs:
            return
        tbl = self._db.table(table)
        existing = [i for i in docs if tbl.contains(doc_id=i)]
        if existing:
            tbl.remove(doc_ids=existing)
        tbl.insert_multiple(Document(doc, doc_id=i) for i, doc in docs.items())

    @staticmethod
    def _parse(model: type[Any], rows: Iterable[dict[str, Any]], what: str) -> list[Any]:
        try:
            return [model.model_validate(r) for r in rows]
        except ValidationError as exc:
            raise StoreCorrupt(
                f"a stored {what} record is invalid ({exc.errors()[0]['msg']}); "
                "move the database aside and sync again"
            ) from None

    # -- cases -------------------------------------------------------------------------------

    def cases(self) -> list[Case]:
        rows = sorted(self._rows("cases"), key=lambda r: r["case_id"])
        return self._parse(Case, rows, "case")

    def case(self, case_id: str) -> Case | None:
        if not case_id.isdigit():
            return None
        row = self._db.table("cases").get(doc_id=int(case_id))
        return Case.model_validate(row) if isinstance(row, dict) else None

    def put_cases(self, cases: Iterable[Case]) -> None:
        self._replace("cases", {int(c.case_id): _doc(c) for c in cases})

    # -- messages ----------------------------------------------------------------------------

    def _messages_by_id(self) -> dict[str, int]:
        if self._message_index is None:
            table = self._db.table("messages")
            self._message_index = {doc["message_id"]: doc.doc_id for doc in table}
        return self._message_index

    def message_ids(self) -> set[str]:
        return set(self._messages_by_id())

    def messages(self, case_id: str | None = None) -> list[Message]:
        rows = [r for r in self._rows("messages") if case_id is None or r["case_id"] == case_id]
        msgs: list[Message] = self._parse(Message, rows, "message")
        msgs.sort(key=lambda m: (m.case_id, *m.order))
        return msgs

    def messages_of(self, case_ids: Iterable[str]) -> dict[str, list[Message]]:
        """The stored messages of some cases, by case, in thread order (one pass)."""
        wanted = set(case_ids)
        rows = [r for r in self._rows("messages") if r["case_id"] in wanted]
        out: dict[str, list[Message]] = {}
        for m in sorted(self._parse(Message, rows, "message"), key=lambda m: m.order):
            out.setdefault(m.case_id, []).append(m)
        return out

    def put_messages(self, messages: Iterable[Message]) -> list[Message]:
        """Store messages; return those never stored before. Changed ones are replaced."""
        index = self._messages_by_id()
        table = self._db.table("messages")
        new: list[Message] = []
        replace: dict[int, dict[str, Any]] = {}
        fresh: list[dict[str, Any]] = []
        for msg in messages:
            doc = _doc(msg)
            doc_id = index.get(msg.message_id)
            if doc_id is None:
                new.append(msg)
                fresh.append(doc)
            elif table.get(doc_id=doc_id) != doc:
                replace[doc_id] = doc
        self._replace("messages", replace)
        if fresh:
            ids = table.insert_multiple(fresh)
            index.update({d["message_id"]: i for d, i in zip(fresh, ids, strict=True)})
        return new

    # -- snapshots ---------------------------------------------------------------------------

    def add_snapshot(self, snapshot: Snapshot) -> None:
        """Append a snapshot; older ones keep their counters but drop their per-case states
        except the newest complete one, which the next diff needs."""
        table = self._db.table("snapshots")
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
        return Snapshot.model_validate(best) if best else None

    # -- events (append-only, idempotent by id) ------------------------------------------------

    def add_events(self, events: Iterable[Event]) -> list[Event]:
        known = {r["event_id"] for r in self._rows("events")}
        new = [e for e in events if e.event_id not in known]
        unique = list({e.event_id: e for e in new}.values())
        if unique:
            self._db.table("events").insert_multiple(_doc(e) for e in unique)
        return unique

    def events(self, since: datetime | None = None, case_id: str | None = None) -> list[Event]:
        rows = [r for r in self._rows("events") if (case_id is None or r["case_id"] == case_id)]
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
        table = self._db.table("flag_states")
        by_id = {doc["flag_id"]: doc.doc_id for doc in table}
        docs = list(records)
        replace = {by_id[r.flag_id]: _doc(r) for r in docs if r.flag_id in by_id}
        self._replace("flag_states", replace)
        fresh = [_doc(r) for r in docs if r.flag_id not in by_id]
        if fresh:
            table.insert_multiple(fresh)

    # -- meta ------------------------------------------------------------------------------

    def meta(self) -> dict[str, Any]:
        row = self._db.table("meta").get(doc_id=1)
        return dict(row) if isinstance(row, dict) else {}

    def set_meta(self, **values: Any) -> None:
        self._replace("meta", {1: {**self.meta(), **values}})
