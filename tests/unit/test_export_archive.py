"""archive.json round trips, import errors, filters, and the writer (privacy, re-export)."""

from __future__ import annotations

import os
import random
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from agent.core.models import (
    Case,
    CaseStatus,
    Direction,
    Event,
    EventKind,
    Flag,
    FlagKind,
    Message,
    Severity,
)
from agent.errors import ArchiveError, CaselogError, ExitCode
from agent.export import render as archive_mod
from agent.export import to_html as export_html
from agent.export import to_markdown as export_md
from agent.export import writer as export_files
from agent.export.archive import (
    SCHEMA_VERSION,
    AccountArchive,
    Archive,
    data_as_of,
    filter_archive,
    from_json_bytes,
    json_schema_bytes,
    to_json_bytes,
)
from agent.export.render import render_files, write_archive
from agent.export.writer import MANIFEST

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
ALL = {"json", "csv", "md", "html"}


def make_account(
    name: str, n: int, first_id: int, tz: str = "America/Los_Angeles"
) -> AccountArchive:
    statuses = list(CaseStatus)
    cases, messages, events, flags = [], [], [], []
    for i in range(n):
        cid = str(first_id + i)
        status = statuses[i % len(statuses)]
        created = T0 + timedelta(days=i)
        cases.append(
            Case(
                case_id=cid,
                account=name,
                marketplace="US",
                subject=f'Case {i}: refund <b>&</b> "quoted" 🚚',
                status=status,
                status_raw=status.value.title(),
                created_at=created,
                last_updated_at=created + timedelta(days=2),
                last_amazon_reply_at=created + timedelta(days=1) if i % 2 else None,
                primary_email="me@example.com",
                cc=("a@example.com", "b@example.com") if i % 3 == 0 else (),
                message_count=3,
                first_seen_at=created,
                last_seen_at=created + timedelta(days=3, microseconds=123),
            )
        )
        for j in range(3):
            messages.append(
                Message(
                    message_id=f"{cid}-m{j}",
                    case_id=cid,
                    direction=Direction.FROM_SELLER if j % 2 == 0 else Direction.FROM_AMAZON,
                    sender="Me" if j % 2 == 0 else "Seller Support",
                    sender_email="me@example.com" if j % 2 == 0 else "",
                    sent_at=created + timedelta(hours=j * 7),
                    body=f"message {j} of case {cid}\nsecond line",
                    attachments=("x.pdf",) if j == 0 else (),
                )
            )
        events.append(
            Event(
                event_id=f"{cid}-e0",
                account=name,
                case_id=cid,
                kind=EventKind.STATUS_CHANGED,
                before="PENDING_AMAZON_ACTION",
                after=status.value,
                detected_at=created + timedelta(days=1),
                snapshot_id="s1",
            )
        )
        events.append(
            Event(
                event_id=f"{cid}-e1",
                account=name,
                case_id=cid,
                kind=EventKind.CC_CHANGED,
                before=["a@example.com"],
                after={"added": ["b@example.com"], "n": 1},
                detected_at=created + timedelta(days=1),
                snapshot_id="s1",
            )
        )
        if status is CaseStatus.NEEDS_YOUR_ATTENTION:
            flags.append(
                Flag(
                    flag_id=f"{cid}-f",
                    account=name,
                    case_id=cid,
                    kind=FlagKind.REPLY_DUE,
                    severity=Severity.URGENT,
                    due_at=created + timedelta(days=2),
                    reason="Amazon asked you a question.",
                )
            )
    return AccountArchive(
        account=name, timezone=tz, cases=cases, messages=messages, events=events, flags=flags
    )


def make_archive(n: int = 12) -> Archive:
    return Archive(
        generated_at=T0 + timedelta(days=n + 5),
        accounts=[
            make_account("zeta-store", n, 20_000_000_000),
            make_account("acme", n, 10_000_000_000, tz="Europe/London"),
        ],
    )


def shuffled(archive: Archive, seed: int) -> Archive:
    rnd = random.Random(seed)
    accounts = []
    for acc in archive.accounts:
        lists = {k: list(getattr(acc, k)) for k in ("cases", "messages", "events", "flags")}
        for v in lists.values():
            rnd.shuffle(v)
        accounts.append(acc.model_copy(update=lists))
    rnd.shuffle(accounts)
    return archive.model_copy(update={"accounts": accounts})


# --------------------------------------------------------------------------- JSON


def test_json_round_trip_is_byte_identical() -> None:
    archive = make_archive()
    first = to_json_bytes(archive)
    restored = from_json_bytes(first)
    assert restored == from_json_bytes(to_json_bytes(restored))
    assert to_json_bytes(restored) == first
    assert {a.account for a in restored.accounts} == {"acme", "zeta-store"}
    assert sum(len(a.messages) for a in restored.accounts) == 72


def test_json_bytes_do_not_depend_on_the_order_records_come_in() -> None:
    archive = make_archive()
    assert to_json_bytes(shuffled(archive, 1)) == to_json_bytes(archive)
    assert to_json_bytes(shuffled(archive, 2)) == to_json_bytes(archive)


def test_json_layout_is_sorted_and_documented() -> None:
    data = orjson.loads(to_json_bytes(make_archive()))
    assert list(data) == sorted(data)
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["generated_at"] == "2026-10-18T12:00:00Z"
    assert [a["account"] for a in data["accounts"]] == ["acme", "zeta-store"]
    acme = data["accounts"][0]
    ids = [c["case_id"] for c in acme["cases"]]
    assert ids == sorted(ids)
    keys = [(m["case_id"], m["sent_at"], m["message_id"]) for m in acme["messages"]]
    assert keys == sorted(keys)
    assert acme["cases"][0]["last_seen_at"] == "2026-10-04T12:00:00.000123Z"


def test_data_as_of_survives_an_import() -> None:
    archive = make_archive()
    newest = max(c.last_seen_at for a in archive.accounts for c in a.cases)
    assert data_as_of(archive.accounts) == newest
    assert data_as_of(from_json_bytes(to_json_bytes(archive)).accounts) == newest
    assert data_as_of([]) == datetime(1970, 1, 1, tzinfo=UTC)
    late = Event(
        event_id="late",
        account="acme",
        case_id=archive.accounts[1].cases[0].case_id,
        kind=EventKind.CASE_MISSING,
        detected_at=newest + timedelta(hours=1),
        snapshot_id="s9",
    )
    acc = archive.accounts[1]
    bumped = acc.model_copy(update={"events": [*acc.events, late]})
    assert data_as_of([bumped]) == newest + timedelta(hours=1)


def test_generated_at_is_an_input_not_the_clock() -> None:
    archive = make_archive()
    assert to_json_bytes(archive) == to_json_bytes(make_archive())
    later = archive.model_copy(update={"generated_at": archive.generated_at + timedelta(1)})
    assert to_json_bytes(later) != to_json_bytes(archive)
    with pytest.raises(ValueError, match="timezone-aware"):
        Archive(generated_at=datetime(2026, 1, 1), accounts=[])


def good() -> dict[str, object]:
    return orjson.loads(to_json_bytes(make_archive(2)))


def broken(change: str) -> bytes:
    data = good()
    acc = data["accounts"][0]  # type: ignore[index]
    if change == "extra field":
        acc["cases"][0]["colour"] = "red"
    elif change == "bad case id":
        acc["cases"][0]["case_id"] = "12ab"
    elif change == "naive time":
        acc["messages"][0]["sent_at"] = "2026-10-01T12:00:00"
    elif change == "orphan message":
        acc["messages"][0]["case_id"] = "99999999"
    elif change == "duplicate case":
        acc["cases"].append(acc["cases"][0])
    elif change == "wrong account":
        acc["events"][0]["account"] = "other"
    elif change == "bad timezone":
        acc["timezone"] = "Mars/Olympus"
    elif change == "case in two accounts":
        data["accounts"][1]["cases"].append(  # type: ignore[index]
            {**acc["cases"][0], "account": data["accounts"][1]["account"]}  # type: ignore[index]
        )
    return orjson.dumps(data)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "not valid JSON"),
        (b"{", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"accounts": []}', "no schema_version"),
        (b'{"schema_version": "1", "accounts": []}', "not a positive integer"),
        (b'{"schema_version": true, "accounts": []}', "not a positive integer"),
        (b'{"schema_version": 0, "accounts": []}', "not a positive integer"),
        (b'{"schema_version": 2, "accounts": []}', "newer than this caselog reads (1)"),
        (b'{"schema_version": 1, "accounts": []}', "generated_at: Field required"),
        (broken("extra field"), "colour: Extra inputs are not permitted"),
        (broken("bad case id"), "case_id: String should match pattern"),
        (broken("naive time"), "timezone-aware"),
        (broken("orphan message"), "refers to case 99999999, which is not in the archive"),
        (broken("duplicate case"), "appears twice"),
        (broken("wrong account"), "belongs to account 'other'"),
        (broken("bad timezone"), "unknown timezone 'Mars/Olympus'"),
        (broken("case in two accounts"), "appears in accounts"),
    ],
)
def test_import_errors_name_the_problem_in_one_sentence(data: bytes, words: str) -> None:
    with pytest.raises(ArchiveError) as info:
        from_json_bytes(data)
    message = str(info.value)
    assert words in message
    assert "\n" not in message
    assert isinstance(info.value, CaselogError)
    assert info.value.exit_code == ExitCode.USAGE == 2


def test_json_schema_describes_the_archive() -> None:
    schema = orjson.loads(json_schema_bytes())
    assert schema["$schema"].endswith("2020-12/schema")
    assert set(schema["required"]) == {"generated_at", "accounts"}
    assert schema["properties"]["schema_version"]["default"] == SCHEMA_VERSION
    assert {"Case", "Message", "Event", "Flag", "AccountArchive"} <= set(schema["$defs"])
    assert schema["$defs"]["Case"]["properties"]["case_id"]["pattern"] == r"^\d{8,14}$"
    assert json_schema_bytes() == json_schema_bytes()


# --------------------------------------------------------------------------- filter


def case_ids(archive: Archive) -> set[str]:
    return {c.case_id for a in archive.accounts for c in a.cases}


def test_filter_by_status_keeps_the_whole_record_of_matching_cases() -> None:
    archive = make_archive()
    out = filter_archive(
        archive, since=None, statuses={CaseStatus.NEEDS_YOUR_ATTENTION, CaseStatus.OPEN}
    )
    kept = [c for a in out.accounts for c in a.cases]
    assert kept and {c.status for c in kept} == {CaseStatus.NEEDS_YOUR_ATTENTION, CaseStatus.OPEN}
    for acc in out.accounts:
        ids = {c.case_id for c in acc.cases}
        assert {m.case_id for m in acc.messages} == ids
        assert {e.case_id for e in acc.events} == ids
        assert {f.case_id for f in acc.flags} <= ids and acc.flags
        assert len(acc.messages) == 3 * len(ids)
    assert [a.account for a in out.accounts] == [a.account for a in archive.accounts]
    assert out.generated_at == archive.generated_at
    from_json_bytes(to_json_bytes(out))  # a filtered archive is still a valid one


def test_filter_since_keeps_cases_touched_on_or_after_the_date() -> None:
    archive = make_archive()
    # Case i is created on day i, updated on day i+2, last seen i+3; events on day i+1.
    since = T0 + timedelta(days=8)
    out = filter_archive(archive, since=since, statuses=None)
    expected = {
        c.case_id
        for a in archive.accounts
        for c in a.cases
        if c.created_at >= since - timedelta(days=2)
    }
    assert case_ids(out) == expected
    assert len(expected) == 2 * 6  # days 6..11 in each account
    assert case_ids(filter_archive(archive, since=None, statuses=None)) == case_ids(archive)
    assert case_ids(filter_archive(archive, since=T0 + timedelta(days=99), statuses=None)) == set()


def test_filter_since_counts_a_late_message_or_event() -> None:
    archive = make_archive(2)
    acc = archive.accounts[0]
    old = acc.cases[0]
    late = Message(
        message_id="late",
        case_id=old.case_id,
        direction=Direction.FROM_AMAZON,
        sender="Seller Support",
        sent_at=T0 + timedelta(days=50),
        body="late answer",
    )
    bumped = archive.model_copy(
        update={"accounts": [acc.model_copy(update={"messages": [*acc.messages, late]})]}
    )
    out = filter_archive(bumped, since=T0 + timedelta(days=40), statuses=None)
    assert case_ids(out) == {old.case_id}


def test_filter_combines_since_and_status_and_rejects_a_naive_date() -> None:
    archive = make_archive()
    out = filter_archive(archive, since=T0 + timedelta(days=8), statuses={CaseStatus.CLOSED})
    assert {c.status for a in out.accounts for c in a.cases} <= {CaseStatus.CLOSED}
    with pytest.raises(ArchiveError, match="timezone"):
        filter_archive(archive, since=datetime(2026, 1, 1), statuses=None)


# --------------------------------------------------------------------------- writing


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_export_is_private_and_complete(tmp_path: Path) -> None:
    out = tmp_path / "export"
    archive = make_archive()
    result = write_archive(archive, out, ALL, now=T0 + timedelta(days=20))
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    expected = {
        "archive.json",
        "archive.schema.json",
        "cases.csv",
        "messages.csv",
        "md/index.md",
        "html/index.html",
        MANIFEST,
    }
    expected |= {f"md/{cid}.md" for cid in case_ids(archive)}
    expected |= {f"html/cases/{cid}.html" for cid in case_ids(archive)}
    assert files == expected
    assert sorted(result.written) == sorted(expected - {MANIFEST})
    assert result.unchanged == 0 and result.removed == [] and result.cases == 24
    for path in out.rglob("*"):
        assert mode(path) == (0o700 if path.is_dir() else 0o600), path
    assert mode(out) == 0o700
    assert not [p for p in out.rglob(".*.tmp")]
    assert (out / "archive.json").read_bytes() == to_json_bytes(archive)
    assert files - {MANIFEST} == set(render_files(archive, ALL, now=T0))


def test_re_export_rewrites_only_what_changed(tmp_path: Path) -> None:
    out = tmp_path / "export"
    archive = make_archive()
    now = T0 + timedelta(days=20)
    write_archive(archive, out, ALL, now=now)
    again = write_archive(archive, out, ALL, now=now)
    assert again.written == [] and again.removed == []
    assert again.unchanged == 4 + 2 + 2 * 24

    acc = archive.accounts[1]  # acme
    target = acc.cases[3]
    changed_case = target.model_copy(update={"subject": "Refund — now escalated"})
    acc2 = acc.model_copy(update={"cases": [changed_case if c is target else c for c in acc.cases]})
    changed = archive.model_copy(update={"accounts": [archive.accounts[0], acc2]})
    third = write_archive(changed, out, ALL, now=now)
    cid = target.case_id
    assert third.written == sorted(
        [
            "archive.json",
            "cases.csv",
            f"html/cases/{cid}.html",
            "html/index.html",
            f"md/{cid}.md",
            "md/index.md",
        ]
    )
    assert "Refund — now escalated" in (out / f"md/{cid}.md").read_text()

    # Time passing changes days waiting (index pages, cases.csv), never the case pages.
    later = write_archive(changed, out, ALL, now=now + timedelta(days=3))
    assert later.written == ["cases.csv", "html/index.html", "md/index.md"]


def test_re_export_does_not_render_pages_of_unchanged_cases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[str] = []
    real_md, real_html = export_md.case_md, export_html.case_html

    def md(b: Any) -> str:
        rendered.append(f"md {b.case.case_id}")
        return real_md(b)

    def page(b: Any) -> str:
        rendered.append(f"html {b.case.case_id}")
        return real_html(b)

    monkeypatch.setattr(export_md, "case_md", md)
    monkeypatch.setattr(export_html, "case_html", page)
    out = tmp_path / "export"
    archive = make_archive(3)
    write_archive(archive, out, ALL, now=T0)
    assert len(rendered) == 2 * 6
    rendered.clear()
    write_archive(archive, out, ALL, now=T0 + timedelta(days=2))
    assert rendered == []

    acc = archive.accounts[0]
    msg = acc.messages[0].model_copy(update={"body": "edited body"})
    changed = archive.model_copy(
        update={
            "accounts": [
                acc.model_copy(update={"messages": [msg, *acc.messages[1:]]}),
                archive.accounts[1],
            ]
        }
    )
    result = write_archive(changed, out, ALL, now=T0)
    cid = msg.case_id
    assert sorted(rendered) == [f"html {cid}", f"md {cid}"]
    assert f"md/{cid}.md" in result.written and "edited body" in (out / f"md/{cid}.md").read_text()

    rendered.clear()
    monkeypatch.setattr(archive_mod, "_renderer_key", lambda: b"a new renderer")
    again = write_archive(changed, out, ALL, now=T0)
    assert len(rendered) == 2 * 6  # new code: every page rendered again...
    assert again.written == []  # ...and, being the same bytes, none rewritten


def test_re_export_repairs_deleted_or_edited_files(tmp_path: Path) -> None:
    out = tmp_path / "export"
    archive = make_archive(3)
    first = write_archive(archive, out, ALL, now=T0)
    victim = next(p for p in first.written if p.startswith("md/1"))
    (out / victim).unlink()
    (out / "cases.csv").write_bytes(b"tampered")
    os.chmod(out / "messages.csv", 0o644)
    again = write_archive(archive, out, ALL, now=T0)
    assert again.written == sorted([victim, "cases.csv"])
    assert mode(out / "messages.csv") == 0o600


def test_cases_filtered_out_later_are_removed_and_other_files_are_left_alone(
    tmp_path: Path,
) -> None:
    out = tmp_path / "export"
    archive = make_archive(4)
    write_archive(archive, out, ALL, now=T0)
    (out / "notes.txt").write_text("mine")
    (out / "md" / "my-notes.md").write_text("mine too")
    only = filter_archive(archive, since=None, statuses={CaseStatus.OPEN})
    kept = case_ids(only)
    assert kept and kept != case_ids(archive)
    result = write_archive(only, out, {"md"}, now=T0)
    gone = case_ids(archive) - kept
    assert result.removed == sorted(f"md/{cid}.md" for cid in gone)
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "md" / "my-notes.md").read_text() == "mine too"
    # HTML was not part of this export: its pages stay, and stay known to the manifest.
    assert all((out / f"html/cases/{cid}.html").exists() for cid in gone)
    html_again = write_archive(archive, out, {"html"}, now=T0)
    assert html_again.written == [] and html_again.removed == []


def test_a_broken_manifest_only_costs_a_full_rewrite(tmp_path: Path) -> None:
    out = tmp_path / "export"
    archive = make_archive(2)
    write_archive(archive, out, {"json", "csv"}, now=T0)
    (out / MANIFEST).write_bytes(b'{"files": {"../../escape": {"format": "json"}}, "x": [')
    again = write_archive(archive, out, {"json", "csv"}, now=T0)
    assert sorted(again.written) == [
        "archive.json",
        "archive.schema.json",
        "cases.csv",
        "messages.csv",
    ]
    (out / MANIFEST).write_bytes(orjson.dumps({"files": {"../../escape": {"format": "json"}}}))
    third = write_archive(archive, out, {"json"}, now=T0)
    assert third.removed == []


@pytest.mark.parametrize(
    ("formats", "words"),
    [(set(), "no export format"), ({"json", "pdf"}, "unknown export format 'pdf'")],
)
def test_bad_formats_are_refused(tmp_path: Path, formats: set[str], words: str) -> None:
    with pytest.raises(ArchiveError, match=words):
        write_archive(make_archive(1), tmp_path / "x", formats, now=T0)
    assert not (tmp_path / "x").exists()


def test_naive_now_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="timezone"):
        write_archive(make_archive(1), tmp_path / "x", {"json"}, now=datetime(2026, 1, 1))


def test_an_unwritable_folder_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ArchiveError, match="cannot write the export to"):
        write_archive(make_archive(1), blocker / "export", {"json"}, now=T0)


def test_forked_workers_write_the_same_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = make_archive(30)
    now = T0 + timedelta(days=40)
    serial = write_archive(archive, tmp_path / "serial", ALL, now=now, workers=1)
    monkeypatch.setattr(archive_mod, "PARALLEL_MIN_CASES", 1)
    monkeypatch.setattr(archive_mod, "_CASES_PER_JOB", 7)
    pools: list[int] = []

    class SpyPool(export_files.ProcessPoolExecutor):
        def __init__(self, max_workers: int, **kw: Any) -> None:
            pools.append(max_workers)
            super().__init__(max_workers, **kw)

    monkeypatch.setattr(export_files, "ProcessPoolExecutor", SpyPool)
    forked = write_archive(archive, tmp_path / "forked", ALL, now=now, workers=2)
    assert pools == [2], "the export did not fork"
    assert forked.written == serial.written
    for rel in serial.written:
        assert (tmp_path / "forked" / rel).read_bytes() == (tmp_path / "serial" / rel).read_bytes()
        assert mode(tmp_path / "forked" / rel) == 0o600
    again = write_archive(archive, tmp_path / "forked", ALL, now=now, workers=2)
    assert again.written == [] and again.unchanged == len(serial.written)


def test_export_import_export_is_byte_identical(tmp_path: Path) -> None:
    archive = make_archive()
    write_archive(archive, tmp_path / "one", {"json"}, now=T0)
    imported = from_json_bytes((tmp_path / "one" / "archive.json").read_bytes())
    write_archive(imported, tmp_path / "two", {"json"}, now=T0 + timedelta(days=9))
    assert (tmp_path / "two" / "archive.json").read_bytes() == (
        tmp_path / "one" / "archive.json"
    ).read_bytes()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_full_disk_is_one_clear_error_and_no_manifest_vouches_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    monkeypatch.setattr(archive_mod, "PARALLEL_MIN_CASES", 1)
    real = export_files._write_file

    def full(path: Path, data: bytes, *, new: bool) -> os.stat_result:
        if path.suffix == ".html":
            raise OSError(28, "No space left on device")
        return real(path, data, new=new)

    monkeypatch.setattr(export_files, "_write_file", full)
    with pytest.raises(ArchiveError, match=r"cannot write the export to .*No space left on device"):
        write_archive(make_archive(3), tmp_path / "x", ALL, now=T0, workers=workers)
    assert not (tmp_path / "x" / MANIFEST).exists()


def test_a_process_with_other_threads_does_not_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_files.threading, "active_count", lambda: 1)
    assert export_files._default_workers() == min(os.cpu_count() or 1, 4)
    monkeypatch.setattr(export_files.threading, "active_count", lambda: 2)
    assert export_files._default_workers() == 1
