"""An iCalendar (RFC 5545) file of due follow-ups and escalations, for a calendar app.

:func:`render_calendar` is pure; :func:`write_calendar` writes every account's flags to
``calendar/caselog.ics`` in the home, which a calendar app subscribes to.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from agent.app.accounts import each_store
from agent.app.todo import account_flags
from agent.config import Settings
from agent.core.models import Flag, FlagKind, FlagState
from agent.core.text import visible
from agent.home import Home, write_private

CALENDAR_KINDS = frozenset(
    {
        FlagKind.FOLLOW_UP,
        FlagKind.ESCALATE,
        FlagKind.REPLY_DUE,
        FlagKind.CLOSES_SOON,
        FlagKind.REOPEN_WINDOW,
    }
)


def _escape(text: str) -> str:
    return (
        visible(text, one_line=True).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    )


def _fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 3.1), never inside a UTF-8 sequence."""
    out: list[str] = []
    current = ""
    for ch in line:
        limit = 75 if not out else 74
        if len((current + ch).encode()) > limit:
            out.append(current)
            current = ch
        else:
            current += ch
    out.append(current)
    return "\r\n ".join(out)


def _stamp(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%SZ")


def render_calendar(flags: Iterable[Flag], subjects: dict[str, str], *, stamp: datetime) -> str:
    """One VEVENT per active flag; the same flags give the same bytes."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//caselog-agent//Case Log reminders//EN",
        "CALSCALE:GREGORIAN",
        "X-WR-CALNAME:Seller Central cases",
    ]
    chosen = sorted(
        (f for f in flags if f.kind in CALENDAR_KINDS and f.state is not FlagState.DONE),
        key=lambda f: (f.due_at, f.flag_id),
    )
    for flag in chosen:
        start = (
            flag.snoozed_until
            if flag.state is FlagState.SNOOZED and flag.snoozed_until
            else flag.due_at
        )
        what = flag.kind.value.replace("_", " ")
        subject = subjects.get(flag.case_id, "")
        lines += [
            "BEGIN:VEVENT",
            f"UID:{flag.flag_id}@caselog-agent",
            f"DTSTAMP:{_stamp(stamp)}",
            f"DTSTART:{_stamp(start)}",
            f"DTEND:{_stamp(start + timedelta(minutes=30))}",
            _fold(
                f"SUMMARY:{_escape(f'{what.capitalize()}: case {flag.case_id} {subject}'.strip())}"
            ),
            _fold(f"DESCRIPTION:{_escape(flag.reason)}"),
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def write_calendar(home: Home, settings: Settings, now: datetime) -> Path:
    """Rewrite the ICS file with every account's flags (a calendar subscribes to it)."""
    flags: list[Flag] = []
    subjects: dict[str, str] = {}
    for stored, store in each_store(home, settings):
        if stored.archived:
            continue
        flags += account_flags(store, stored.account, settings, now)
        subjects.update({c.case_id: c.subject for c in store.cases()})
    path = home.calendar_file
    write_private(path, render_calendar(flags, subjects, stamp=now).encode())
    return path
