"""The seller's own archive: its data model, the versioned JSON form, filters, and the writer.

An :class:`Archive` holds, per account, every case, message, event and flag the store has.

- :func:`to_json_bytes` / :func:`from_json_bytes` are the JSON form (``archive.json``): keys
  sorted, lists in a fixed order, so the same archive always gives the same bytes. An export,
  an import into an empty home and a second export give byte-identical files **as long as the
  caller passes the same** ``generated_at``: it is part of the data, never the wall clock. The
  store passes the time of its newest snapshot ("the data as of"), which only moves when a sync
  saw something.
- :func:`filter_archive` narrows an archive to cases touched since a date and/or in some statuses.
- :func:`write_archive` renders the chosen formats (JSON + JSON Schema, CSV, Markdown, HTML) and
  writes them under one folder, rewriting only the files whose bytes changed.

Rendering is pure (``agent.export_*`` modules take data and an explicit ``now``); the only disk
access is in :mod:`agent.export.writer`.
"""

from __future__ import annotations

import gc
import hashlib
import os
import time
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache, partial
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from agent import __version__
from agent.core.models import Case, CaseStatus, Event, Flag, Message, UtcDatetime
from agent.errors import ArchiveError
from agent.export import to_csv as export_csv
from agent.export import to_html as export_html
from agent.export import to_markdown as export_md
from agent.export.facts import AccountBundles, CaseBundle, account_bundles
from agent.export.writer import ExportWriter, Job, Lazy

__all__ = [
    "FORMATS",
    "SCHEMA_VERSION",
    "AccountArchive",
    "Archive",
    "ExportResult",
    "data_as_of",
    "filter_archive",
    "from_json_bytes",
    "json_schema_bytes",
    "render_files",
    "to_json_bytes",
    "write_archive",
]

SCHEMA_VERSION = 1
"""The version of ``archive.json`` this code writes and the newest it reads."""

FORMATS = frozenset({"json", "csv", "md", "html"})

JSON_FILE = "archive.json"
SCHEMA_FILE = "archive.schema.json"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AccountArchive(_Strict):
    """Everything kept for one seller account; ``timezone`` is an IANA name used for display."""

    account: str
    timezone: str
    cases: list[Case]
    messages: list[Message]
    events: list[Event]
    flags: list[Flag]

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> AccountArchive:
        seen: set[str] = set()
        for case in self.cases:
            if case.account != self.account:
                raise ValueError(
                    f"case {case.case_id} belongs to account {case.account!r}, not {self.account!r}"
                )
            if case.case_id in seen:
                raise ValueError(f"case {case.case_id} appears twice")
            seen.add(case.case_id)
        for message in self.messages:
            if message.case_id not in seen:
                raise ValueError(
                    f"message {message.message_id} refers to case {message.case_id}, "
                    "which is not in the archive"
                )
        owners = [("event", e.event_id, e.account) for e in self.events]
        owners += [("flag", f.flag_id, f.account) for f in self.flags]
        for kind, rid, account in owners:
            if account != self.account:
                raise ValueError(
                    f"{kind} {rid} belongs to account {account!r}, not {self.account!r}"
                )
        return self


class Archive(_Strict):
    """The whole archive. ``generated_at`` is "the data as of" (an input, never the wall clock)."""

    schema_version: int = SCHEMA_VERSION
    generated_at: UtcDatetime
    accounts: list[AccountArchive]

    @model_validator(mode="after")
    def _unique(self) -> Archive:
        names: set[str] = set()
        owner: dict[str, str] = {}
        for acc in self.accounts:
            if acc.account in names:
                raise ValueError(f"account {acc.account!r} appears twice")
            names.add(acc.account)
            for case in acc.cases:
                if case.case_id in owner:
                    raise ValueError(
                        f"case {case.case_id} appears in accounts {owner[case.case_id]!r} "
                        f"and {acc.account!r}"
                    )
                owner[case.case_id] = acc.account
        return self


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def data_as_of(accounts: Iterable[AccountArchive]) -> datetime:
    """A ``generated_at`` that depends on the data alone: the newest moment it records.

    The latest of every case's ``last_seen_at``/``last_updated_at``, message's ``sent_at``,
    event's ``detected_at`` (1970-01-01 for an empty archive). After a sync this is the time
    of the newest snapshot that saw anything; after ``caselog import`` it is the same as in
    the imported file, so export -> import -> export stays byte-identical without storing
    anything extra. (A store that keeps its newest snapshot time may pass that instead, as
    long as an import restores it.)
    """
    newest = EPOCH
    for acc in accounts:
        for c in acc.cases:
            newest = max(newest, c.last_seen_at, c.last_updated_at or EPOCH)
        for m in acc.messages:
            newest = max(newest, m.sent_at)
        for e in acc.events:
            newest = max(newest, e.detected_at)
    return newest


# --------------------------------------------------------------------------- JSON


_CASES = TypeAdapter(list[Case])
_MESSAGES = TypeAdapter(list[Message])
_EVENTS = TypeAdapter(list[Event])
_FLAGS = TypeAdapter(list[Flag])


def _ordered(acc: AccountArchive) -> dict[str, Any]:
    """One account as plain JSON data, every list in its documented order."""
    return {
        "account": acc.account,
        "timezone": acc.timezone,
        "cases": _CASES.dump_python(sorted(acc.cases, key=lambda c: c.case_id), mode="json"),
        "messages": _MESSAGES.dump_python(
            sorted(acc.messages, key=lambda m: (m.case_id, m.sent_at, m.message_id)), mode="json"
        ),
        "events": _EVENTS.dump_python(
            sorted(acc.events, key=lambda e: (e.detected_at, e.event_id)), mode="json"
        ),
        "flags": _FLAGS.dump_python(sorted(acc.flags, key=lambda f: f.flag_id), mode="json"),
    }


def to_json_bytes(archive: Archive) -> bytes:
    """The archive as ``archive.json``: UTF-8, keys sorted, indented, newline-terminated.

    Order: accounts by name; cases by case_id; messages by (case_id, sent_at, message_id);
    events by (detected_at, event_id); flags by flag_id. Times are UTC ISO-8601 with ``Z``.
    """
    data = {
        "schema_version": archive.schema_version,
        "generated_at": _iso(archive.generated_at),
        "accounts": [_ordered(a) for a in sorted(archive.accounts, key=lambda a: a.account)],
    }
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


def _iso(value: datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def from_json_bytes(data: bytes) -> Archive:
    """Read ``archive.json``; any problem is an :class:`ArchiveError` naming it in one sentence."""
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ArchiveError(f"the archive is not valid JSON ({exc}): export it again") from exc
    if not isinstance(raw, dict):
        raise ArchiveError("the archive is not a JSON object: is this a caselog archive.json?")
    version = raw.get("schema_version")
    if version is None:
        raise ArchiveError("the archive has no schema_version: is this a caselog archive.json?")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ArchiveError(f"the archive's schema_version {version!r} is not a positive integer")
    if version > SCHEMA_VERSION:
        raise ArchiveError(
            f"the archive has schema_version {version}, newer than this caselog reads "
            f"({SCHEMA_VERSION}): upgrade caselog-agent"
        )
    try:
        return Archive.model_validate(raw)
    except ValidationError as exc:
        raise ArchiveError(f"the archive is not valid: {_first_error(exc)}") from exc


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in err["loc"])
    msg = str(err["msg"]).removeprefix("Value error, ")
    extra = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
    return f"{where}: {msg}{extra}" if where else f"{msg}{extra}"


def json_schema_bytes() -> bytes:
    """A JSON Schema (draft 2020-12) describing ``archive.json``, as deterministic bytes."""
    schema = Archive.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"caselog-agent archive, schema_version {SCHEMA_VERSION}"
    schema["description"] = (
        "A seller's own archive of Amazon Seller Central cases: per account, every case, "
        "message, detected event and flag. Times are UTC ISO-8601."
    )
    return orjson.dumps(schema, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


# --------------------------------------------------------------------------- filter


def _touched_since(
    case: Case, msgs: Iterable[Message], evts: Iterable[Event], since: datetime
) -> bool:
    times = [case.created_at, case.last_updated_at, case.last_amazon_reply_at]
    if any(t is not None and t >= since for t in times):
        return True
    return any(m.sent_at >= since for m in msgs) or any(e.detected_at >= since for e in evts)


def filter_archive(
    archive: Archive,
    *,
    since: datetime | None,
    statuses: set[CaseStatus] | None,
) -> Archive:
    """Keep the cases that match both filters, with their whole thread, events and flags.

    ``since`` (timezone-aware) keeps a case when anything happened to it at or after that
    moment: created, updated, a reply from Amazon, a message, or a detected event.
    ``statuses`` keeps cases whose canonical status is in the set. ``None`` means no filter.
    Accounts are kept even when none of their cases match; ``generated_at`` is unchanged.
    """
    if since is not None and since.tzinfo is None:
        raise ArchiveError("the --since date must carry a timezone")
    out: list[AccountArchive] = []
    for acc in archive.accounts:
        msgs_by: dict[str, list[Message]] = {}
        for m in acc.messages:
            msgs_by.setdefault(m.case_id, []).append(m)
        evts_by: dict[str, list[Event]] = {}
        for e in acc.events:
            evts_by.setdefault(e.case_id, []).append(e)
        keep = {
            c.case_id
            for c in acc.cases
            if (statuses is None or c.status in statuses)
            and (
                since is None
                or _touched_since(c, msgs_by.get(c.case_id, ()), evts_by.get(c.case_id, ()), since)
            )
        }
        out.append(
            acc.model_copy(
                update={
                    "cases": [c for c in acc.cases if c.case_id in keep],
                    "messages": [m for m in acc.messages if m.case_id in keep],
                    "events": [e for e in acc.events if e.case_id in keep],
                    "flags": [f for f in acc.flags if f.case_id in keep],
                }
            )
        )
    return archive.model_copy(update={"accounts": out})


# --------------------------------------------------------------------------- writing


class ExportResult(BaseModel):
    """What :func:`write_archive` did. Paths are relative to ``out_dir``, with ``/``."""

    model_config = ConfigDict(frozen=True)

    out_dir: Path
    formats: list[str]
    written: list[str]
    unchanged: int
    removed: list[str]
    cases: int
    seconds: float

    @property
    def files(self) -> int:
        return len(self.written) + self.unchanged


def _check_formats(formats: Iterable[str]) -> list[str]:
    chosen = sorted(set(formats))
    if not chosen:
        raise ArchiveError("no export format chosen: pick one or more of csv, html, json, md")
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown:
        raise ArchiveError(
            f"unknown export format {unknown[0]!r}: choose from {', '.join(sorted(FORMATS))}"
        )
    return chosen


PARALLEL_MIN_CASES = 2000
"""Below this many cases an export runs in one process: forking would cost more than it saves."""
_CASES_PER_JOB = 1000


def _jobs(
    archive: Archive, groups: list[AccountBundles], chosen: list[str], now: datetime
) -> list[Job]:
    """The export as independent jobs, biggest first; each yields (path, bytes or Lazy).

    Per-case pages depend on their case alone (never on ``now``): on a re-export they are
    not even rendered unless the case (or the renderer) changed.
    """
    at = archive.generated_at
    jobs: list[Job] = []
    if "html" in chosen:
        jobs.append(
            partial(_index_file, "html/index.html", export_html.index_html, groups, at, now)
        )
    if "csv" in chosen:
        jobs.append(partial(_csv_files, groups, now))
    if "json" in chosen:
        jobs.append(partial(_json_files, archive))
    if "md" in chosen:
        jobs.append(partial(_index_file, "md/index.md", export_md.index_md, groups, at, now))
    cases = [b for g in groups for b in g.cases]
    pages = [fmt for fmt in ("md", "html") if fmt in chosen]
    if pages:
        for lo in range(0, len(cases), _CASES_PER_JOB):
            jobs.append(partial(_case_pages, cases[lo : lo + _CASES_PER_JOB], pages))
    return jobs


def _csv_files(groups: list[AccountBundles], now: datetime) -> Iterable[tuple[str, bytes]]:
    return export_csv.render(groups, now=now).items()


def _json_files(archive: Archive) -> list[tuple[str, bytes]]:
    return [(JSON_FILE, to_json_bytes(archive)), (SCHEMA_FILE, json_schema_bytes())]


def _index_file(
    rel: str,
    render: Callable[..., str],
    groups: list[AccountBundles],
    generated_at: datetime,
    now: datetime,
) -> list[tuple[str, bytes]]:
    return [(rel, render(groups, generated_at=generated_at, now=now).encode())]


def _case_pages(cases: Sequence[CaseBundle], pages: Sequence[str]) -> Iterator[tuple[str, Lazy]]:
    """Each case's pages, rendered only if their inputs changed since the last export."""
    md, html = "md" in pages, "html" in pages
    for b in cases:
        source = _page_source(b)
        if md:
            yield f"md/{b.case.case_id}.md", Lazy(source, partial(_md_page, b))
        if html:
            yield f"html/cases/{b.case.case_id}.html", Lazy(source, partial(_html_page, b))


def _md_page(b: CaseBundle) -> bytes:
    return export_md.case_md(b).encode()


def _html_page(b: CaseBundle) -> bytes:
    return export_html.case_html(b).encode()


_RENDERER_FILES = (
    "export/facts.py",
    "export/to_markdown.py",
    "export/to_html.py",
    "export/templates/html/base.css",
    "export/templates/html/case.css",
)


@cache
def _renderer_key() -> bytes:
    """What the case pages' code looks like: a change to it re-renders every page."""
    h = hashlib.blake2b(f"{__version__}|{SCHEMA_VERSION}".encode(), digest_size=20)
    root = resources.files("agent")
    for name in _RENDERER_FILES:
        try:
            h.update(root.joinpath(name).read_bytes())
        except OSError:  # no source to read (a frozen build): never trust old pages
            h.update(os.urandom(16))
    return h.digest()


_DUMP = {
    t: t.__pydantic_serializer__.to_json for t in (Case, Message, Event, Flag)
}  # fmt: skip


def _page_source(b: CaseBundle) -> str:
    """A key of everything a case's pages are made from: its records, timezone, renderer."""
    h = hashlib.blake2b(_renderer_key(), digest_size=20)
    h.update(b.tz.key.encode())
    h.update(_DUMP[Case](b.case))
    for group in (b.messages, b.events, b.flags):
        h.update(b"|%d|" % len(group))
        for record in group:
            h.update(_DUMP[type(record)](record))
    return h.hexdigest()


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: rendering allocates millions of short-lived,
    acyclic objects, and full collections over a 10,000-case heap cost more than rendering."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _bundles(archive: Archive) -> list[AccountBundles]:
    return [account_bundles(a) for a in sorted(archive.accounts, key=lambda a: a.account)]


def render_files(archive: Archive, formats: Iterable[str], *, now: datetime) -> dict[str, bytes]:
    """Every file of the export as ``{relative path: bytes}``; pure, no disk access."""
    chosen = _check_formats(formats)
    files: dict[str, bytes] = {}
    with _gc_paused():
        for job in _jobs(archive, _bundles(archive), chosen, now):
            for rel, data in job():
                files[rel] = data.render() if isinstance(data, Lazy) else data
    return files


def write_archive(
    archive: Archive,
    out_dir: Path,
    formats: set[str],
    *,
    now: datetime,
    workers: int | None = None,
) -> ExportResult:
    """Render ``formats`` of ``archive`` into ``out_dir`` and write only what changed.

    Layout: ``archive.json`` + ``archive.schema.json`` (json); ``cases.csv`` + ``messages.csv``
    (csv); ``md/index.md`` + ``md/<case_id>.md`` (md); ``html/index.html`` +
    ``html/cases/<case_id>.html`` (html). Folders are 0700, files 0600; a file that exists is
    replaced atomically (see :mod:`agent.export.writer`). A manifest (``.caselog-export.json``)
    remembers each file's hash so a re-export rewrites only files whose bytes changed, and
    removes files of an earlier export of the same formats that the archive no longer has (a
    case filtered out, say). Other files are never touched.

    ``now`` is only used for "days waiting" and active flags in ``cases.csv`` and the two
    index pages; per-case pages depend on the case alone, so they stay unchanged when only
    time passes. ``workers``: processes that render and write (default: one per core, up to
    4, when ``fork`` is available, no other thread runs, and there are at least
    ``PARALLEL_MIN_CASES`` cases; 1 = all in this process).
    """
    if now.tzinfo is None:
        raise ArchiveError("the export time must carry a timezone")
    started = time.perf_counter()
    chosen = _check_formats(formats)
    with _gc_paused():
        groups = _bundles(archive)
        n_cases = sum(len(g.cases) for g in groups)
        with ExportWriter(Path(out_dir), chosen, workers=workers) as writer:
            writer.run(_jobs(archive, groups, chosen, now), parallel=n_cases >= PARALLEL_MIN_CASES)
            written, unchanged, removed = writer.finish()
    return ExportResult(
        out_dir=Path(out_dir),
        formats=chosen,
        written=written,
        unchanged=unchanged,
        removed=removed,
        cases=sum(len(a.cases) for a in archive.accounts),
        seconds=round(time.perf_counter() - started, 3),
    )
