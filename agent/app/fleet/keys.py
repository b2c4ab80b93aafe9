"""Every Redis key the fleet keeps (beside Celery's own queues and RedBeat's schedule).

All start with ``caselog:``; several homes may share a Redis server only through separate
databases (``redis://host:6379/1``), never one database.
"""

from __future__ import annotations

PREFIX = "caselog:"
BEAT_PREFIX = PREFIX + "beat:"  # RedBeat's schedule entries and its lock
PUBLISHED = PREFIX + "published"  # what the scheduler sent: a list of JSON lines


def lock(account: str) -> str:
    """Held by the worker running the account's round."""
    return f"{PREFIX}lock:{account}"


def done(task_id: str) -> str:
    """Set when a task has run to its end: a second delivery of it does nothing."""
    return f"{PREFIX}done:{task_id}"


def health(account: str) -> str:
    """The account's failures in a row, whether that was said, and its rest (JSON)."""
    return f"{PREFIX}health:{account}"


def rounds(account: str) -> str:
    """The account's latest rounds, newest last (a list of JSON lines)."""
    return f"{PREFIX}rounds:{account}"
