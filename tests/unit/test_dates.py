from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent.core.dates import DateParseError, from_epoch, parse_site_datetime

US = ["%b %d, %Y %I:%M %p", "%b %d, %Y"]
UK = ["%d %b %Y %H:%M", "%d %b %Y"]
CN = ["%Y/%m/%d %H:%M", "%Y/%m/%d"]


@pytest.mark.parametrize(
    ("text", "formats", "zone", "expected"),
    [
        ("Nov 21, 2026 4:35 PM PST", US, "America/Los_Angeles", datetime(2026, 11, 22, 0, 35)),
        ("Jul 4, 2026 9:05 AM PDT", US, "America/Los_Angeles", datetime(2026, 7, 4, 16, 5)),
        ("21 Nov 2026 16:35 GMT", UK, "Europe/London", datetime(2026, 11, 21, 16, 35)),
        ("4 Jul 2026 16:35 BST", UK, "Europe/London", datetime(2026, 7, 4, 15, 35)),
        ("2026/11/21 16:35", CN, "Asia/Shanghai", datetime(2026, 11, 21, 8, 35)),
        ("Mar 06, 2026", US, "America/Los_Angeles", datetime(2026, 3, 6, 8, 0)),
        # clocks go back 1 Nov 2026: 1:30 AM happens twice, the abbreviation decides
        ("Nov 1, 2026 1:30 AM PDT", US, "America/Los_Angeles", datetime(2026, 11, 1, 8, 30)),
        ("Nov 1, 2026 1:30 AM PST", US, "America/Los_Angeles", datetime(2026, 11, 1, 9, 30)),
        (
            "  Nov\u00a021, 2026  4:35\u202fPM PST ",
            US,
            "America/Los_Angeles",
            datetime(2026, 11, 22, 0, 35),
        ),
    ],
)
def test_parse(text: str, formats: list[str], zone: str, expected: datetime) -> None:
    assert parse_site_datetime(text, formats, zone) == expected.replace(tzinfo=UTC)


def test_unparseable_names_the_text() -> None:
    with pytest.raises(DateParseError, match="yesterday"):
        parse_site_datetime("yesterday", US, "America/Los_Angeles")


def test_epoch() -> None:
    assert from_epoch(1_763_740_800) == datetime(2025, 11, 21, 16, 0, tzinfo=UTC)
    assert from_epoch(1_763_740_800_000, millis=True) == from_epoch(1_763_740_800)
    assert from_epoch(None) is None


@pytest.mark.parametrize(
    ("text", "formats"),
    [
        ("2026-11-02T09:14:00-08:00", ["iso"]),
        ("2026-11-02T09:14:00-08:00", ["%Y-%m-%dT%H:%M:%S%z"]),
        ("2026-11-02T17:14:00Z", ["iso"]),
        ("2026-11-02 17:14:00+00:00", ["%b %d, %Y", "iso"]),
    ],
)
def test_a_time_with_its_own_offset_keeps_it(text: str, formats: list[str]) -> None:
    """The map's time zone (here UTC) applies only to times written without an offset."""
    assert parse_site_datetime(text, formats, "UTC") == datetime(2026, 11, 2, 17, 14, tzinfo=UTC)


def test_an_iso_time_without_offset_is_in_the_maps_zone() -> None:
    got = parse_site_datetime("2026-11-02T09:14:00", ["iso"], "America/Los_Angeles")
    assert got == datetime(2026, 11, 2, 17, 14, tzinfo=UTC)


@pytest.mark.parametrize(("text", "fmt"), [("Nov 2", "%b %d"), ("2 Nov 16:35", "%d %b %H:%M")])
def test_a_date_without_a_year_is_refused_not_stored_as_1900(text: str, fmt: str) -> None:
    with pytest.raises(DateParseError, match="has no year"):
        parse_site_datetime(text, [fmt], "UTC")
