"""A TinyDB storage that writes only when told to, atomically and privately (0600).

:class:`AtomicJSONStorage` keeps the data in memory and writes it only on :meth:`flush` (one
flush per sync) as a temporary file in the same directory, fsynced, then renamed over the old
one, mode 0600 (:func:`agent.home.write_private`). A process killed at any moment leaves the
previous file intact. Closing never writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

from agent.errors import StoreCorrupt
from agent.home import write_private


class AtomicJSONStorage(Storage):
    """A TinyDB storage that flushes explicitly, atomically and privately (0600)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._data: dict[str, dict[str, Any]] | None = None
        self._loaded = False
        self.dirty = False

    def read(self) -> dict[str, dict[str, Any]] | None:
        if not self._loaded:
            self._data = self._load()
            self._loaded = True
        return self._data

    def _load(self) -> dict[str, dict[str, Any]] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreCorrupt(
                f"cannot read the database {self.path} ({exc}); fix its permissions"
            ) from None
        if not raw.strip():
            # A database is never written empty (a new one is written whole on its first
            # commit): an empty file is damage (a full disk, a copy that failed), and
            # treating it as a fresh database would overwrite whatever should be there.
            raise StoreCorrupt(
                f"the database {self.path} is empty ({len(raw)} bytes); it was left untouched: "
                "restore it from a backup or an export (caselog import), or delete it to start "
                "afresh"
            )
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise StoreCorrupt(
                f"the database {self.path} is not valid JSON ({exc}); it was left untouched: "
                "move it aside or restore a backup, then sync again"
            ) from None
        if not isinstance(data, dict):
            raise StoreCorrupt(f"the database {self.path} has an unexpected layout; move it aside")
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self._data = data
        self._loaded = True
        self.dirty = True

    def flush(self) -> None:
        if not self.dirty or self._data is None:
            return
        write_private(self.path, orjson.dumps(self._data))
        self.dirty = False

    def close(self) -> None:
        """Closing never writes: only :meth:`flush` does, so a failed run changes nothing."""
