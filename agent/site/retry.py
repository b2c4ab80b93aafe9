"""How long to wait before trying a request again."""

from __future__ import annotations

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
