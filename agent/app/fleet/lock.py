"""An account's lock in Redis: never two workers on one account's round.

A ``SET NX PX`` key (redis-py's :class:`redis.lock.Lock`: only its holder's token can extend
or release it) that expires after ``[fleet] lock_seconds``, renewed by a thread every third
of that while the round runs. A worker killed mid-round stops renewing: the lock is free
again at most ``lock_seconds`` later, when the task is delivered again (``acks_late``).

The lock is the guard between workers; the store's own file lock and its generation check
(:mod:`agent.store.backend`) are the last word on the store, so that even a worker that lost
its lock (paused past the expiry) cannot overwrite a newer generation.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from types import TracebackType

from redis import Redis
from redis.exceptions import LockError, RedisError
from redis.lock import Lock

from agent.app.fleet import keys

__all__ = ["AccountLock"]

log = logging.getLogger("caselog.fleet")


class AccountLock:
    def __init__(self, client: Redis, account: str, seconds: float) -> None:
        self.account = account
        self.seconds = seconds
        # thread_local=False: the renewing thread must see the token the task's thread got
        self._lock: Lock = client.lock(
            keys.lock(account), timeout=seconds, blocking=False, thread_local=False
        )
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.lost = False  # a renewal failed: another worker may have it now

    def acquire(self) -> bool:
        """True when this worker now holds the account; False when another one does."""
        if not self._lock.acquire(blocking=False):
            return False
        self._renewer = threading.Thread(
            target=self._renew, name=f"lock-{self.account}", daemon=True
        )
        self._renewer.start()
        return True

    def _renew(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            try:
                self._lock.reacquire()
            except (LockError, RedisError) as exc:
                self.lost = True
                log.warning("%s: the account's lock could not be renewed (%s)", self.account, exc)
                return

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        with contextlib.suppress(LockError, RedisError):  # expired or taken: nothing to free
            self._lock.release()

    def __enter__(self) -> AccountLock:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
