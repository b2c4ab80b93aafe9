"""The store's schema version, and what to do with a database written by another version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.errors import StoreCorrupt

SCHEMA_VERSION = 1
"""The layout this code writes: the tables below, one document per record, ``meta`` doc 1."""

TABLES = ("cases", "messages", "snapshots", "events", "flag_states", "outbox", "meta")


def check_schema(meta: dict[str, Any] | None, path: Path | None) -> dict[str, Any] | None:
    """The ``meta`` document to write for a database whose ``meta`` is ``meta``: a new one for a
    new database, None when it is current; a newer layout than this code knows is refused."""
    if meta is None:
        return {"schema_version": SCHEMA_VERSION}
    version = meta.get("schema_version", 0)
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise StoreCorrupt(
            f"the database {path} was written by a newer caselog (schema {version}); upgrade "
            "caselog-agent to read it"
        )
    return None
