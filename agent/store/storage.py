"""A TinyDB storage for one table of a store: read from its backend when first used, kept in
memory, and handed back to the backend only by the store's commit (closing never writes)."""

from __future__ import annotations

from typing import Any

import orjson
from tinydb.storages import Storage

from agent.errors import StoreCorrupt
from agent.store.backend import Backend

__all__ = ["TableStorage"]


class TableStorage(Storage):
    def __init__(self, backend: Backend, table: str) -> None:
        self.backend = backend
        self.table = table
        self._data: dict[str, dict[str, Any]] | None = None
        self._loaded = False
        self.dirty = False

    @property
    def loaded(self) -> bool:
        return self._loaded

    def read(self) -> dict[str, dict[str, Any]] | None:
        if not self._loaded:
            self._data = self._load()
            self._loaded = True
        return self._data

    def _load(self) -> dict[str, dict[str, Any]] | None:
        raw = self.backend.read(self.table)
        if raw is None:
            return None
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise StoreCorrupt(
                f"the store's {self.table} table is not valid JSON ({exc}); it was left "
                "untouched: restore a backup, or move the store aside and sync again"
            ) from None
        if not isinstance(data, dict):
            raise StoreCorrupt(f"the store's {self.table} table has an unexpected layout")
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self._data = data
        self._loaded = True
        self.dirty = True

    def dump(self) -> bytes:
        return orjson.dumps(self._data or {})

    def close(self) -> None:
        """Closing never writes: only the store's commit does, so a failed run changes nothing."""
