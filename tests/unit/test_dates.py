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
