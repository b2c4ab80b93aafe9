"""Business-day arithmetic in an account's time zone, days and hours (pure, no clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.config import Account
from agent.core.businesstime import BusinessCalendar, add_business_days, steps_until
from agent.core.times import format_day, format_moment
from agent.errors import ConfigError

LA = ZoneInfo("America/Los_Angeles")
LONDON = ZoneInfo("Europe/London")
WEEKDAYS = frozenset(range(5))
NINE_TO_FIVE = BusinessCalendar(LA, WEEKDAYS, 9, 17)


def at(zone: ZoneInfo, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=zone)


# Nov 2026: Mon 16, Tue 17, Wed 18, Thu 19, Fri 20, Sat 21, Sun 22, Mon 23, Tue 24.
@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        pytest.param(
            at(LA, 11, 20, 16), 2, at(LA, 11, 24, 16), id="friday-16h-plus-2-is-tuesday-16h"
        ),
        pytest.param(
            at(LA, 11, 20, 20), 2, at(LA, 11, 24, 17), id="friday-evening-counts-from-monday"
        ),
        pytest.param(at(LA, 11, 21, 10), 2, at(LA, 11, 24, 17), id="saturday-counts-from-monday"),
        pytest.param(at(LA, 11, 16, 8), 1, at(LA, 11, 16, 17), id="before-opening-counts-from-9"),
        pytest.param(at(LA, 11, 16, 10), 0.5, at(LA, 11, 16, 14), id="half-day-is-4-working-hours"),
        pytest.param(at(LA, 11, 18, 12), 1, at(LA, 11, 19, 12), id="midweek-one-day"),
        pytest.param(at(LA, 11, 20, 17), 1, at(LA, 11, 23, 17), id="friday-closing-time"),
        pytest.param(at(LA, 11, 18, 12), 0, at(LA, 11, 18, 12), id="zero-days-is-start"),
        pytest.param(at(LA, 11, 16, 10), 5, at(LA, 11, 23, 10), id="five-days-is-a-week"),
    ],
)
def test_add_business_days_nine_to_five(start: datetime, days: float, expected: datetime) -> None:
    assert add_business_days(start, days, NINE_TO_FIVE) == expected


@pytest.mark.parametrize(
    ("calendar", "start", "days", "expected"),
    [
        pytest.param(
            BusinessCalendar(LA, frozenset({6, 0, 1, 2, 3}), 9, 17),
            at(LA, 11, 19, 16),
            1,
            at(LA, 11, 22, 16),
            id="sunday-to-thursday-week-skips-fri-sat",
        ),
        pytest.param(
            BusinessCalendar(LA, frozenset(range(7)), 0, 24),
            at(LA, 11, 21, 3),
            1,
            at(LA, 11, 22, 3),
            id="round-the-clock-is-24h",
        ),
        pytest.param(
            BusinessCalendar(LA, WEEKDAYS, 8, 12),
            at(LA, 11, 16, 11),
            1,
            at(LA, 11, 17, 11),
            id="short-hours-4h-day",
        ),
        pytest.param(
            BusinessCalendar(LONDON, WEEKDAYS, 9, 17),
            at(LONDON, 10, 23, 16),
            2,
            at(LONDON, 10, 27, 16),
            id="across-the-autumn-clock-change",
        ),
    ],
)
def test_add_business_days_other_calendars(
    calendar: BusinessCalendar, start: datetime, days: float, expected: datetime
) -> None:
    result = add_business_days(start, days, calendar)
    assert result == expected
    assert result.astimezone(calendar.zone).hour == expected.hour


@pytest.mark.parametrize(
    ("zone", "expected_utc"),
    [
        # 23:30 UTC Friday is 15:30 in Los Angeles (working) but 23:30 in London (closed).
        pytest.param("America/Los_Angeles", datetime(2026, 11, 23, 23, 30, tzinfo=UTC), id="LA"),
        pytest.param("Europe/London", datetime(2026, 11, 23, 17, 0, tzinfo=UTC), id="London"),
    ],
)
def test_the_same_instant_in_two_account_zones(zone: str, expected_utc: datetime) -> None:
    account = Account(name="acme", base_url="https://sellercentral.example", timezone=zone)
    start = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    assert add_business_days(start, 1, BusinessCalendar.of(account)) == expected_utc


def test_calendar_of_account_uses_its_days_and_hours() -> None:
    account = Account(
        name="acme",
        base_url="https://sellercentral.example",
        timezone="Europe/London",
        business_days=[0, 1, 2, 3],
        business_hours=(10, 14),
    )
    cal = BusinessCalendar.of(account)
    assert (cal.zone, cal.days, cal.opens, cal.closes) == (LONDON, frozenset({0, 1, 2, 3}), 10, 14)


@pytest.mark.parametrize(
    ("days", "opens", "closes", "message"),
    [
        pytest.param(frozenset(), 9, 17, "weekday numbers", id="no-days"),
        pytest.param(frozenset({7}), 9, 17, "weekday numbers", id="day-out-of-range"),
        pytest.param(WEEKDAYS, 17, 9, "open < close", id="hours-reversed"),
        pytest.param(WEEKDAYS, 9, 25, "open < close", id="hours-past-midnight"),
    ],
)
def test_calendar_rejects_nonsense(
    days: frozenset[int], opens: int, closes: int, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        BusinessCalendar(LA, days, opens, closes)


def test_negative_days_and_naive_datetimes_are_refused() -> None:
    with pytest.raises(ConfigError, match="negative"):
        add_business_days(at(LA, 11, 16, 10), -1, NINE_TO_FIVE)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_days(datetime(2026, 11, 16, 10), 1, NINE_TO_FIVE)


@pytest.mark.parametrize(
    ("zone", "year", "expected_day", "expected_moment"),
    [
        pytest.param(LA, False, "18 Nov", "18 Nov 19:05", id="LA-previous-evening"),
        pytest.param(LONDON, False, "19 Nov", "19 Nov 03:05", id="London-same-night"),
        pytest.param(LONDON, True, "19 Nov 2026", "19 Nov 2026 03:05", id="with-year"),
    ],
)
def test_format_in_the_account_zone(
    zone: ZoneInfo, year: bool, expected_day: str, expected_moment: str
) -> None:
    instant = datetime(2026, 11, 19, 3, 5, tzinfo=UTC)
    assert format_day(instant, zone, year=year) == expected_day
    assert format_moment(instant, zone, year=year) == expected_moment


@pytest.mark.parametrize(
    ("calendar", "start", "step"),
    [
        pytest.param(NINE_TO_FIVE, at(LA, 11, 16, 10), 2, id="two-days"),
        pytest.param(NINE_TO_FIVE, at(LA, 11, 20, 16), 1, id="half-steps-from-friday"),
        pytest.param(NINE_TO_FIVE, at(LA, 11, 21, 3), 0.5, id="from-a-weekend-half-days"),
        pytest.param(NINE_TO_FIVE, at(LA, 11, 16, 9), 1, id="steps-ending-at-closing-time"),
        pytest.param(
            BusinessCalendar(LONDON, WEEKDAYS, 9, 17), at(LONDON, 10, 20, 12), 2, id="dst"
        ),
        pytest.param(
            BusinessCalendar(LA, frozenset(range(7)), 0, 24), at(LA, 11, 1, 5), 3, id="24h"
        ),
    ],
)
def test_steps_until_matches_repeated_additions(
    calendar: BusinessCalendar, start: datetime, step: float
) -> None:
    for until in (start, *(start + timedelta(hours=h) for h in range(1, 24 * 40, 7))):
        count, last = 0, start
        while (following := add_business_days(last, step, calendar)) <= until:
            count, last = count + 1, following
        assert steps_until(start, step, until, calendar) == (count, last), until


def test_steps_until_refuses_a_step_of_nothing() -> None:
    with pytest.raises(ConfigError, match="positive"):
        steps_until(at(LA, 11, 16, 10), 0, at(LA, 11, 30, 10), NINE_TO_FIVE)


@pytest.mark.parametrize(
    "calendar",
    [
        pytest.param(NINE_TO_FIVE, id="la"),
        pytest.param(BusinessCalendar(LONDON, frozenset({0, 2, 4}), 8, 18), id="london-mwf"),
        pytest.param(BusinessCalendar(LA, frozenset(range(7)), 0, 24), id="24h-no-skipping"),
    ],
)
@pytest.mark.parametrize("step", [0.5, 2, 7])
def test_long_spans_skip_weeks_with_the_same_answer(
    calendar: BusinessCalendar, step: float
) -> None:
    """Months of waiting (across both clock changes) give what walking day by day gives."""
    start = at(LA, 1, 14, 11) if calendar.zone is LA else at(LONDON, 1, 14, 11)
    for days in (16, 40, 97, 200, 330):
        until = start + timedelta(days=days, hours=5)
        count, last = 0, start
        while (following := add_business_days(last, step, calendar)) <= until:
            count, last = count + 1, following
        assert steps_until(start, step, until, calendar) == (count, last), (days, step)
        work = calendar.day_length * step * count
        assert add_business_days(start, step * count, calendar) == last
        assert calendar.work_between(start, last) == work
