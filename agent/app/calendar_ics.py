"""The to-do as a calendar a seller subscribes to: ``calendar/caselog.ics`` in the home.

Written with the `icalendar` library (RFC 5545: escaping, folding, the VALARM) after every
sync, snooze and done, and by ``watch``'s digest, so the calendar app always shows the same
list as ``caselog due``.

- One event per flag in force or snoozed (done flags are left out), due now or later.
- Each event falls inside the account's business hours and days, in its time zone
  (:class:`agent.core.businesstime.BusinessCalendar`): a flag due at 03:40 or on a Saturday
  is placed at the next opening; a flag already due (overdue) is moved to the next business
  slot from now (today, if today's hours are not over), because a calendar app shows no one
  an event in the past. A snoozed flag is placed where its snooze ends.
- ``SUMMARY`` says what to do and names the case by subject; ``DESCRIPTION`` has the
  action, the reason, the account and the link; ``URL`` is the case's Seller Central page;
  a ``VALARM`` rings :data:`ALARM_BEFORE` before it.
- ``UID`` is the flag's ID (``<flag_id>@caselog-agent``): the same flag gives the same UID
  on every write, so a calendar app updates its event instead of adding a second one.

:func:`render_calendar` is pure; :func:`write_calendar` reads every account's store.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from agent.app.accounts import each_store
from agent.app.flags import account_flags, account_todo, flaggable_cases
from agent.config import Settings
from agent.core.businesstime import BusinessCalendar
from agent.core.present import TodoItem
from agent.core.text import visible
from agent.home import Home, write_private

if TYPE_CHECKING:  # imported when a calendar is written: a read command never needs it
    import icalendar

__all__ = ["ALARM_BEFORE", "EVENT_LENGTH", "Entry", "calendar_slot", "render_calendar",
           "write_calendar"]  # fmt: skip

EVENT_LENGTH = timedelta(minutes=30)
ALARM_BEFORE = timedelta(minutes=10)
_QUARTER = 15 * 60


@dataclass(frozen=True)
class Entry:
    """One to-do item and the business calendar of its account."""

    item: TodoItem
    calendar: BusinessCalendar


def _ceil_quarter(instant: datetime) -> datetime:
    """``instant`` rounded up to the next quarter hour (seconds dropped)."""
    stamp = int(instant.timestamp())
    up = -(-stamp // _QUARTER) * _QUARTER
    return datetime.fromtimestamp(up, UTC)


def calendar_slot(
    start: datetime, now: datetime, calendar: BusinessCalendar, length: timedelta = EVENT_LENGTH
) -> datetime:
    """The first quarter-hour slot of ``length`` at or after ``start`` (and never before
    ``now``) that lies wholly inside the account's business hours and days."""
    earliest = max(start, now)
    for opens, closes in calendar.windows_from(earliest):
        slot = _ceil_quarter(opens)
        if slot + length <= closes:
            return slot
    raise AssertionError("unreachable: windows_from never ends")  # pragma: no cover


def _text(value: str) -> str:
    return visible(value, one_line=True)


def _event(entry: Entry, stamp: datetime, now: datetime) -> icalendar.Event:
    import icalendar

    item = entry.item
    start = calendar_slot(item.snoozed_until or item.due_at, now, entry.calendar)
    subject = " ".join(item.subject.split()) or f"case {item.case_id}"
    lines = [
        f"{item.action}.",
        item.why,
        f"Due: {item.by_when}.",
        f"Case {item.case_id} ({item.status}, {item.marketplace or 'marketplace unknown'}), "
        f"account {item.account}.",
    ]
    if item.url:
        lines.append(item.url)
    event = icalendar.Event()
    event.add("uid", f"{item.flag_id}@caselog-agent")
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", start + EVENT_LENGTH)
    event.add("summary", _text(f"{item.label}: {subject} (case {item.case_id})"))
    event.add("description", "\n".join(_text(line) for line in lines))
    event.add("categories", [item.label])
    if item.url:
        event.add("url", item.url)
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", _text(f"{item.label}: {subject}"))
    alarm.add("trigger", -ALARM_BEFORE)
    event.add_component(alarm)
    return event


def render_calendar(entries: Iterable[Entry], *, stamp: datetime, now: datetime) -> bytes:
    """The ICS file of ``entries``; the same entries, ``stamp`` and ``now`` give the same bytes."""
    import icalendar

    cal = icalendar.Calendar()
    cal.add("prodid", "-//caselog-agent//Case Log reminders//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Seller Central cases")
    for entry in sorted(entries, key=lambda e: (e.item.due_at, e.item.flag_id)):
        cal.add_component(_event(entry, stamp, now))
    return cal.to_ical()


def calendar_entries(home: Home, settings: Settings, now: datetime) -> list[Entry]:
    """Every configured account's to-do (due and upcoming) with its business calendar."""
    entries: list[Entry] = []
    for stored, store in each_store(home, settings):
        if stored.archived:
            continue
        cases = flaggable_cases(store)
        flags = account_flags(store, stored.account, settings, now, cases)
        due, upcoming = account_todo(stored.account, flags, cases, now)
        business = BusinessCalendar.of(stored.account)
        entries += [Entry(item, business) for item in (*due, *upcoming)]
    return entries


def write_calendar(
    home: Home, settings: Settings, now: datetime, entries: Sequence[Entry] | None = None
) -> Path:
    """Rewrite ``calendar/caselog.ics`` with every configured account's to-do."""
    if entries is None:
        entries = calendar_entries(home, settings, now)
    path = home.calendar_file
    write_private(path, render_calendar(entries, stamp=now, now=now))
    return path
