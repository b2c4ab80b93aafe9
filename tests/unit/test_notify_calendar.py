from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent.app.calendar_ics import render_calendar
from agent.app.notify import compose
from agent.core.models import Event, EventKind, Flag, FlagKind, FlagState, Severity

T0 = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)


def flag(
    fid: str, kind: FlagKind = FlagKind.FOLLOW_UP, state: FlagState = FlagState.ACTIVE
) -> Flag:
    return Flag(
        flag_id=fid,
        account="shop",
        case_id="12345678901",
        kind=kind,
        severity=Severity.WARNING,
        due_at=T0,
        reason="Pending Amazon Action since your message on 18 Nov; follow up, now.",
        state=state,
    )


def event(kind: EventKind, **kw: object) -> Event:
    return Event(
        event_id=f"e-{kind.value}",
        account="shop",
        case_id="12345678901",
        kind=kind,
        detected_at=T0,
        snapshot_id="s1",
        **kw,
    )  # type: ignore[arg-type]


def test_compose_nothing_new_is_silence() -> None:
    assert compose("shop", [event(EventKind.MESSAGE_FROM_SELLER)], [], []) is None


def test_compose_lists_due_and_news() -> None:
    notice = compose(
        "shop",
        [
            event(
                EventKind.STATUS_CHANGED,
                before={"status": "OPEN"},
                after={"status": "NEEDS_YOUR_ATTENTION"},
            )
        ],
        [flag("f1")],
        [],
    )
    assert notice is not None
    assert notice.title == "caselog shop: 1 need action, 1 change(s)"
    assert "status OPEN -> NEEDS_YOUR_ATTENTION" in notice.body
    assert "Pending Amazon Action since your message on 18 Nov" in notice.body


def test_calendar_is_valid_and_deterministic() -> None:
    flags = [flag("f1"), flag("f2", FlagKind.ESCALATE), flag("f3", state=FlagState.DONE)]
    subjects = {"12345678901": "Payments, disbursement; held " + "x" * 80}
    ics = render_calendar(flags, subjects, stamp=T0)
    assert ics == render_calendar(list(reversed(flags)), subjects, stamp=T0)
    assert ics.startswith("BEGIN:VCALENDAR\r\n") and ics.endswith("END:VCALENDAR\r\n")
    assert ics.count("BEGIN:VEVENT") == 2  # done flags are left out
    assert "UID:f1@caselog-agent" in ics and "DTSTART:20261120T170000Z" in ics
    assert "Payments\\, disbursement\\; held" in ics
    assert all(len(line.encode()) <= 75 for line in ics.split("\r\n"))
    end = T0 + timedelta(minutes=30)
    assert f"DTEND:{end:%Y%m%dT%H%M%SZ}" in ics
