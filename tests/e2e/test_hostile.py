"""The `hostile` scenario (markup and script in subjects and bodies, formula cells,
right-to-left text, emoji, a 200 KB message, odd dates) is stored exactly as the site holds
it, through both the classic pages and the modern JSON API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_cli import account_cli
from e2e_truth import differences, site_view, store_view

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def hostile_site() -> Iterator[object]:
    from caselog_mock import MockServer

    server = MockServer(scenario="hostile", port=0)
    server.start()
    yield server
    server.stop()


def test_hostile_scenario_is_stored_exactly(hostile_site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from caselog_mock import AdminClient

    cli = account_cli(
        tmp_path / "home",
        hostile_site,
        "hostile",
        "A4HOSTILETEST",
        {"ATVPDKIKX0DER": "modern-en-US", "A1F83G8C2ARO7P": "classic-en-GB"},
    )
    result = cli("sync", "--json", timeout=300)
    assert result.returncode == 0, result.stderr
    truth = site_view(
        AdminClient(hostile_site.url, hostile_site.admin_token).ground_truth(), "A4HOSTILETEST"
    )
    stored = store_view(cli.home, "hostile")
    assert differences(truth, stored) == []
    bodies = [m[5] for c in stored.values() for m in c["messages"]]
    assert max(len(b) for b in bodies) >= 200_000
    assert any("<script>" in c["subject"] for c in stored.values())
    # served with surrounding spaces, terminal escapes, C1, bidi, CR: stored byte for byte
    subjects = {c["subject"] for c in stored.values()}
    assert "   leading and trailing spaces   " in subjects
    assert any("\x1b]0;pwned\x07" in s for s in subjects)
    assert any("safe\rEVIL" in b and "\x9b" in b and "\u202e" in b for b in bodies)

    # every human-readable command shows that text and runs none of it
    cli.env["COLUMNS"] = "400"  # wide enough that no cell wraps the text checked below
    unsafe = re.compile(r"[\x1b\x80-\x9f\u202a-\u202e\u2066-\u2069]")
    hostile = next(cid for cid, c in stored.items() if "pwned" in c["subject"])
    for args in (
        ("cases",),
        ("show", hostile),
        ("search", "EVIL"),
        ("due", "--upcoming"),
        ("draft", hostile, "--kind", "escalation"),
    ):
        shown = cli(*args)
        assert shown.returncode == 0, shown.stderr
        assert unsafe.search(shown.stdout + shown.stderr) is None, args
    listed = cli("cases").stdout
    assert "[link=http://127.0.0.1:9/]click[/link]" in listed and "\\x1b[31mRED" in listed
