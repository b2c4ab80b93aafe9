"""Carrying a session between machines: what `login --import-state` takes and refuses (exact
sentences), what it keeps, and what a saved session says without a browser."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.app.login import import_state
from agent.config import Account
from agent.errors import ConfigError, HomeError
from agent.home import Home, write_private
from agent.site.credentials import login_hint
from agent.site.session import require_display
from agent.site.storage_state import check_state, read_session_file

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
ACC = Account(name="shop", base_url="https://sellercentral.amazon.com", email="me@example.com")


def cookie(domain: str, name: str = "at-main", expires: float = -1) -> dict[str, Any]:
    return {
        "name": name,
        "value": "v",
        "domain": domain,
        "path": "/",
        "expires": expires,
        "httpOnly": True,
        "secure": True,
        "sameSite": "Lax",
    }


def state(*cookies: dict[str, Any], origins: list[dict[str, Any]] | None = None) -> bytes:
    return json.dumps({"cookies": list(cookies), "origins": origins or []}).encode()


LATER = (NOW + timedelta(hours=12)).timestamp()
EARLIER = (NOW - timedelta(hours=1)).timestamp()


def test_a_session_for_the_accounts_host_is_kept_and_other_hosts_dropped() -> None:
    raw = state(
        cookie("sellercentral.amazon.com", "at-main", LATER),
        cookie(".amazon.com", "session-id"),
        cookie(".example.org", "tracker"),
        origins=[
            {"origin": "https://sellercentral.amazon.com", "localStorage": []},
            {"origin": "https://www.example.org", "localStorage": []},
        ],
    )
    checked = check_state(raw, "s.json", ACC, NOW)
    assert [c["name"] for c in checked.data["cookies"]] == ["at-main", "session-id"]
    assert [o["origin"] for o in checked.data["origins"]] == ["https://sellercentral.amazon.com"]
    assert (checked.cookies, checked.dropped) == (2, 2)


def test_allowed_hosts_count_as_the_accounts_own() -> None:
    acc = ACC.model_copy(update={"allowed_hosts": ["sellercentral-europe.amazon.com"]})
    raw = state(cookie("sellercentral-europe.amazon.com"))
    assert check_state(raw, "s.json", acc, NOW).cookies == 1


HINT = "make one with `caselog login --headed --save-state FILE` on a machine with a screen"


@pytest.mark.parametrize(
    ("raw", "sentence"),
    [
        (b"hello", f"s.json is not a Playwright storage state (it is not JSON); {HINT}"),
        (
            b"[1, 2]",
            f"s.json is not a Playwright storage state (it has no list of cookies); {HINT}",
        ),
        (
            b'{"cookies": [{"name": "a"}], "origins": []}',
            "s.json is not a Playwright storage state (cookie 1 lacks a name, value, domain or "
            f"path); {HINT}",
        ),
        (
            state({**cookie(".amazon.com"), "expires": "tomorrow"}),
            "s.json is not a Playwright storage state (cookie 1 has an expiry that is not a "
            f"number); {HINT}",
        ),
        (
            state({**cookie(".amazon.com"), "sameSite": "sometimes"}),
            "s.json is not a Playwright storage state (cookie 1 has an unknown sameSite value); "
            f"{HINT}",
        ),
        (
            b'{"cookies": [], "origins": {"a": 1}}',
            "s.json is not a Playwright storage state (its origins are not a list of origins); "
            f"{HINT}",
        ),
        (
            state(cookie(".amazon.co.uk"), cookie("mazon.com"), cookie("evil-amazon.com")),
            "s.json holds no session for account shop at sellercentral.amazon.com (it has "
            "cookies for amazon.co.uk, evil-amazon.com, mazon.com); sign in to that site with "
            "`caselog login --account shop --headed --save-state FILE` and import that file",
        ),
        (
            state(),
            "s.json holds no session for account shop at sellercentral.amazon.com (it has no "
            "cookies); sign in to that site with `caselog login --account shop --headed "
            "--save-state FILE` and import that file",
        ),
        (
            state(cookie(".amazon.com", expires=EARLIER)),
            "the session in s.json expired on 2026-11-22 11:00 UTC; sign in again with "
            "`caselog login --account shop --headed --save-state FILE` and import the new file",
        ),
    ],
    ids=[
        "not-json",
        "not-an-object",
        "bad-cookie",
        "bad-expiry",
        "bad-same-site",
        "bad-origins",
        "other-site",
        "empty",
        "expired",
    ],
)
def test_anything_else_is_refused_in_one_sentence(raw: bytes, sentence: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_state(raw, "s.json", ACC, NOW)
    assert str(caught.value) == sentence


def test_one_live_cookie_is_enough_even_beside_expired_ones() -> None:
    raw = state(cookie(".amazon.com", "old", EARLIER), cookie(".amazon.com", "at-main", LATER))
    assert check_state(raw, "s.json", ACC, NOW).cookies == 2


def test_import_writes_the_state_0600_and_nothing_when_refused(tmp_path: Path) -> None:
    home = Home(tmp_path / "home").ensure()
    source = tmp_path / "carried.json"
    source.write_bytes(state(cookie(".amazon.com", expires=EARLIER)))
    with pytest.raises(ConfigError, match="expired on"):
        import_state(home, ACC, source, now=NOW)
    assert not home.state_path("shop").exists()
    source.write_bytes(state(cookie(".amazon.com", expires=LATER), cookie("other.example")))
    done = import_state(home, ACC, source, now=NOW)
    target = home.state_path("shop")
    assert done.state_file == target and (done.cookies, done.dropped) == (1, 1)
    assert target.stat().st_mode & 0o777 == 0o600
    assert [c["domain"] for c in json.loads(target.read_bytes())["cookies"]] == [".amazon.com"]


@pytest.mark.parametrize("what", ["missing", "folder", "huge"])
def test_an_unreadable_source_is_one_sentence(tmp_path: Path, what: str) -> None:
    home = Home(tmp_path / "home").ensure()
    source = tmp_path / "carried.json"
    if what == "folder":
        source.mkdir()
    elif what == "huge":
        source.write_bytes(b" " * (5 * 1024 * 1024 + 10))
    expected = {
        "missing": f"{source} does not exist; check the --import-state path",
        "folder": f"{source} is a folder; name the file --save-state wrote",
        "huge": f"{source} is not a Playwright storage state (it is larger than 5 MB); {HINT}",
    }[what]
    with pytest.raises(ConfigError) as caught:
        import_state(home, ACC, source, now=NOW)
    assert str(caught.value) == expected


def test_a_saved_session_says_its_age_and_cookie_expiries(tmp_path: Path) -> None:
    path = tmp_path / "shop.json"
    assert read_session_file(path, ACC).exists is False
    path.write_bytes(
        state(
            cookie(".amazon.com", "a", LATER),
            cookie(".amazon.com", "b", LATER + 3600),
            cookie("sellercentral.amazon.com", "c"),
            cookie("other.example", "d", LATER + 7200),
        )
    )
    os.utime(path, (NOW.timestamp(), NOW.timestamp()))
    info = read_session_file(path, ACC)
    assert info.saved_at == NOW and info.cookies == 3
    assert info.first_expiry == datetime.fromtimestamp(LATER, UTC)
    assert info.last_expiry == datetime.fromtimestamp(LATER + 3600, UTC)
    path.write_text("{broken")
    assert read_session_file(path, ACC).readable is False


def test_save_state_outside_the_home_leaves_the_folder_alone(tmp_path: Path) -> None:
    folder = tmp_path / "desktop"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    write_private(folder / "session.json", b"{}", own_folder=False)
    assert (folder / "session.json").stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == 0o755  # a person's folder is not made 0700
    with pytest.raises(HomeError, match="does not exist"):
        write_private(tmp_path / "nowhere" / "session.json", b"{}", own_folder=False)


def test_the_sign_in_hint_names_both_commands() -> None:
    assert login_hint("shop") == (
        "sign in with `caselog login --account shop --headed --save-state shop-session.json` "
        "on a machine with a screen, then copy shop-session.json to where caselog runs and "
        "there run `caselog login --account shop --import-state shop-session.json`"
    )


def test_no_display_names_the_route_through_another_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    with pytest.raises(Exception) as caught:
        require_display("shop")
    assert str(caught.value) == (
        "there is no display here for a visible browser (--headed); run `caselog login "
        "--account shop --headed --save-state shop-session.json` on a machine with a screen, "
        "copy shop-session.json here and run `caselog login --account shop --import-state "
        "shop-session.json`, or sign in without --headed with the configured password and TOTP"
    )
