"""Business time in an account's own calendar: time zone, working days and working hours.

A business day is the span of the account's working hours on one of its working days, so
"2 business days" from Friday 16:00 (hours 9-17) is 16 working hours later: Tuesday 16:00.
Fractions work the same way (half a business day = 4 working hours with 9-17).

Long spans (a case waiting for months) skip whole weeks instead of walking day by day: any
seven days hold the same working time, as long as the working hours keep clear of the hours
in which clocks change (0-4 h); other calendars walk every day.

Pure: every function takes the instants it works on and never reads the clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from agent.config import Account
from agent.core.times import require_aware
from agent.errors import ConfigError

__all__ = ["BusinessCalendar", "add_business_days", "steps_until"]


@dataclass(frozen=True)
class BusinessCalendar:
    """When an account works: ``days`` (Monday = 0) from ``opens`` to ``closes`` o'clock."""

    zone: ZoneInfo
    days: frozenset[int]
    opens: int
    closes: int
    _windows: dict[date, tuple[datetime, datetime]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        if not self.days or not self.days <= frozenset(range(7)):
            raise ConfigError(
                f"business_days must be weekday numbers 0-6 (0 = Monday), got {sorted(self.days)}"
            )
        if not 0 <= self.opens < self.closes <= 24:
            raise ConfigError(
                f"business_hours must be 0 <= open < close <= 24, got {self.opens}-{self.closes}"
            )

    @classmethod
    def of(cls, account: Account) -> BusinessCalendar:
        opens, closes = account.business_hours
        return cls(ZoneInfo(account.timezone), frozenset(account.business_days), opens, closes)

    @property
    def day_length(self) -> timedelta:
        return timedelta(hours=self.closes - self.opens)

    @property
    def week_work(self) -> timedelta:
        """Working time in any seven consecutive days."""
        return self.day_length * len(self.days)

    @property
    def weeks_skippable(self) -> bool:
        """Whether whole weeks may be skipped: every working day is as long as the others
        (no clock change inside the working hours)."""
        return self.opens >= 4 and self.closes <= 23

    def weeks_later(self, instant: datetime, weeks: int) -> datetime:
        """``instant`` ``weeks`` weeks later on the wall clock (UTC)."""
        local = self.local(instant) + timedelta(days=7 * weeks)
        return local.astimezone(UTC)

    def work_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from ``start`` to ``end`` (zero if ``end`` is not later)."""
        total = timedelta(0)
        start = require_aware(start).astimezone(UTC)
        end = require_aware(end).astimezone(UTC)
        if self.weeks_skippable and end - start > timedelta(days=15):
            weeks = (end - start).days // 7 - 1
            total += self.week_work * weeks
            start = self.weeks_later(start, weeks)
        for opens, closes in self.windows_from(start):
            if opens >= end:
                break
            total += min(closes, end) - opens
        return total

    def local(self, instant: datetime) -> datetime:
        return require_aware(instant).astimezone(self.zone)

    def windows_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working windows (UTC start, UTC end) from ``start`` on, the first one clipped."""
        start = require_aware(start).astimezone(UTC)
        day = self.local(start).date()
        while True:
            if day.weekday() in self.days:
                opens, closes = self._window(day)
                if closes > start:
                    yield max(opens, start), closes
            day += timedelta(days=1)

    def _window(self, day: date) -> tuple[datetime, datetime]:
        """The working window of ``day`` in UTC (remembered: every case walks the same days)."""
        window = self._windows.get(day)
        if window is None:
            opens = datetime.combine(day, time(self.opens), tzinfo=self.zone)
            if self.closes == 24:
                closes = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone)
            else:
                closes = datetime.combine(day, time(self.closes), tzinfo=self.zone)
            window = self._windows[day] = (opens.astimezone(UTC), closes.astimezone(UTC))
        return window


def add_business_days(start: datetime, days: float, calendar: BusinessCalendar) -> datetime:
    """The instant ``days`` business days of working time after ``start`` (UTC).

    Time outside working hours does not count; a start outside them counts from the next
    opening. Zero days is ``start`` itself.
    """
    if days < 0:
        raise ConfigError(f"cannot add a negative number of business days ({days}); check [rules]")
    return add_work(start, calendar.day_length * days, calendar)


def add_work(start: datetime, remaining: timedelta, calendar: BusinessCalendar) -> datetime:
    """The instant ``remaining`` working time after ``start`` (UTC)."""
    if remaining <= timedelta(0):
        return require_aware(start).astimezone(UTC)
    week = calendar.week_work
    if calendar.weeks_skippable and remaining > week * 2:
        weeks = int(remaining // week) - 1
        start = calendar.weeks_later(start, weeks)
        remaining -= week * weeks
    for opens, closes in calendar.windows_from(start):
        if remaining <= closes - opens:
            return opens + remaining
        remaining -= closes - opens
    raise AssertionError("unreachable: windows_from never ends")  # pragma: no cover


def steps_until(
    start: datetime, step_days: float, until: datetime, calendar: BusinessCalendar
) -> tuple[int, datetime]:
    """How many steps of ``step_days`` business days, one after another from ``start``, end
    by ``until``; and where the last of them ends (``start`` if none does).

    The same as calling :func:`add_business_days` repeatedly, in one walk over the days.
    """
    step = calendar.day_length * step_days
    if step <= timedelta(0):
        raise ConfigError(
            f"a follow-up step must be a positive number of business days ({step_days}); "
            "check follow_up_business_days and urgent_factor in [rules]"
        )
    start = require_aware(start).astimezone(UTC)
    if calendar.weeks_skippable and until - start > timedelta(days=15):
        count = calendar.work_between(start, until) // step
        if count == 0:
            return 0, start
        return count, add_work(start, step * count, calendar)
    count, last, carried = 0, start, timedelta(0)
    for opens, closes in calendar.windows_from(start):
        if opens > until:
            break
        cursor = opens
        while cursor + (step - carried) <= closes:
            cursor += step - carried
            if cursor > until:
                return count, last
            count, last, carried = count + 1, cursor, timedelta(0)
        carried += closes - cursor
    return count, last
