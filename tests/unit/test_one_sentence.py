"""Every failure a seller can meet is one sentence naming the fix, with its exit code: never a
traceback, and nothing stored is lost or written outside the home."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.core.models import Case, CaseStatus
from agent.errors import ConfigError, HomeError, StoreCorrupt, UnsafePath
from agent.home import Home, inside, write_private
from agent.site.credentials import totp_secret
from agent.store import Store

T0 = datetime(2026, 11, 20, 17, tzinfo=UTC)
ACCOUNT_TOML = """
[[accounts]]
name = "shop"
base_url = "https://sellercentral.amazon.com"
timezone = "UTC"
"""


def caselog(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {**os.environ, "CASELOG_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def one_sentence(proc: subprocess.CompletedProcess[str]) -> str:
    err = proc.stderr.strip()
    assert "Traceback" not in err, err
    assert len(err.splitlines()) == 1, err
    return err


def a_home_with_a_case(root: Path) -> Home:
    home = Home(root).ensure()
    home.config_file.write_text(ACCOUNT_TOML)
    case = Case(
        case_id="12345678901",
        account="shop",
        subject="Payment on hold",
        status=CaseStatus.OPEN,
        status_raw="Open",
        created_at=T0,
        first_seen_at=T0,
        last_seen_at=T0,
    )
    with Store.open(home.store_path("shop")) as store:
        store.put_cases([case])
        store.set_meta(timezone="UTC")
        store.commit()
    return home


# -- paths from data stay inside their folder -------------------------------------------------


@pytest.mark.parametrize("name", ["../../../../outside/victim", "/tmp/victim", "a/b", "..", ""])
def test_a_name_from_data_cannot_leave_its_folder(tmp_path: Path, name: str) -> None:
    with pytest.raises(UnsafePath):
        inside(tmp_path / "data", name)


def test_a_link_that_leads_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "shop").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafePath, match="leads outside"):
        Home(tmp_path).store_path("shop")


@pytest.mark.parametrize("account", ["../../../../outside/victim", "/tmp/caselog-victim"])
def test_importing_an_archive_with_a_traversal_account_writes_nothing(
    tmp_path: Path, account: str
) -> None:
    home = tmp_path / "home"
    archive = {
        "schema_version": 1,
        "generated_at": "2026-11-20T17:00:00Z",
        "accounts": [
            {"account": account, "timezone": "UTC", "cases": [], "messages": [], "events": [],
             "flags": []}
        ],
    }  # fmt: skip
    path = tmp_path / "archive.json"
    path.write_text(json.dumps(archive))
    before = sorted(p for p in tmp_path.rglob("*"))
    proc = caselog(home, "import", str(path))
    assert proc.returncode == 2
    assert "is not a usable account name" in one_sentence(proc)
    after = sorted(p for p in tmp_path.rglob("*") if not p.is_relative_to(home))
    assert after == before
    assert not Path("/tmp/caselog-victim.json").exists()
    assert not (tmp_path.parent / "outside").exists()


# -- configuration is checked when it is read --------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("business_hours = [17, 9]", "business hours must be [open, close]"),
        ("business_days = [0, 7]", "business days must be weekday numbers 0-6"),
        ("tabel = 1", "key accounts[0].tabel is not a known setting"),
    ],
)
def test_bad_settings_are_refused_when_read(tmp_path: Path, extra: str, expected: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "caselog.toml").write_text(ACCOUNT_TOML + extra + "\n")
    for command in ("config", "due"):
        proc = caselog(home, command)
        assert proc.returncode == 2
        assert expected in one_sentence(proc)


def test_a_password_in_the_address_is_refused_and_never_echoed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "caselog.toml").write_text(
        ACCOUNT_TOML.replace("https://sellercentral", "https://me:hunter2@sellercentral")
    )
    proc = caselog(home, "config")
    assert proc.returncode == 2
    err = one_sentence(proc)
    assert "user name or password" in err and "hunter2" not in err + proc.stdout


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("table[[[", "key list.table: 'table[[[' is not a valid CSS selector"),
        (None, "key list.tabel is not a known setting"),
    ],
)
def test_a_broken_selector_map_is_refused_at_once(
    tmp_path: Path, selector: str | None, expected: str
) -> None:
    from agent.site.selectormap import maps_dir

    home = tmp_path / "home"
    home.mkdir()
    text = (maps_dir() / "classic-en-US.toml").read_text()
    if selector is None:
        text = text.replace("[list]\n", "[list]\ntabel = 'x'\n", 1)
    else:
        text = text.replace('table = "table#case-log-table"', f'table = "{selector}"')
    assert text != (maps_dir() / "classic-en-US.toml").read_text()
    (home / "mine.toml").write_text(text)
    (home / "caselog.toml").write_text(ACCOUNT_TOML + f'selector_map = "{home / "mine.toml"}"\n')
    for command in ("config", "sync"):
        proc = caselog(home, command)
        assert proc.returncode == 2, proc.stderr
        assert expected in one_sentence(proc)


def test_config_shows_each_marketplaces_own_map(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "caselog.toml").write_text(
        ACCOUNT_TOML
        + '[[accounts.marketplaces]]\nid = "ATVPDKIKX0DER"\nselector_map = "modern-en-US"\n'
        + '[[accounts.marketplaces]]\nid = "A1F83G8C2ARO7P"\nselector_map = "classic-en-GB"\n'
    )
    proc = caselog(home, "config")
    assert proc.returncode == 0, proc.stderr
    assert "marketplace ATVPDKIKX0DER: map modern-en-US" in proc.stdout
    assert "marketplace A1F83G8C2ARO7P: map classic-en-GB" in proc.stdout
    shown = json.loads(caselog(home, "config", "--json").stdout)["maps"]["shop"]
    assert shown == {"ATVPDKIKX0DER": "modern-en-US", "A1F83G8C2ARO7P": "classic-en-GB"}


# -- secrets ---------------------------------------------------------------------------------


def test_amazons_spaced_lower_case_key_is_accepted() -> None:
    assert totp_secret("jbsw y3dp ehpk 3pxp", "CASELOG_TOTP") == "JBSWY3DPEHPK3PXP"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("123456", "holds a 6-digit one-time code"), ("not a key!", "is not an authenticator key")],
)
def test_a_wrong_totp_value_is_one_sentence(value: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        totp_secret(value, "the environment variable CASELOG_TOTP")


# -- the home and its files --------------------------------------------------------------------


def test_login_headed_without_a_display_is_one_sentence(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "caselog.toml").write_text(ACCOUNT_TOML)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.run(
        [sys.executable, "-m", "agent", "login", "--headed"],
        env={**env, "CASELOG_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert proc.returncode == 2
    said = one_sentence(proc)
    assert "there is no display here" in said
    assert "--save-state shop-session.json" in said and "--import-state" in said


def test_a_home_that_is_a_file_is_one_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "home"
    blocker.write_text("not a folder")
    proc = caselog(blocker, "cases")
    assert proc.returncode == 2
    assert "is a file where caselog needs a folder" in one_sentence(proc)


def test_a_state_path_that_is_a_folder_is_one_sentence(tmp_path: Path) -> None:
    folder = tmp_path / "state" / "shop.json"
    folder.mkdir(parents=True)
    with pytest.raises(HomeError, match="is a folder where caselog keeps a file"):
        write_private(folder, b"{}")


@pytest.mark.parametrize("content", [b"", b"  \n\t\n"])
def test_an_empty_store_is_damage_to_report_not_a_new_database(
    tmp_path: Path, content: bytes
) -> None:
    home = a_home_with_a_case(tmp_path / "home")
    (db,) = home.store_path("shop").glob("g*/cases.json")
    db.write_bytes(content)
    with (
        Store.open(home.store_path("shop")) as store,
        pytest.raises(StoreCorrupt, match="is empty"),
    ):
        store.cases()
    proc = caselog(home.root, "cases")
    assert proc.returncode == 1
    assert "is empty" in one_sentence(proc)
    assert db.read_bytes() == content  # left as it was


def _unshare() -> list[str]:
    exe = shutil.which("unshare")
    assert exe, "these tests need util-linux's unshare (Debian: apt-get install util-linux)"
    return [exe, "--mount"] if os.geteuid() == 0 else [exe, "--mount", "--map-root-user"]


def test_read_commands_work_on_a_read_only_home_and_writes_say_why(tmp_path: Path) -> None:
    home = a_home_with_a_case(tmp_path / "home")
    out = tmp_path / "export"
    script = (
        f"mount --bind -o ro {home.root} {home.root} && "
        f"{sys.executable} -m agent cases --json && "
        f"{sys.executable} -m agent show 12345678901 && "
        f"{sys.executable} -m agent due && "
        f"{sys.executable} -m agent export --format json --out {out} && "
        f"{sys.executable} -m agent snooze 12345678901 1d"
    )
    proc = subprocess.run(
        [*_unshare(), "sh", "-c", script],
        env={**os.environ, "CASELOG_HOME": str(home.root)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert '"case_id": "12345678901"' in proc.stdout, proc.stderr
    assert "Payment on hold" in proc.stdout
    assert (out / "archive.json").is_file()
    # the last command writes: refused in one sentence, exit 2, nothing changed
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "read-only" in err[0] and "Traceback" not in proc.stderr
