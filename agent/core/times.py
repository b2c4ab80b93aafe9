"""Instants as text, and text as durations: one definition of each, used by every layer.

- :func:`key_time` is the form baked into stored identifiers (message ids, flag ids, list-row
  fingerprints): Python's ISO form of the UTC instant, ``2026-11-21T16:35:00+00:00``. It
  must never change, or stored snoozes and messages would no longer be recognised.
- :func:`iso_utc` is the form shown and exported (``archive.json``, CSV, HTML ``datetime``):
  the same instant with ``Z``, as pydantic writes it.
- :func:`local_time`, :func:`format_day` and :func:`format_moment` are for people, in the
  account's time zone.
- :func:`parse_duration` reads every "how long" a command accepts (``7d``, ``36h``).
- :func:`parse_since` reads every ``--since`` (``changes``, ``export``): a duration back from
  now (``7d``) or a date / date and time (``2026-09-01``, ``2026-09-01T08:00``), which is in
  the account's time zone unless it carries its own offset. :func:`parse_instant` reads a
  moment (``due --at``) the same way.

Pure: nothing here reads the clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from agent.errors import ConfigError

__all__ = [
    "format_day",
    "format_moment",
    "iso_utc",
    "key_time",
    "local_time",
    "parse_duration",
    "parse_instant",
    "parse_since",
    "require_aware",
]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def require_aware(instant: datetime, what: str = "datetime") -> datetime:
    """``instant`` itself; a naive datetime is a programming error (ValueError)."""
    if instant.tzinfo is None:
        raise ValueError(f"{what} {instant.isoformat()} must be timezone-aware")
    return instant


def key_time(value: datetime | None) -> str:
    """The UTC instant as stored identifiers spell it (``...+00:00``); '' for None."""
    if value is None:
        return ""
    return require_aware(value).astimezone(UTC).isoformat()


def iso_utc(value: datetime | None) -> str:
    """UTC ISO-8601 with ``Z``, as ``archive.json`` and pydantic write it; '' for None."""
    text = key_time(value)
    return text[:-6] + "Z" if text.endswith("+00:00") else text


@lru_cache(maxsize=8192)
def local_time(value: datetime | None, tz: ZoneInfo) -> str:
    """``2026-11-21 08:35 PST`` in the account's time zone; '' for None."""
    if value is None:
        return ""
    d = value.astimezone(tz)
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d} {d.hour:02d}:{d.minute:02d} {d.tzname()}"


def format_day(instant: datetime, zone: ZoneInfo, *, year: bool = False) -> str:
    """``18 Nov`` (or ``18 Nov 2026``) in ``zone``."""
    local = require_aware(instant).astimezone(zone)
    text = f"{local.day} {_MONTHS[local.month - 1]}"
    return f"{text} {local.year}" if year else text


def format_moment(instant: datetime, zone: ZoneInfo, *, year: bool = False) -> str:
    """``18 Nov 14:05`` (or with the year) in ``zone``."""
    local = require_aware(instant).astimezone(zone)
    return f"{format_day(local, zone, year=year)} {local:%H:%M}"


def parse_duration(text: str) -> timedelta:
    """``2d``, ``36h``, ``90m``, ``1w`` -> timedelta; anything else is a :class:`ConfigError`."""
    value, unit = text[:-1], text[-1:].lower()
    try:
        amount = float(value)
    except ValueError:
        amount = -1
    if unit not in _UNITS or amount <= 0:
        raise ConfigError(f"cannot read the duration {text!r}; write it like 2d, 36h, 90m or 1w")
    return timedelta(**{_UNITS[unit]: amount})


def parse_instant(text: str, zone: ZoneInfo, *, what: str = "--at") -> datetime:
    """``2026-09-01`` (midnight) or ``2026-09-01T08:00`` / ``2026-09-01 08:00`` in ``zone``,
    or with its own offset (``...Z``, ``...+02:00``); anything else is a :class:`ConfigError`."""
    raw = text.strip()
    try:
        parsed = datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw)
    except ValueError:
        raise ConfigError(
            f"{what} {text!r} is not a date; write it like 2026-09-01 or 2026-09-01T08:00"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def parse_since(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """The start of a ``--since``: ``7d`` / ``36h`` / ``90m`` / ``2w`` before ``now``, or a
    date (``2026-09-01``, midnight in ``zone``) or date and time; one form for every command."""
    raw = text.strip()
    if raw[-1:].lower() in _UNITS and raw[:-1].replace(".", "", 1).isdigit():
        return require_aware(now, "now") - parse_duration(raw)
    if not raw[:1].isdigit() or "-" not in raw:
        raise ConfigError(
            f"--since {text!r} is neither a duration nor a date; write it like 7d, 36h, "
            "2026-09-01 or 2026-09-01T08:00"
        )
    return parse_instant(raw, zone, what="--since")
