"""The store, run against both TinyDB's MemoryStorage and the real atomic file storage."""

from __future__ import annotations

import os
import re
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from agent.core.contact import ActionKind, Look, OutboxEntry, OutboxState
from agent.core.models import (
    Case,
    CaseState,
    CaseStatus,
    Direction,
    Event,
    EventKind,
    FlagState,
    Message,
    Snapshot,
)
from agent.errors import StoreConflict, StoreCorrupt, StoreLocked
from agent.store import FlagStateRecord, Store
from agent.store.backend import FolderBackend

T0 = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)


def make_case(case_id: str, status: CaseStatus = CaseStatus.OPEN, subject: str = "Listing") -> Case:
    return Case(
        case_id=case_id,
        account="acme",
        subject=subject,
        status=status,
        status_raw=status.value.title(),
        created_at=T0 - timedelta(days=3),
        first_seen_at=T0,
        last_seen_at=T0,
    )


def make_message(case_id: str, n: int, body: str = "hello") -> Message:
    return Message(
        message_id=f"m{case_id}-{n}",
        case_id=case_id,
        direction=Direction.FROM_AMAZON if n % 2 else Direction.FROM_SELLER,
        sender="Amazon" if n % 2 else "You",
        sent_at=T0 + timedelta(minutes=n),
        body=body,
    )


@pytest.fixture(params=["memory", "file"])
def store_path(request: pytest.FixtureRequest, tmp_path: Path) -> Path | None:
    return None if request.param == "memory" else tmp_path / "acme"


@pytest.fixture
def store(store_path: Path | None) -> Iterator[Store]:
    with Store.open(store_path) as st:
        yield st


def reopen(store: Store) -> Store:
    """Commit, close and open again (memory stores are returned as they are)."""
    store.commit()
    if store.path is None:
        return store
    store.close()
    return Store.open(store.path)


def test_cases_round_trip_and_replace(store: Store) -> None:
    store.put_cases([make_case("12345678901"), make_case("1234567890")])
    store.put_cases([make_case("12345678901", CaseStatus.ANSWERED)])
    st = reopen(store)
    assert [c.case_id for c in st.cases()] == ["1234567890", "12345678901"]
    case = st.case("12345678901")
    assert case is not None and case.status is CaseStatus.ANSWERED
    assert st.case("99999999999") is None
    st.close()


def test_messages_new_only_once_and_replaced_when_changed(store: Store) -> None:
    first = store.put_messages([make_message("12345678901", 1), make_message("12345678901", 2)])
    assert len(first) == 2
    again = store.put_messages([make_message("12345678901", 1, body="hello, now complete")])
    assert again == []
    st = reopen(store)
    bodies = [m.body for m in st.messages("12345678901")]
    assert bodies == ["hello, now complete", "hello"]
    st.close()


def test_events_are_idempotent(store: Store) -> None:
    ev = Event(
        event_id="e1",
        account="acme",
        case_id="12345678901",
        kind=EventKind.STATUS_CHANGED,
        before="OPEN",
        after="ANSWERED",
        detected_at=T0,
        snapshot_id="s1",
    )
    assert store.add_events([ev, ev]) == [ev]
    assert store.add_events([ev]) == []
    st = reopen(store)
    assert st.events() == [ev]
    st.close()


def test_only_latest_complete_snapshot_keeps_case_states(store: Store) -> None:
    states = {"12345678901": CaseState(status=CaseStatus.OPEN, status_raw="Open", subject="x")}
    for i, complete in enumerate([True, True, False]):
        store.add_snapshot(
            Snapshot(
                snapshot_id=f"s{i}",
                account="acme",
                taken_at=T0 + timedelta(hours=i),
                profile="classic-en-US",
                complete=complete,
                cases=states,
            )
        )
    st = reopen(store)
    last = st.last_complete_snapshot()
    assert last is not None and last.snapshot_id == "s1" and last.cases == states
    assert [s.snapshot_id for s in st.snapshots() if s.cases] == ["s1", "s2"]
    st.close()


def test_flag_states_upsert(store: Store) -> None:
    rec = FlagStateRecord(flag_id="f1", state=FlagState.SNOOZED, snoozed_until=T0, updated_at=T0)
    store.set_flag_states([rec])
    store.set_flag_states([rec.model_copy(update={"state": FlagState.DONE})])
    assert store.flag_states()["f1"].state is FlagState.DONE


def test_outbox_entries_are_kept_and_replaced_by_id(store: Store) -> None:
    pending = OutboxEntry(
        entry_id="e1",
        account="acme",
        case_id="12345678901",
        kind=ActionKind.REPLY,
        body="Hello",
        body_sha256="abc",
        created_at=T0,
        state=OutboxState.PENDING,
        before=Look(status=CaseStatus.OPEN, seen_at=T0),
        baseline=("12345678901-001",),
    )
    other = pending.model_copy(update={"entry_id": "e0", "case_id": "98765432101"})
    store.put_outbox(pending, other)
    store = reopen(store)
    assert [e.entry_id for e in store.outbox()] == ["e0", "e1"]
    store.put_outbox(pending.model_copy(update={"state": OutboxState.SENT, "message_id": "m"}))
    store = reopen(store)
    [entry] = store.outbox("12345678901")
    assert (entry.state, entry.message_id, entry.before) == (
        OutboxState.SENT,
        "m",
        pending.before,
    )
    store.close()


def test_file_is_private_and_untouched_until_commit(tmp_path: Path) -> None:
    path = tmp_path / "acme"
    with Store.open(path) as st:
        st.put_cases([make_case("12345678901")])
        assert not path.exists()
        st.commit()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    files = [p for p in path.rglob("*") if p.is_file()]
    assert files and all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in files)
    with Store.open(path) as st:
        st.put_cases([make_case("22345678901")])  # never committed
    with Store.open(path, readonly=True) as st:
        assert [c.case_id for c in st.cases()] == ["12345678901"]


def test_corrupt_file_is_reported_and_left_alone(tmp_path: Path) -> None:
    legacy = tmp_path / "acme.json"  # a caselog 0.1 store: one file
    legacy.write_bytes(b'{"cases": {"1": ')
    with pytest.raises(StoreCorrupt, match="not valid JSON"):
        Store.open(tmp_path / "acme")
    assert legacy.read_bytes() == b'{"cases": {"1": '


def test_a_corrupt_table_is_reported_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "acme"
    with Store.open(path) as st:
        st.put_cases([make_case("12345678901")])
        st.commit()
    (table,) = path.glob("g*/cases.json")
    table.write_bytes(b'{"cases": {')
    with Store.open(path) as st, pytest.raises(StoreCorrupt, match="cases table is not valid"):
        st.cases()
    assert table.read_bytes() == b'{"cases": {'


def test_a_caselog_0_1_store_is_read_and_becomes_a_folder(tmp_path: Path) -> None:
    """One file with every table (messages not yet in shards): read as it is, written in the
    new layout by the first commit, the old file kept aside."""
    case = make_case("12345678901")
    message = make_message("12345678901", 1, "hello")
    legacy = {
        "meta": {"1": {"schema_version": 1}},
        "cases": {"12345678901": case.model_dump(mode="json")},
        "messages": {"1": message.model_dump(mode="json")},
    }
    old = tmp_path / "acme.json"
    old.write_bytes(orjson.dumps(legacy))
    with Store.open(tmp_path / "acme", readonly=True) as st:
        assert st.cases() == [case] and st.messages() == [message]
        assert [h.case_id for h in st.search("hello")] == ["12345678901"]
    assert old.is_file()  # a reader changes nothing
    with Store.open(tmp_path / "acme") as st:
        st.commit()
    assert not old.exists() and (tmp_path / ".acme.json.v1").is_file()
    with Store.open(tmp_path / "acme", readonly=True) as st:
        assert st.cases() == [case] and st.messages("12345678901") == [message]


def test_a_commit_writes_only_the_tables_that_changed(tmp_path: Path) -> None:
    path = tmp_path / "acme"
    with Store.open(path) as st:
        st.put_cases([make_case("12345678901")])
        st.put_messages([make_message("12345678901", 1, "a")])
        st.commit()
        first = {p.name: p.stat().st_ino for p in path.glob("g*/*.json")}
        st.set_meta(note="x")
        st.commit()
        second = {p.name: p.stat().st_ino for p in path.glob("g00000002/*.json")}
    assert second["cases.json"] == first["cases.json"]  # the same file, linked
    assert second["meta.json"] != first["meta.json"]


def test_an_outbox_entry_is_a_commit_of_its_own_table_only(tmp_path: Path) -> None:
    """The entry written before a click costs one small file; every other table is linked,
    and a later sync's commit links the outbox in turn."""
    path = tmp_path / "acme"
    entry = OutboxEntry(
        entry_id="e1",
        account="acme",
        case_id="12345678901",
        kind=ActionKind.REPLY,
        created_at=T0,
        state=OutboxState.PENDING,
    )
    with Store.open(path) as st:
        st.put_cases([make_case("12345678901")])
        st.put_messages([make_message("12345678901", 1, "a")])
        st.commit()
        first = {p.name: p.stat().st_ino for p in path.glob("g00000001/*.json")}
        st.put_outbox(entry)
        st.commit()
        second = {p.name: p.stat().st_ino for p in path.glob("g00000002/*.json")}
        st.put_cases([make_case("12345678901", CaseStatus.ANSWERED)])
        st.commit()
        third = {p.name: p.stat().st_ino for p in path.glob("g00000003/*.json")}
    assert {n for n in second if second[n] != first.get(n)} == {"outbox.json"}
    assert third["outbox.json"] == second["outbox.json"]
    with Store.open(path, readonly=True) as st:
        assert st.outbox() == [entry]


def test_a_generation_left_by_a_kill_before_current_named_it_is_replaced(
    tmp_path: Path,
) -> None:
    """A writer killed after renaming its new generation into place but before CURRENT named
    it leaves that folder behind, never read; the next commit makes it again instead of
    failing on it forever (found by the kill -9 test of `caselog reply --send`)."""
    path = tmp_path / "acme"
    with Store.open(path) as st:
        st.put_cases([make_case("12345678901")])
        st.commit()
    left = path / "g00000002"
    left.mkdir()
    (left / "cases.json").write_text('{"cases": {}}')  # what the killed writer wrote
    with Store.open(path) as st:
        st.put_cases([make_case("12345678901", CaseStatus.ANSWERED)])
        st.commit()
    assert (path / "CURRENT").read_text().strip() == "g00000002"
    with Store.open(path, readonly=True) as st:
        assert [c.status for c in st.cases()] == [CaseStatus.ANSWERED]


def test_second_writer_waits_then_fails(tmp_path: Path) -> None:
    path = tmp_path / "acme"
    with Store.open(path):
        result: list[BaseException] = []

        def second() -> None:
            try:
                Store.open(path, lock_timeout=0.2).close()
            except BaseException as exc:
                result.append(exc)

        t = threading.Thread(target=second)
        t.start()
        t.join()
    assert len(result) == 1 and isinstance(result[0], StoreLocked)
    assert "another caselog process" in str(result[0])
    Store.open(path, lock_timeout=0.2).close()  # free again once the first closed


def test_a_writer_whose_store_moved_since_it_read_writes_nothing(tmp_path: Path) -> None:
    """Optimistic locking, for workers sharing a home (a worker that lost its account's lock
    while another one committed): the late commit is refused and the other's stays."""
    path = tmp_path / "acme"
    with Store.open(path) as st:
        st.put_cases([make_case("12345678901")])
        st.commit()
    late = Store(FolderBackend(path), None, path)  # read generation 1, then paused
    with Store.open(path) as other:
        other.put_cases([make_case("12345678902")])
        other.commit()  # generation 2
    late.put_cases([make_case("12345678903", subject="lost")])
    with pytest.raises(StoreConflict, match="changed by another process since it was read"):
        late.commit()
    late.close()
    assert (path / "CURRENT").read_text().strip() == "g00000002"
    with Store.open(path, readonly=True) as st:
        assert [c.case_id for c in st.cases()] == ["12345678901", "12345678902"]


def test_search_ignoring_case_finds_what_the_pattern_finds_even_in_odd_letters() -> None:
    """The quick check before the pattern (casefolded text) never hides a match: an ASCII word
    ignoring case also matches İ ı ſ K, and a non-ASCII one goes straight to the pattern."""
    bodies = ["Your REFUND", "İnvoice sent", "ınvoice", "ſtatus", "\u212aeep", "Straße", "nothing"]
    with Store.open(None) as st:
        cases = [make_case(f"1234567890{i}") for i in range(len(bodies))]
        st.put_cases(cases)
        st.put_messages(make_message(c.case_id, 1, b) for c, b in zip(cases, bodies, strict=True))
        st.commit()
        for word in ["refund", "invoice", "status", "keep", "STRASSE", "straße", "Nothing"]:
            pattern = re.compile(re.escape(word), re.IGNORECASE)
            expected = {c.case_id for c, b in zip(cases, bodies, strict=True) if pattern.search(b)}
            assert {h.case_id for h in st.search(word) if h.where != "subject"} == expected, word


def test_opening_a_store_reads_no_table_a_command_does_not_ask_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listing cases reads the cases table (and the schema's meta), never the search table,
    the store's largest."""
    path = tmp_path / "acme"
    with Store.open(path) as st:
        st.put_cases([make_case("12345678901")])
        st.put_messages([make_message("12345678901", 1, "hello")])
        st.commit()
    read: list[str] = []
    original = FolderBackend.read

    def spy(self: FolderBackend, table: str) -> bytes | None:
        read.append(table)
        return original(self, table)

    monkeypatch.setattr(FolderBackend, "read", spy)
    with Store.open(path, readonly=True) as st:
        assert [c.case_id for c in st.cases()] == ["12345678901"]
    assert sorted(read) == ["cases", "meta"]
