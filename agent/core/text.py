"""Text for matching and display: the one whitespace rule.

Text from the site is stored exactly as served; these functions make the forms that are
compared (a subject that only changed its spacing did not change) or shown in one line.
"""

from __future__ import annotations

__all__ = ["excerpt", "squash"]


def squash(text: str) -> str:
    """Every run of whitespace (spaces, tabs, newlines, no-break spaces) as one space,
    trimmed: ``"  a \\t b\\n"`` -> ``"a b"``."""
    return " ".join(text.split())


def excerpt(text: str, limit: int = 200) -> str:
    """The first ``limit`` characters of ``text`` squashed, with "…" where it was cut."""
    flat = squash(text)
    if len(flat) <= limit:
        return flat
    return flat[: limit - 1].rstrip() + "…"
