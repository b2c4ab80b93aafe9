"""Tables of many rows, written line by line.

Rich's tables measure and wrap every cell before printing anything: fine for a screenful,
seconds for 10,000 cases, and piped to a file they squeeze into 80 columns and cut case IDs.
:func:`print_rows` writes plain aligned columns (two spaces apart, like ``ps`` or
``kubectl get``): every cell passed through :func:`agent.core.text.visible` on one line,
columns as wide as their widest cell, and on a terminal the one *flexible* column (a subject,
a snippet) cut to fit the window with ``…``. Piped, nothing is cut, so ``grep`` and ``cut``
see whole values. Rows are written in chunks as they are formatted.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from rich.cells import cell_len

from agent.core.text import visible

__all__ = ["Marked", "print_rows"]

GAP = "  "
_CHUNK = 500  # rows per write
_BOLD, _REVERSE, _RESET = "\x1b[1m", "\x1b[7m", "\x1b[0m"  # our own styling, never site text


@dataclass(frozen=True)
class Marked:
    """A cell with one span shown in reverse video on a terminal (a search match)."""

    text: str
    start: int
    end: int


Cell = str | Marked


def _plain(cell: Cell) -> str:
    if isinstance(cell, Marked):
        return visible(cell.text, one_line=True)
    return visible(cell, one_line=True)


def _cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, ``…`` where it was cut."""
    if cell_len(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = cell_len(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def _styled(cell: Cell, shown: str, colour: bool) -> str:
    """The marked span of ``cell`` in reverse video, when it survived the cut."""
    if not colour or not isinstance(cell, Marked):
        return shown
    before = visible(cell.text[: cell.start], one_line=True)
    match = visible(cell.text[cell.start : cell.end], one_line=True)
    if not shown.startswith(before + match):
        return shown
    after = shown[len(before) + len(match) :]
    return f"{before}{_REVERSE}{match}{_RESET}{after}"


def print_rows(
    headers: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    *,
    flexible: int | None = None,
    stream: TextIO | None = None,
    width: int | None = None,
) -> None:
    """Write ``rows`` under ``headers`` as aligned columns (see the module docstring).

    ``flexible`` is the index of the column cut to fit a terminal's ``width`` (the window's
    by default); on anything that is not a terminal no column is cut.
    """
    stream = stream or sys.stdout
    terminal = stream.isatty()
    cells = [[_plain(c) for c in row] for row in rows]
    widths = [cell_len(h) for h in headers]
    for row in cells:
        for i, text in enumerate(row):
            widths[i] = max(widths[i], cell_len(text))
    if terminal and flexible is not None:
        total = width or shutil.get_terminal_size().columns
        others = sum(w for i, w in enumerate(widths) if i != flexible) + len(GAP) * (
            len(widths) - 1
        )
        widths[flexible] = max(cell_len(headers[flexible]), min(widths[flexible], total - others))
    last = len(headers) - 1

    def line(texts: Sequence[str], raw: Sequence[Cell] | None) -> str:
        parts = []
        for i, text in enumerate(texts):
            shown = _cut(text, widths[i]) if terminal and i == flexible else text
            styled = _styled(raw[i], shown, terminal) if raw is not None else shown
            parts.append(styled if i == last else styled + " " * (widths[i] - cell_len(shown)))
        return GAP.join(parts).rstrip() + "\n"

    head = line(list(headers), None)
    stream.write(f"{_BOLD}{head[:-1]}{_RESET}\n" if terminal else head)
    for start in range(0, len(cells), _CHUNK):
        chunk = range(start, min(start + _CHUNK, len(cells)))
        stream.write("".join(line(cells[i], rows[i]) for i in chunk))
    stream.flush()
