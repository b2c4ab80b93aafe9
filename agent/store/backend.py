"""Where a store's tables live, and how a commit replaces them all at once.

A store is a set of tables, each one JSON document (a TinyDB file). A command reads only the
tables it needs, and a commit rewrites only the tables that changed:

- :class:`FolderBackend` keeps each *generation* of an account's tables in its own folder
  (``data/<account>/g00000042/<table>.json``) and the name of the current one in
  ``data/<account>/CURRENT``. A commit writes a new generation (changed tables written,
  fsynced; unchanged ones hard-linked, so they cost nothing), renames it into place, then
  points ``CURRENT`` at it (temp file, fsync, rename): a process killed at any moment leaves
  the previous generation current and whole (a generation it renamed into place but never
  named in ``CURRENT`` is made again by the next commit). A commit refuses when ``CURRENT``
  no longer names the generation the store was read from (:class:`StoreConflict`: optimistic
  locking, for workers sharing one home). The previous generation is kept (a reader that read
  ``CURRENT`` just before a commit still finds it); older ones are removed.
- :class:`MemoryBackend` holds the tables in memory (tests).

A store written by caselog 0.1 (one file, ``data/<account>.json``, every table in it) is read
as it is, and turned into a folder by the first writer (the old file kept beside it, renamed
``.<account>.json.v1``).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import orjson

from agent.errors import StoreConflict, StoreCorrupt
from agent.home import cannot_write, pause_for_tests, private_dir, write_private

__all__ = ["Backend", "FolderBackend", "MemoryBackend", "legacy_file"]

_GENERATION = re.compile(r"^g(\d{8})$")


class Backend(Protocol):
    def read(self, table: str) -> bytes | None:
        """The table's JSON document, or None when the store has no such table."""
        ...

    def commit(self, tables: Mapping[str, bytes]) -> None:
        """Replace these tables (the others unchanged), all at once."""
        ...

    def has(self, table: str) -> bool:
        """Whether the store holds the table (without reading it)."""
        ...

    def exists(self) -> bool: ...

    def size(self) -> int:
        """Bytes the store's current tables take."""
        ...


class MemoryBackend:
    def __init__(self) -> None:
        self.tables: dict[str, bytes] = {}

    def read(self, table: str) -> bytes | None:
        return self.tables.get(table)

    def commit(self, tables: Mapping[str, bytes]) -> None:
        self.tables.update(tables)

    def has(self, table: str) -> bool:
        return table in self.tables

    def exists(self) -> bool:
        return bool(self.tables)

    def size(self) -> int:
        return sum(len(data) for data in self.tables.values())


def legacy_file(folder: Path) -> Path:
    """Where caselog 0.1 kept the same account's store: one file."""
    return folder.with_name(f"{folder.name}.json")


class FolderBackend:
    """An account's tables in generation folders (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._legacy: dict[str, object] | None = None
        self._current = self._read_current()

    # -- reading ---------------------------------------------------------------------------

    def _read_current(self) -> str | None:
        try:
            name = (self.folder / "CURRENT").read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise StoreCorrupt(f"cannot read {self.folder / 'CURRENT'} ({exc})") from None
        if not _GENERATION.match(name) or not (self.folder / name).is_dir():
            raise StoreCorrupt(
                f"{self.folder / 'CURRENT'} names no generation of the store ({name!r}); it was "
                "left untouched: restore the folder from a backup, or move it aside and sync again"
            )
        return name

    def exists(self) -> bool:
        return self._current is not None or legacy_file(self.folder).is_file()

    def size(self) -> int:
        if self._current is None:
            legacy = legacy_file(self.folder)
            return legacy.stat().st_size if legacy.is_file() else 0
        return sum(f.stat().st_size for f in (self.folder / self._current).glob("*.json"))

    def has(self, table: str) -> bool:
        if self._current is None:
            return self._read_legacy(table) is not None
        return (self.folder / self._current / f"{table}.json").is_file()

    def read(self, table: str) -> bytes | None:
        if self._current is None:
            return self._read_legacy(table)
        path = self.folder / self._current / f"{table}.json"
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreCorrupt(f"cannot read {path} ({exc}); fix its permissions") from None
        if not raw.strip():
            # A table is never written empty: an empty file is damage (a full disk, a copy
            # that failed), and reading it as empty would lose what should be there.
            raise StoreCorrupt(
                f"the store file {path} is empty; it was left untouched: restore the store from "
                "a backup or an export (caselog import), or move it aside and sync again"
            )
        return raw

    def _read_legacy(self, table: str) -> bytes | None:
        if self._legacy is None:
            path = legacy_file(self.folder)
            if not path.is_file():
                return None
            raw = path.read_bytes()
            if not raw.strip():
                raise StoreCorrupt(
                    f"the database {path} is empty ({len(raw)} bytes); it was left untouched: "
                    "restore it from a backup or an export (caselog import), or delete it to "
                    "start afresh"
                )
            try:
                data = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise StoreCorrupt(
                    f"the database {path} is not valid JSON ({exc}); it was left untouched: move "
                    "it aside or restore a backup, then sync again"
                ) from None
            if not isinstance(data, dict):
                raise StoreCorrupt(f"the database {path} has an unexpected layout; move it aside")
            self._legacy = data
        if table in self._legacy:
            return orjson.dumps({table: self._legacy[table]})
        return None

    def legacy_tables(self) -> dict[str, object] | None:
        """The tables of a caselog 0.1 store (for the migration), None when there is none."""
        if self._current is not None:
            return None
        self._read_legacy("meta")
        return self._legacy

    # -- writing ---------------------------------------------------------------------------

    def commit(self, tables: Mapping[str, bytes]) -> None:
        if not tables:
            return
        now = self._read_current()
        if now != self._current:
            # Optimistic locking: the writer's lock makes this impossible on one machine; on a
            # fleet it catches a worker that lost its account's lock (paused past the lock's
            # expiry) while another one committed. Writing would lose that commit.
            raise StoreConflict(
                f"the store {self.folder} was changed by another process since it was read "
                f"(generation {self._current or 'none'}, now {now}); nothing was written, and "
                "the next round reads it again"
            )
        private_dir(self.folder)
        number = int(self._current[1:]) + 1 if self._current else 1
        name = f"g{number:08d}"
        staging = self.folder / f".{name}.tmp"
        if staging.exists():
            shutil.rmtree(staging)
        if (self.folder / name).exists():
            # a writer killed between renaming this generation into place and naming it in
            # CURRENT: never named, so never read; made again below
            shutil.rmtree(self.folder / name)
        try:
            private_dir(staging)
            if self._current is not None:
                for old in (self.folder / self._current).glob("*.json"):
                    if old.stem not in tables:
                        _link(old, staging / old.name)
            for table, data in tables.items():
                _write(staging / f"{table}.json", data)
            _fsync_dir(staging)
            os.replace(staging, self.folder / name)
            _fsync_dir(self.folder)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise cannot_write(staging, exc) from exc
        write_private(self.folder / "CURRENT", f"{name}\n".encode())
        previous, self._current = self._current, name
        self._clean(keep={name, previous})
        legacy = legacy_file(self.folder)
        if legacy.is_file():  # the first commit after reading a caselog 0.1 store
            legacy.replace(legacy.with_name(f".{legacy.name}.v1"))

    def _clean(self, keep: set[str | None]) -> None:
        for entry in self.folder.iterdir():
            stale = _GENERATION.match(entry.name) and entry.name not in keep
            if stale or (entry.name.startswith(".g") and entry.name.endswith(".tmp")):
                shutil.rmtree(entry, ignore_errors=True)


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # a file system without hard links: copy instead
        shutil.copy2(source, target)


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        half = len(data) // 2
        fh.write(data[:half])
        pause_for_tests(path)
        fh.write(data[half:])
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can fsync a folder
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
