"""Parse the Case Log's dates in each marketplace's format into aware UTC datetimes.

US ``Nov 21, 2026 4:35 PM PST``, UK ``21 Nov 2026 16:35 GMT``, CN ``2026/11/21 16:35``,
and ISO 8601 (``2026-11-02T09:14:00-08:00``, the format name ``iso``).

- The trailing zone abbreviation (if any) is checked against the marketplace's time zone and
  settles the ambiguous hour when clocks go back.
- A time that carries its own offset (ISO 8601, or a format with ``%z``) keeps it: the map's
  time zone only applies to times written without one.
- A date without a year is refused: ``strptime`` would silently make it 1900.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from agent.core.text import squash
from agent.errors import DateParseError

__all__ = ["ISO", "DateParseError", "from_epoch", "parse_site_datetime"]

_ABBR = re.compile(r"\s+([A-Z]{2,5}|UTC|GMT[+-]\d{1,2})$")


ISO = "iso"
"""The date format name for ISO 8601 (with or without an offset)."""

_YEAR = re.compile(r"%[-#]?[YyGcx]")


def parse_site_datetime(text: str, formats: Sequence[str], zone: str) -> datetime:
    """Parse ``text`` with the first matching format (``strptime``, or ``iso``), in ``zone``
    unless it carries its own offset; return UTC."""
    cleaned = squash(text)
    tz = ZoneInfo(zone)
    if ISO in formats:
        try:
            parsed = datetime.fromisoformat(cleaned)
        except ValueError:
            pass
        else:
            local = parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)
            return local.astimezone(UTC)
    abbr = None
    match = _ABBR.search(cleaned)
    if match:
        abbr = match.group(1)
        cleaned = cleaned[: match.start()]
    for fmt in formats:
        if fmt == ISO:
            continue
        try:
            parsed = datetime.strptime(cleaned, fmt)
        except ValueError:
            continue
        if not _YEAR.search(fmt):
            raise DateParseError(
                f"date {text!r} has no year (format {fmt!r}); the selector map must read the "
                "full date, e.g. from a datetime attribute, rather than guess the year"
            )
        if parsed.tzinfo is not None:  # %z: the site wrote its own offset
            return parsed.astimezone(UTC)
        return _localize(parsed, tz, abbr).astimezone(UTC)
    raise DateParseError(f"date {text!r} matches none of the formats {list(formats)}")


def _localize(naive: datetime, tz: ZoneInfo, abbr: str | None) -> datetime:
    if abbr in ("UTC", "GMT") and naive.replace(tzinfo=tz).tzname() not in ("GMT", "UTC"):
        return naive.replace(tzinfo=UTC)
    for fold in (0, 1):
        candidate = naive.replace(tzinfo=tz, fold=fold)
        if abbr is None or candidate.tzname() == abbr:
            return candidate
    # The abbreviation names the other side of a DST change: trust the abbreviation.
    other = naive.replace(tzinfo=tz, fold=0)
    offset = other.utcoffset() or timedelta(0)
    shift = timedelta(hours=1) if abbr and abbr.endswith("ST") else -timedelta(hours=1)
    return (naive - offset + shift).replace(tzinfo=UTC) if abbr else other


def from_epoch(value: float | int | None, millis: bool = False) -> datetime | None:
    """An epoch timestamp from the JSON API (seconds, or milliseconds) as aware UTC."""
    if value is None:
        return None
    return datetime.fromtimestamp(value / 1000 if millis else value, UTC)
