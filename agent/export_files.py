"""Putting an export on disk: private, atomic, and only what changed.

:class:`ExportWriter` receives rendered files (relative path + bytes) and makes the output
folder hold them. Folders are 0700 (:func:`agent.home.private_dir`), files 0600, each written
the way :func:`agent.home.write_private` writes (temp file, fsync, rename, then the folder is
fsynced), but batched: a small thread pool does the writes while rendering goes on, and each
folder is fsynced once at the end, which is what makes a 10,000-case export take seconds.

Rendering jobs (JSON, CSV, index pages, chunks of case pages) can run in forked worker
processes (:meth:`ExportWriter.run`) on machines with more than one core; each worker writes
its own files and reports back what it wrote. Without ``fork`` (Windows), with one core, or
for small exports, everything runs in this process.

A manifest (``.caselog-export.json``, written with ``write_private``) remembers each file's
SHA-256, size and mtime. A file whose new bytes hash the same, and which is still on disk with
the recorded size and mtime, is left alone. Files of an earlier export that this one no longer
produces (for the formats being exported) are removed; nothing else in the folder is touched.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from agent.errors import ArchiveError
from agent.home import private_dir, write_private

__all__ = ["MANIFEST", "ExportWriter", "Job", "format_of"]

MANIFEST = ".caselog-export.json"
_WRITER_THREADS = 8

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


def _write_one(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class _Done:
    """What one batch did: manifest entries of every file it produced, and which it wrote."""

    entries: dict[str, Entry] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)
    unchanged: int = 0


class _Batch:
    """Hash, compare, and write changed files on a thread pool; used in parent and workers."""

    def __init__(self, out_dir: Path, manifest: dict[str, Entry]) -> None:
        self.out_dir = out_dir
        self.manifest = manifest
        self.done = _Done()
        self.dirs: set[Path] = set()
        self.pending: list[tuple[str, Path, str, Future[None]]] = []
        self.pool: ThreadPoolExecutor | None = None

    def put(self, rel: str, data: bytes) -> None:
        if not _inside(rel):
            raise ArchiveError(f"refusing to write {rel!r} outside the export folder")
        path = self.out_dir / rel
        if path.parent not in self.dirs:
            private_dir(path.parent)
            self.dirs.add(path.parent)
        digest = hashlib.sha256(data).hexdigest()
        old = self.manifest.get(rel)
        if old is not None and old.get("sha256") == digest and self._still_there(path, old):
            self.done.entries[rel] = old
            self.done.unchanged += 1
            return
        if self.pool is None:
            self.pool = ThreadPoolExecutor(max_workers=_WRITER_THREADS)
        self.pending.append((rel, path, digest, self.pool.submit(_write_one, path, data)))

    @staticmethod
    def _still_there(path: Path, old: Entry) -> bool:
        try:
            st = path.lstat()
        except OSError:
            return False
        if (
            not path.is_file()
            or st.st_size != old.get("size")
            or st.st_mtime_ns != old.get("mtime")
        ):
            return False
        if st.st_mode & 0o777 != 0o600:
            os.chmod(path, 0o600)
        return True

    def close(self) -> _Done:
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        for _, _, _, fut in self.pending:
            fut.result()  # re-raise the first write error
        for d in {path.parent for _, path, _, _ in self.pending}:
            _fsync_dir(d)
        for rel, path, digest, _ in self.pending:
            st = path.stat()
            self.done.entries[rel] = {
                "format": format_of(rel),
                "sha256": digest,
                "size": st.st_size,
                "mtime": st.st_mtime_ns,
            }
            self.done.written.append(rel)
        return self.done


Job = Callable[[], Iterable[tuple[str, bytes]]]

# The jobs a forked worker inherits, with the manifest: set just before forking.
_JOBS: tuple[Path, dict[str, Entry], Sequence[Job]] | None = None


def _run_job(index: int) -> _Done:
    assert _JOBS is not None, "worker started without jobs"
    out_dir, manifest, jobs = _JOBS
    batch = _Batch(out_dir, manifest)
    try:
        for rel, data in jobs[index]():
            batch.put(rel, data)
    finally:
        done = batch.close()
    return done


def _default_workers() -> int:
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return min(os.cpu_count() or 1, 4)


class ExportWriter:
    """Write one export into ``out_dir``; call :meth:`finish` once at the end.

    ``formats`` are the formats this export produces: files of those formats that an earlier
    export wrote (per the manifest) and this one does not are removed by :meth:`finish`.
    """

    def __init__(self, out_dir: Path, formats: Iterable[str], *, workers: int | None = None):
        self.out_dir = Path(out_dir)
        self.formats = set(formats)
        self.workers = _default_workers() if workers is None else max(1, workers)
        try:
            private_dir(self.out_dir)
        except OSError as exc:
            raise self._error(exc) from exc
        self.manifest = _load_manifest(self.out_dir)
        self.batch = _Batch(self.out_dir, self.manifest)
        self.procs: ProcessPoolExecutor | None = None
        self.futures: list[Future[_Done]] = []

    def _error(self, exc: OSError) -> ArchiveError:
        return ArchiveError(f"cannot write the export to {self.out_dir}: {exc.strerror or exc}")

    def run(self, jobs: Sequence[Job], *, parallel: bool = True) -> None:
        """Run each job (a callable yielding ``(relative path, bytes)``) and write its files.

        With ``parallel`` and more than one worker, the jobs run in forked processes, biggest
        first as given, each writing its own files; :meth:`finish` waits for them. Call this
        before :meth:`put` (a process must not fork while its own writer threads run).
        """
        global _JOBS
        if not parallel or self.workers < 2 or len(jobs) < 2 or self.batch.pool is not None:
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

    def put(self, rel: str, data: bytes) -> None:
        try:
            self.batch.put(rel, data)
        except OSError as exc:
            raise self._error(exc) from exc

    def finish(self) -> tuple[list[str], int, list[str]]:
        """Wait for every write; return (written paths, unchanged count, removed paths)."""
        try:
            done = self.batch.close()
            for fut in self.futures:
                part = fut.result()
                done.entries.update(part.entries)
                done.written += part.written
                done.unchanged += part.unchanged
            self.close()
            entries = {
                rel: e for rel, e in self.manifest.items() if e.get("format") not in self.formats
            }
            entries.update(done.entries)
            removed = []
            for rel, old in self.manifest.items():
                if old.get("format") in self.formats and rel not in done.entries:
                    (self.out_dir / rel).unlink(missing_ok=True)
                    removed.append(rel)
            body = {"tool": "caselog-agent", "version": 1, "files": dict(sorted(entries.items()))}
            write_private(self.out_dir / MANIFEST, orjson.dumps(body, option=orjson.OPT_INDENT_2))
        except OSError as exc:
            raise self._error(exc) from exc
        return sorted(done.written), done.unchanged, sorted(removed)

    def close(self) -> None:
        """Stop the workers (after :meth:`finish`, or to give up after an error)."""
        global _JOBS
        if self.batch.pool is not None:
            self.batch.pool.shutdown(wait=True)
        if self.procs is not None:
            self.procs.shutdown(wait=True, cancel_futures=True)
            self.procs = None
        _JOBS = None

    def __enter__(self) -> ExportWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
