"""One retry policy for every request the agent makes: page loads and the fetch pool alike.

What is retried: HTTP 429 and 5xx, timeouts and network errors. How long to wait: the site's
Retry-After when it gave one (capped at a minute), else exponential from 0.25 s, capped at
8 s. How often: ``max_retries`` times after the first try.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["MAX_RETRY_AFTER", "RetryPolicy", "backoff"]

MAX_RETRY_AFTER = 60.0


def backoff(attempt: int, retry_after: str | None = None) -> float:
    """Seconds to wait before retry ``attempt`` (0-based): the site's Retry-After when it gave
    one (capped at a minute), else exponential from 0.25 s, capped at 8 s."""
    if retry_after:
        try:
            return min(MAX_RETRY_AFTER, max(0.0, float(retry_after)))
        except ValueError:
            pass
    return min(8.0, 0.25 * (2**attempt))


@dataclass(frozen=True)
class RetryPolicy:
    """How often to try again, and how long to wait before each try."""

    max_retries: int
    sleep: Callable[[float], None] = time.sleep

    @staticmethod
    def retryable(status: int) -> bool:
        """An answer worth trying again: no answer (0), 429, or a server error."""
        return status in (0, 429) or status >= 500

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        return backoff(attempt, retry_after)

    def again(self, tried: int, retry_afters: Sequence[str | None] = (None,)) -> bool:
        """After ``tried`` tries that did not all succeed: False when the retries are used
        up; else wait the longest backoff of the failures (each with its Retry-After, if
        any; none at all when nothing failed, e.g. after signing in again) and say True."""
        if tried > self.max_retries:
            return False
        if retry_afters:
            self.sleep(max(self.delay(tried - 1, ra) for ra in retry_afters))
        return True
