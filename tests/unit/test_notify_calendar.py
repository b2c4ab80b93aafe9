"""Notices a seller can act on from a phone, and a calendar worth subscribing to (parsed back
with the icalendar library)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from agent.app.calendar_ics import Entry, calendar_slot, render_calendar, write_calendar
from agent.app.notify import DETAILED_UP_TO, DIGEST_LINES, Notifier, compose
from agent.config import Account, parse_settings
from agent.core.businesstime import BusinessCalendar
from agent.core.models import (
    Case,
    CaseStatus,
    Event,
    EventKind,
    Flag,
    FlagKind,
    FlagState,
    Severity,
)
from agent.core.present import TodoItem, todo_item
from agent.home import Home
from agent.store import Store

LA = ZoneInfo("America/Los_Angeles")
T0 = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)  # Friday 09:00 in Los Angeles
URL = "https://sellercentral.amazon.com/gp/case-dashboard/view-case.html?caseID=12345678901"
ACCOUNT = Account(name="shop", base_url="https://sellercentral.amazon.com", timezone=str(LA))


def case(case_id: str = "12345678901", subject: str = "Disbursement on hold") -> Case:
    return Case(
        case_id=case_id,
        account="shop",
        marketplace="ATVPDKIKX0DER",
        subject=subject,
        status=CaseStatus.PENDING_AMAZON_ACTION,
        status_raw="Pending Amazon Action",
        created_at=T0 - timedelta(days=5),
        first_seen_at=T0 - timedelta(days=5),
        last_seen_at=T0,
    )


def flag(
    fid: str,
    kind: FlagKind = FlagKind.FOLLOW_UP,
    state: FlagState = FlagState.ACTIVE,
    due_at: datetime = T0,
    case_id: str = "12345678901",
) -> Flag:
    return Flag(
        flag_id=fid,
        account="shop",
        case_id=case_id,
        kind=kind,
        severity=Severity.WARNING,
        due_at=due_at,
        reason="Pending Amazon Action since your message on 18 Nov; follow up now (due 20 Nov).",
        state=state,
    )


def item(f: Flag, c: Case | None = None, url: str = URL) -> TodoItem:
    return todo_item(f, c or case(f.case_id), LA, url)


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


# -- notices ---------------------------------------------------------------------------------


def test_compose_nothing_new_is_silence() -> None:
    assert compose("shop", [event(EventKind.MESSAGE_FROM_SELLER)], [], []) is None


def test_a_notice_names_the_account_the_case_what_to_do_and_the_link() -> None:
    status = event(
        EventKind.STATUS_CHANGED,
        before={"status": "PENDING_AMAZON_ACTION", "status_raw": "Pending Amazon Action"},
        after={"status": "WORK_IN_PROGRESS", "status_raw": "Work in progress"},
    )
    notice = compose("shop", [status], [item(flag("f1"))], [case()])
    assert notice is not None
    assert notice.title == "caselog shop: follow up: Disbursement on hold, 1 change"
    body = notice.body
    assert '- case 12345678901 "Disbursement on hold": Follow up, by 2026-11-20 09:00 PST' in body
    assert "What to do: Send Amazon a follow-up." in body
    assert "Why: Pending Amazon Action since your message on 18 Nov" in body
    assert URL in body
    assert "Status changed from Pending Amazon Action to Work in progress." in body
    assert "PENDING_AMAZON_ACTION" not in body and "follow_up" not in body


def test_many_due_items_come_as_one_digest() -> None:
    n = DIGEST_LINES + 3
    assert n > DETAILED_UP_TO
    items = [
        item(flag(f"f{i}", case_id=f"1234567{i:04d}"), case(f"1234567{i:04d}", f"Subject {i}"))
        for i in range(n)
    ]
    notice = compose("shop", [], items, [])
    assert notice is not None
    assert notice.title == f"caselog shop: {n} cases need action"
    lines = notice.body.splitlines()
    assert sum(line.startswith("- case ") for line in lines) == DIGEST_LINES
    assert lines[-1] == "… and 3 more: run `caselog due` for the list."
    assert "What to do" not in notice.body  # one line and a link each


def test_site_text_in_a_notice_is_shown_not_run() -> None:
    hostile = case(subject="\x1b]0;pwned\x07 \u202eevil")
    notice = compose("shop", [], [item(flag("f1"), hostile)], [hostile])
    assert notice is not None
    assert "\x1b" not in notice.body and "\u202e" not in notice.body
    assert "\\x1b]0;pwned\\x07" in notice.body


def test_no_target_accepts_nothing() -> None:
    notice = compose("shop", [], [item(flag("f1"))], [])
    assert notice is not None
    assert Notifier([]).send(notice) is False  # so the flag is not recorded as notified


# -- the calendar ----------------------------------------------------------------------------

BUSINESS = BusinessCalendar.of(ACCOUNT)  # Mon-Fri 9-17 Los Angeles


def parse(ics: bytes) -> list[icalendar.Event]:
    cal = icalendar.Calendar.from_ical(ics)
    return list(cal.walk("VEVENT"))


def inside_hours(event: icalendar.Event) -> bool:
    start = event.decoded("dtstart").astimezone(LA)
    end = event.decoded("dtend").astimezone(LA)
    return (
        start.weekday() < 5
        and start.date() == end.date()
        and start.hour >= 9
        and (end.hour, end.minute) <= (17, 0)
    )


@pytest.mark.parametrize(
    ("due_local", "now_local", "slot_local"),
    [
        pytest.param(
            (2026, 11, 23, 3, 40), (2026, 11, 20, 12, 0), (2026, 11, 23, 9, 0), id="03:40"
        ),
        pytest.param((2026, 11, 21, 11, 0), (2026, 11, 20, 12, 0), (2026, 11, 23, 9, 0), id="sat"),
        pytest.param(
            (2026, 11, 18, 10, 0), (2026, 11, 20, 12, 7), (2026, 11, 20, 12, 15), id="overdue-today"
        ),
        pytest.param(
            (2026, 11, 18, 10, 0), (2026, 11, 20, 16, 50), (2026, 11, 23, 9, 0), id="overdue-late"
        ),
        pytest.param(
            (2026, 11, 24, 14, 0), (2026, 11, 20, 12, 0), (2026, 11, 24, 14, 0), id="in-hours"
        ),
    ],
)
def test_events_fall_in_business_hours_and_never_in_the_past(
    due_local: tuple[int, ...], now_local: tuple[int, ...], slot_local: tuple[int, ...]
) -> None:
    due, now = datetime(*due_local, tzinfo=LA), datetime(*now_local, tzinfo=LA)
    assert calendar_slot(due, now, BUSINESS) == datetime(*slot_local, tzinfo=LA)


def test_the_calendar_parses_with_icalendar_and_keeps_its_uids() -> None:
    now = datetime(2026, 11, 20, 12, 7, tzinfo=LA)
    flags = [
        flag("f1", due_at=datetime(2026, 11, 18, 10, tzinfo=LA)),  # overdue
        flag("f2", FlagKind.ESCALATE, due_at=datetime(2026, 11, 21, 3, 40, tzinfo=LA)),
        flag("f3", FlagKind.REPLY_DUE, due_at=datetime(2026, 11, 24, 18, tzinfo=LA)),
    ]
    subject = "Payments, disbursement; held " + "x" * 80
    entries = [Entry(item(f, case(subject=subject)), BUSINESS) for f in flags]
    first = render_calendar(entries, stamp=now, now=now)
    later = now + timedelta(minutes=20)
    second = render_calendar(list(reversed(entries)), stamp=later, now=later)
    events = parse(first)
    assert [str(e["uid"]) for e in events] == [str(e["uid"]) for e in parse(second)]
    assert {str(e["uid"]) for e in events} == {"f1@caselog-agent", "f2@caselog-agent",
                                              "f3@caselog-agent"}  # fmt: skip
    for e in events:
        assert inside_hours(e), e.to_ical()
        assert e.decoded("dtstart") >= now
        assert str(e["url"]) == URL
        alarms = list(e.walk("VALARM"))
        assert len(alarms) == 1 and alarms[0].decoded("trigger") == -timedelta(minutes=10)
        assert subject in str(e["summary"])  # escaped and folded by icalendar, read back whole
    by_uid = {str(e["uid"]): e for e in events}
    assert str(by_uid["f1@caselog-agent"]["summary"]).startswith("Follow up: Payments")
    assert by_uid["f1@caselog-agent"].decoded("dtstart") == datetime(2026, 11, 20, 12, 15,
                                                                     tzinfo=LA)  # fmt: skip
    assert "Send Amazon a follow-up." in str(by_uid["f1@caselog-agent"]["description"])
    assert all(len(line) <= 75 for line in first.split(b"\r\n"))


def test_done_flags_are_left_out_and_snoozed_ones_wait(tmp_path: Path) -> None:
    now = datetime(2026, 11, 20, 12, tzinfo=LA)
    done = flag("f1", state=FlagState.DONE)
    snoozed = flag("f2", FlagKind.ESCALATE, state=FlagState.SNOOZED).model_copy(
        update={"snoozed_until": datetime(2026, 11, 24, 10, tzinfo=LA)}
    )
    entries = [Entry(item(f), BUSINESS) for f in (snoozed,)]
    events = parse(render_calendar(entries, stamp=now, now=now))
    assert [e.decoded("dtstart") for e in events] == [datetime(2026, 11, 24, 10, tzinfo=LA)]
    assert done.state is FlagState.DONE  # done flags never become to-do items (todo_items)


def test_write_calendar_from_the_store_twice_keeps_uids(tmp_path: Path) -> None:
    home = Home(tmp_path).ensure()
    (tmp_path / "caselog.toml").write_text(
        '[[accounts]]\nname = "shop"\nbase_url = "https://sellercentral.amazon.com"\n'
        'timezone = "America/Los_Angeles"\n'
    )
    settings = parse_settings((tmp_path / "caselog.toml").read_text())
    with Store.open(home.store_path("shop")) as store:
        store.put_cases([case(), case("12345678902", "Listing suppressed")])
        store.commit()
    now = datetime(2026, 11, 28, 10, 3, tzinfo=LA)  # a Saturday: nothing may fall today
    one = parse(write_calendar(home, settings, now).read_bytes())
    two = parse(write_calendar(home, settings, now + timedelta(hours=1)).read_bytes())
    assert one and {str(e["uid"]) for e in one} == {str(e["uid"]) for e in two}
    for e in one + two:
        assert inside_hours(e) and e.decoded("dtstart") > now
        assert "caseID=1234567890" in str(e["url"])
