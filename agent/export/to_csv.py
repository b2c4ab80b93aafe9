"""``cases.csv`` and ``messages.csv``: what a spreadsheet opens, safely.

- UTF-8 with a byte-order mark, so Excel picks the right encoding; ``\\r\\n`` row ends.
- Formula injection: a cell that starts with ``= + - @``, a tab or a carriage return gets a
  single quote in front (:func:`neutralise`), so no spreadsheet runs it. Cells that already
  start with quotes followed by one of those get one more quote, so :func:`restore` (strip one
  quote from such cells) gives back exactly the stored value.
- Times are UTC ISO-8601 exactly as in ``archive.json``; lists are joined: CC with ``"; "``,
  attachment names one per line. Excel shows at most 32,767 characters of a cell: the CSV keeps
  every body whole; the JSON and HTML archives are the place to read very long ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from agent.core.labels import flag_label
from agent.core.times import iso_utc
from agent.export.facts import AccountBundles, active_flags, days_waiting

__all__ = [
    "CASE_COLUMNS",
    "MESSAGE_COLUMNS",
    "cases_csv",
    "cell",
    "messages_csv",
    "neutralise",
    "render",
    "restore",
]

CASE_COLUMNS: tuple[str, ...] = (
    # Amazon's own Export Report columns, in its order:
    "Case ID",
    "Status",
    "Short Description",
    "Case Creation Date",
    "Primary E-mail",
    "Last Updated",
    # What the agent knows on top:
    "Last Amazon Reply",
    "Whose Turn",
    "Days Waiting",
    "Active Flags",
    "Account",
    "Marketplace",
    "CC",
    "Status Code",
)

MESSAGE_COLUMNS: tuple[str, ...] = (
    "Case ID",
    "Message ID",
    "Direction",
    "Sender",
    "Sender E-mail",
    "Sent At",
    "Body",
    "Attachments",
)

CC_SEPARATOR = "; "
ATTACHMENT_SEPARATOR = "\n"

_DANGEROUS = re.compile(r"'*[=+\-@\t\r]")
_NEUTRALISED = re.compile(r"'+[=+\-@\t\r]")


_TRIGGERS = frozenset("=+-@\t\r'")


def neutralise(cell: str) -> str:
    """Prefix one ``'`` to a cell a spreadsheet could take for a formula."""
    if cell and cell[0] in _TRIGGERS and _DANGEROUS.match(cell):
        return "'" + cell
    return cell


def restore(cell: str) -> str:
    """Undo :func:`neutralise`: what a program reading the CSV should do to each cell."""
    return cell[1:] if _NEUTRALISED.match(cell) else cell


def cell(value: str) -> str:
    """One CSV field: neutralised, then quoted as the csv module (``QUOTE_MINIMAL``) would."""
    if value and value[0] in _TRIGGERS and _DANGEROUS.match(value):
        value = "'" + value
    if '"' in value:
        return '"' + value.replace('"', '""') + '"'
    if "," in value or "\n" in value or "\r" in value:
        return '"' + value + '"'
    return value


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    # Same bytes as csv.writer(lineterminator="\r\n") on neutralised cells, several times
    # faster on long bodies (the test suite checks the equivalence).
    lines = [",".join(map(cell, header))]
    lines += [",".join(map(cell, row)) for row in rows]
    lines.append("")
    return "\r\n".join(lines).encode("utf-8-sig")


def cases_csv(groups: Sequence[AccountBundles], *, now: datetime) -> bytes:
    """One row per case, accounts by name then cases by case ID."""

    def rows() -> Iterable[list[str]]:
        for acc in groups:
            for b in acc.cases:
                c = b.case
                waiting = days_waiting(b.since, now)
                flags = [
                    f"{flag_label(f.kind)} ({f.severity.value}, "
                    f"due {f.due_at.astimezone(b.tz):%Y-%m-%d})"
                    for f in active_flags(b.flags, now)
                ]
                yield [
                    c.case_id,
                    c.status_raw,
                    c.subject,
                    iso_utc(c.created_at),
                    c.primary_email,
                    iso_utc(c.last_updated_at),
                    iso_utc(c.last_amazon_reply_at),
                    b.turn.label,
                    "" if waiting is None else str(waiting),
                    "; ".join(flags),
                    c.account,
                    c.marketplace,
                    CC_SEPARATOR.join(c.cc),
                    c.status.value,
                ]

    return _table(CASE_COLUMNS, rows())


def messages_csv(groups: Sequence[AccountBundles]) -> bytes:
    """One row per message, by case then oldest first."""

    def rows() -> Iterable[list[str]]:
        for acc in groups:
            for b in acc.cases:
                for m in b.messages:
                    yield [
                        m.case_id,
                        m.message_id,
                        m.direction.value,
                        m.sender,
                        m.sender_email,
                        iso_utc(m.sent_at),
                        m.body,
                        ATTACHMENT_SEPARATOR.join(m.attachments),
                    ]

    return _table(MESSAGE_COLUMNS, rows())


def render(groups: Sequence[AccountBundles], *, now: datetime) -> dict[str, bytes]:
    return {"cases.csv": cases_csv(groups, now=now), "messages.csv": messages_csv(groups)}
