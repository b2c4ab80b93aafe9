"""Putting an export on disk: private, atomic, and only what changed.

:class:`ExportWriter` receives rendered files (relative path + bytes) and makes the output
folder hold them. Folders are 0700 (:func:`agent.home.private_dir`), files 0600. A file that
already exists is replaced like :func:`agent.home.write_private` does (a temp file renamed
over it, so nobody ever reads half of it); a new file is created in place. Durability comes in
bulk: on Linux one ``sync()`` at the end instead of an fsync per file (elsewhere, an fsync per
file and folder), which is what makes a 10,000-case export take seconds. Only then is the
manifest written (with ``write_private``), so it never vouches for a file that is not on disk;
a file left half-written by a crash is not in the manifest and is written again next time.

Rendering jobs (JSON, CSV, index pages, chunks of case pages) can run in forked worker
processes (:meth:`ExportWriter.run`) on machines with more than one core; each worker writes
its own files and reports back what it wrote. Without ``fork`` (Windows), with one core, in a
process that runs other threads, or for small exports, everything runs in this process.

The manifest (``.caselog-export.json``) remembers each file's BLAKE2b hash, size and mtime. A
file whose new bytes hash the same, and which is still on disk with the recorded size and
mtime, is left alone. A :class:`Lazy` file (a case page) also records a key of its inputs:
when that is unchanged too, the file is not even rendered again. Files of an earlier export
that this one no longer produces (for the formats being exported) are removed; nothing else in
the folder is touched.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import stat
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from agent.errors import ArchiveError, HomeError
from agent.home import private_dir, write_private

__all__ = ["MANIFEST", "ExportWriter", "Job", "Lazy", "format_of", "previous_export"]

MANIFEST = ".caselog-export.json"

Entry = dict[str, Any]


def format_of(rel: str) -> str:
    """Which export format a relative path belongs to."""
    if rel.startswith("md/"):
        return "md"
    if rel.startswith("html/"):
        return "html"
    if rel.endswith(".csv"):
        return "csv"
    return "json"


def _inside(rel: str) -> bool:
    parts = PurePosixPath(rel).parts
    return bool(parts) and not rel.startswith("/") and not any(p in (".", "..") for p in parts)


def _load_manifest(out_dir: Path) -> dict[str, Entry]:
    try:
        raw = orjson.loads((out_dir / MANIFEST).read_bytes())
        files = raw["files"]
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError):
        return {}  # no or unreadable manifest: every file counts as changed
    if not isinstance(files, dict):
        return {}
    return {
        k: v for k, v in files.items() if isinstance(k, str) and _inside(k) and isinstance(v, dict)
    }


def previous_export(out_dir: Path) -> dict[str, str]:
    """What the last export into ``out_dir`` left for the next one (``as_of``,
    ``changes_since``...): the manifest's string values beside its files; {} if none."""
    try:
        raw = orjson.loads((Path(out_dir) / MANIFEST).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    extra = raw.get("extra") if isinstance(raw, dict) else None
    if not isinstance(extra, dict):
        return {}
    return {k: v for k, v in extra.items() if isinstance(k, str) and isinstance(v, str)}


def _write_all(fd: int, data: bytes) -> os.stat_result:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    return os.fstat(fd)


def _write_file(path: Path, data: bytes, *, new: bool) -> os.stat_result:
    """Write ``data`` to ``path`` (0600): a new file directly, an existing one atomically.

    A file that exists is replaced by renaming a temp file over it, so a reader never sees
    half of it. A new file is created in place: if the export dies half-way, the manifest
    does not vouch for it and the next export writes it again.
    """
    if new:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            try:
                return _write_all(fd, data)
            except BaseException:
                os.close(fd)
                fd = -1
                path.unlink(missing_ok=True)
                raise
            finally:
                if fd >= 0:
                    os.close(fd)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        try:
            st = _write_all(fd, data)
            if st.st_mode & 0o777 != 0o600:  # a stale temp file from a crash kept its mode
                os.fchmod(fd, 0o600)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return st


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_durable(files: Sequence[Path]) -> None:
    """Flush written files and their folders to disk before the manifest vouches for them.

    On Linux one ``sync()`` (which waits for the writes) costs far less than an fsync per
    file; elsewhere each file and folder is fsynced.
    """
    if not files:
        return
    if sys.platform.startswith("linux"):
        os.sync()
        return
    for path in files:
        _fsync_path(path)
    for folder in {p.parent for p in files}:
        _fsync_path(folder)


@dataclass(frozen=True)
class Lazy:
    """A file rendered only when needed: ``source`` names everything its bytes depend on.

    When the manifest says the file on disk was made from the same ``source`` (and it is
    still there, unchanged), ``render`` is never called.
    """

    source: str
    render: Callable[[], bytes]


@dataclass
class _Done:
    """What one batch did: manifest entries of every file it produced, and which it wrote."""

    entries: dict[str, Entry] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)
    unchanged: int = 0


class _Batch:
    """Hash, compare, and write the changed files; used in this process and in workers."""

    def __init__(self, out_dir: Path, manifest: dict[str, Entry]) -> None:
        self.out_dir = out_dir
        self.manifest = manifest
        self.done = _Done()
        self.dirs: set[Path] = set()

    def put(self, rel: str, data: bytes | Lazy) -> None:
        if not _inside(rel):
            raise ArchiveError(f"refusing to write {rel!r} outside the export folder")
        path = self.out_dir / rel
        if path.parent not in self.dirs:
            private_dir(path.parent)
            self.dirs.add(path.parent)
        old = self.manifest.get(rel)
        source = ""
        if isinstance(data, Lazy):
            source = data.source
            if old is not None and old.get("source") == source and self._still_there(path, old):
                self.done.entries[rel] = old  # same inputs, same renderer: not even rendered
                self.done.unchanged += 1
                return
            data = data.render()
        digest = hashlib.blake2b(data, digest_size=20).hexdigest()
        if old is not None and old.get("blake2b") == digest and self._still_there(path, old):
            self.done.entries[rel] = {**old, "source": source} if source else old
            self.done.unchanged += 1
            return
        st = _write_file(path, data, new=old is None)
        entry: Entry = {
            "format": format_of(rel),
            "blake2b": digest,
            "size": st.st_size,
            "mtime": st.st_mtime_ns,
        }
        if source:
            entry["source"] = source
        self.done.entries[rel] = entry
        self.done.written.append(rel)

    @staticmethod
    def _still_there(path: Path, old: Entry) -> bool:
        try:
            st = path.lstat()
        except OSError:
            return False
        if (
            not stat.S_ISREG(st.st_mode)
            or st.st_size != old.get("size")
            or st.st_mtime_ns != old.get("mtime")
        ):
            return False
        if st.st_mode & 0o777 != 0o600:
            os.chmod(path, 0o600)
        return True


Job = Callable[[], Iterable[tuple[str, "bytes | Lazy"]]]

# The jobs a forked worker inherits, with the manifest: set just before forking.
_JOBS: tuple[Path, dict[str, Entry], Sequence[Job]] | None = None


def _run_job(index: int) -> _Done:
    assert _JOBS is not None, "worker started without jobs"
    out_dir, manifest, jobs = _JOBS
    batch = _Batch(out_dir, manifest)
    for rel, data in jobs[index]():
        batch.put(rel, data)
    return batch.done


def _default_workers() -> int:
    """One worker per core (at most 4) when this process can fork safely, else 1.

    Forking a process that runs other threads (a scheduler, a browser driver) can copy a
    lock another thread holds; such a process renders in one process instead.
    """
    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return 1
    return min(os.cpu_count() or 1, 4)


class ExportWriter:
    """Write one export into ``out_dir``; call :meth:`finish` once at the end.

    ``formats`` are the formats this export produces: files of those formats that an earlier
    export wrote (per the manifest) and this one does not are removed by :meth:`finish`.
    """

    def __init__(
        self,
        out_dir: Path,
        formats: Iterable[str],
        *,
        workers: int | None = None,
        extra: dict[str, str] | None = None,
    ):
        self.out_dir = Path(out_dir)
        self.extra = dict(extra or {})
        self.formats = set(formats)
        self.workers = _default_workers() if workers is None else max(1, workers)
        try:
            private_dir(self.out_dir)
        except (OSError, HomeError) as exc:
            raise self._error(exc) from exc
        self.manifest = _load_manifest(self.out_dir)
        self.batch = _Batch(self.out_dir, self.manifest)
        self.procs: ProcessPoolExecutor | None = None
        self.futures: list[Future[_Done]] = []

    def _error(self, exc: OSError | HomeError) -> ArchiveError:
        cause = exc if isinstance(exc, OSError) else exc.__cause__
        why = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(exc)
        return ArchiveError(f"cannot write the export to {self.out_dir}: {why}")

    def run(self, jobs: Sequence[Job], *, parallel: bool = True) -> None:
        """Run each job (a callable yielding ``(relative path, bytes)``) and write its files.

        With ``parallel`` and more than one worker, the jobs run in forked processes, biggest
        first as given, each writing its own files; :meth:`finish` waits for them.
        """
        global _JOBS
        if not parallel or self.workers < 2 or len(jobs) < 2:
            for job in jobs:
                for rel, data in job():
                    self.put(rel, data)
            return
        _JOBS = (self.out_dir, self.manifest, jobs)
        self.procs = ProcessPoolExecutor(
            max_workers=min(self.workers, len(jobs)),
            mp_context=multiprocessing.get_context("fork"),
        )
        self.futures = [self.procs.submit(_run_job, i) for i in range(len(jobs))]

    def put(self, rel: str, data: bytes | Lazy) -> None:
        try:
            self.batch.put(rel, data)
        except (OSError, HomeError) as exc:
            raise self._error(exc) from exc

    def finish(self) -> tuple[list[str], int, list[str]]:
        """Wait for every write; return (written paths, unchanged count, removed paths)."""
        try:
            done = self.batch.done
            for fut in self.futures:
                part = fut.result()
                done.entries.update(part.entries)
                done.written += part.written
                done.unchanged += part.unchanged
            self.close()
            # Every file on disk before the manifest says so (one sync for all workers).
            _make_durable([self.out_dir / rel for rel in done.written])
            entries = {
                rel: e for rel, e in self.manifest.items() if e.get("format") not in self.formats
            }
            entries.update(done.entries)
            removed = []
            for rel, old in self.manifest.items():
                if old.get("format") in self.formats and rel not in done.entries:
                    (self.out_dir / rel).unlink(missing_ok=True)
                    removed.append(rel)
            body: dict[str, Any] = {
                "tool": "caselog-agent",
                "version": 1,
                "files": dict(sorted(entries.items())),
            }
            if self.extra:
                body["extra"] = dict(sorted(self.extra.items()))
            write_private(self.out_dir / MANIFEST, orjson.dumps(body, option=orjson.OPT_INDENT_2))
        except (OSError, HomeError) as exc:
            raise self._error(exc) from exc
        except BrokenProcessPool as exc:
            raise ArchiveError(
                "an export worker process stopped unexpectedly (out of memory?): "
                "run the export again, or with one worker"
            ) from exc
        return sorted(done.written), done.unchanged, sorted(removed)

    def close(self) -> None:
        """Stop the workers (after :meth:`finish`, or to give up after an error)."""
        global _JOBS
        if self.procs is not None:
            self.procs.shutdown(wait=True, cancel_futures=True)
            self.procs = None
        _JOBS = None

    def __enter__(self) -> ExportWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
