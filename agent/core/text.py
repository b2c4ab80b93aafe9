"""Text for matching and display: the one whitespace rule, and text made safe to show.

Text from the site is stored exactly as served; these functions make the forms that are
compared (a subject that only changed its spacing did not change) or shown to a person.

:func:`visible` is the one rule for showing site text anywhere a person reads it (terminal,
notices, Markdown): control characters (C0 but newline and tab, DEL, C1, so ESC, CSI, OSC,
``\\x9b``...) and the bidirectional overrides, embeddings and isolates that reorder what
follows them ("Trojan source") are written as visible escapes (``\\x1b``, ``\\u202e``), so
nothing a case says can move the cursor, retitle the terminal, clear the screen or reverse
the text after it. Everything else, emoji and right-to-left scripts included, is shown as is.
"""

from __future__ import annotations

import re

__all__ = ["excerpt", "squash", "visible"]

# C0 controls but \t and \n (CR too: it returns the cursor and overwrites the line), DEL,
# C1 controls, bidi embeddings/overrides (U+202A-202E) and isolates (U+2066-2069).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x0A:
        return "\\n"
    if code == 0x09:
        return "\\t"
    if code == 0x0D:
        return "\\r"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str, *, one_line: bool = False) -> str:
    """``text`` with every control and reordering character written as a visible escape.

    ``one_line`` also escapes newlines and tabs (a table cell, a title)."""
    pattern = _UNSAFE_ONE_LINE if one_line else _UNSAFE
    return pattern.sub(_escape, text)


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
