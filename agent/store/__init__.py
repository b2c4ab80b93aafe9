"""The local database: one TinyDB file per account (see :mod:`agent.store.store`)."""

from agent.store.schema import SCHEMA_VERSION
from agent.store.store import FlagStateRecord, SearchHit, Store

__all__ = ["SCHEMA_VERSION", "FlagStateRecord", "SearchHit", "Store"]
