"""Rendering an archive in the chosen formats, and putting the files on disk.

:func:`write_archive` renders JSON (+ JSON Schema), CSV, Markdown and HTML and writes them
under one folder through :class:`agent.export.writer.ExportWriter`, rewriting only the files
whose bytes changed; :func:`render_files` is the same without the disk. Rendering is pure (the
``to_*`` modules take data and an explicit ``now``); the only disk access is in the writer.
"""

from __future__ import annotations

import gc
import hashlib
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import cache, partial
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from agent import __version__
from agent.core.categories import Categoriser
from agent.core.models import Case, Event, Flag, Message
from agent.errors import ArchiveError
from agent.export import to_csv, to_html, to_markdown
from agent.export.archive import (
    JSON_FILE,
    SCHEMA_FILE,
    SCHEMA_VERSION,
    Archive,
    json_schema_bytes,
    to_json_bytes,
)
from agent.export.facts import AccountBundles, CaseBundle, account_bundles
from agent.export.today import Today
from agent.export.writer import ExportWriter, Job, Lazy

__all__ = ["FORMATS", "PARALLEL_MIN_CASES", "ExportResult", "render_files", "write_archive"]

FORMATS = frozenset({"json", "csv", "md", "html"})


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
    archive: Archive,
    groups: list[AccountBundles],
    chosen: list[str],
    now: datetime,
    today: Today | None = None,
) -> list[Job]:
    """The export as independent jobs, biggest first; each yields (path, bytes or Lazy).

    Per-case pages depend on their case alone (never on ``now``): on a re-export they are
    not even rendered unless the case (or the renderer) changed.
    """
    at = archive.generated_at
    jobs: list[Job] = []
    if "html" in chosen:
        jobs.append(
            partial(_index_file, "html/index.html", to_html.index_html, groups, at, now, today)
        )
    if "csv" in chosen:
        jobs.append(partial(_csv_files, groups, now))
    if "json" in chosen:
        jobs.append(partial(_json_files, archive))
    if "md" in chosen:
        jobs.append(
            partial(_index_file, "md/index.md", to_markdown.index_md, groups, at, now, today)
        )
    cases = [b for g in groups for b in g.cases]
    pages = [fmt for fmt in ("md", "html") if fmt in chosen]
    if pages:
        for lo in range(0, len(cases), _CASES_PER_JOB):
            jobs.append(partial(_case_pages, cases[lo : lo + _CASES_PER_JOB], pages))
    return jobs


def _csv_files(groups: list[AccountBundles], now: datetime) -> Iterable[tuple[str, bytes]]:
    return to_csv.render(groups, now=now).items()


def _json_files(archive: Archive) -> list[tuple[str, bytes]]:
    return [(JSON_FILE, to_json_bytes(archive)), (SCHEMA_FILE, json_schema_bytes())]


def _index_file(
    rel: str,
    render: Callable[..., str],
    groups: list[AccountBundles],
    generated_at: datetime,
    now: datetime,
    today: Today | None = None,
) -> list[tuple[str, bytes]]:
    page = render(groups, generated_at=generated_at, now=now, today=today or Today())
    return [(rel, page.encode())]


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
    return to_markdown.case_md(b).encode()


def _html_page(b: CaseBundle) -> bytes:
    return to_html.case_html(b).encode()


_RENDERER_FILES = (
    "core/labels.py",
    "core/present.py",
    "core/times.py",
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
    h.update(b.category.encode())
    h.update(b.url.encode())
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


def _bundles(
    archive: Archive, categorise: Categoriser | None, today: Today | None = None
) -> list[AccountBundles]:
    links = today.links if today else {}
    return [
        account_bundles(a, categorise, links.get(a.account))
        for a in sorted(archive.accounts, key=lambda a: a.account)
    ]


def render_files(
    archive: Archive,
    formats: Iterable[str],
    *,
    now: datetime,
    categorise: Categoriser | None = None,
    today: Today | None = None,
) -> dict[str, bytes]:
    """Every file of the export as ``{relative path: bytes}``; pure, no disk access."""
    chosen = _check_formats(formats)
    files: dict[str, bytes] = {}
    with _gc_paused():
        for job in _jobs(archive, _bundles(archive, categorise, today), chosen, now, today):
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
    categorise: Categoriser | None = None,
    today: Today | None = None,
    manifest_extra: dict[str, str] | None = None,
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
    ``PARALLEL_MIN_CASES`` cases; 1 = all in this process). ``categorise``: the categoriser of
    the account's rules (default: the default rules'). ``today``: the due list, drafts,
    links and "changed since" moment the index pages open on (:mod:`agent.export.today`).
    ``manifest_extra``: values the manifest keeps for the next export (see
    :func:`agent.export.writer.previous_export`).
    """
    if now.tzinfo is None:
        raise ArchiveError("the export time must carry a timezone")
    started = time.perf_counter()
    chosen = _check_formats(formats)
    with _gc_paused():
        groups = _bundles(archive, categorise, today)
        n_cases = sum(len(g.cases) for g in groups)
        with ExportWriter(Path(out_dir), chosen, workers=workers, extra=manifest_extra) as writer:
            writer.run(
                _jobs(archive, groups, chosen, now, today),
                parallel=n_cases >= PARALLEL_MIN_CASES,
            )
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
