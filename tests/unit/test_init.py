"""`caselog init` without a browser (--no-verify): the marketplace table, the file it writes
(checked like every caselog.toml), secrets in the keyring under the documented names or,
where there is no keyring, environment variables named in the file; refusals in one sentence."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from agent.app.init import InitAnswers, init_home
from agent.config import Account, load_settings
from agent.errors import ConfigError
from agent.home import Home
from agent.site.credentials import resolve
from agent.site.marketplaces import MARKETPLACES, SITES, find_marketplaces
from agent.site.selectormap import load_map

TOTP = "JBSWY3DPEHPK3PXP"


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.entries[(service, username)]


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    before = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(before)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(before)


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path / "home").ensure()


def answers(**changes: object) -> InitAnswers:
    base = InitAnswers(
        account="shop",
        marketplaces=["US", "ca"],
        email="me@example.com",
        password="s3cret pass",
        totp_secret="jbsw y3dp ehpk 3pxp",
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def test_every_marketplace_has_a_bundled_map_a_site_and_a_zone() -> None:
    assert (
        len({m.id for m in MARKETPLACES})
        == len({m.code for m in MARKETPLACES})
        == len(MARKETPLACES)
    )
    for m in MARKETPLACES:
        load_map(m.selector_map)
        assert m.region in SITES and m.base_url.startswith("https://sellercentral")
        Account(name="x", base_url=m.base_url, timezone=m.timezone)


@pytest.mark.parametrize(
    ("wanted", "sentence"),
    [
        (["XX"], "'XX' is not a marketplace caselog knows; use a code (US, CA"),
        (
            ["US", "UK"],
            "US and UK are on different Seller Central sites (sellercentral.amazon.com, "
            "sellercentral-europe.amazon.com), each with its own sign-in",
        ),
        ([], "name at least one marketplace, e.g. --marketplace US"),
    ],
)
def test_marketplaces_are_refused_in_one_sentence(wanted: list[str], sentence: str) -> None:
    with pytest.raises(ConfigError) as caught:
        find_marketplaces(wanted)
    assert str(caught.value).startswith(sentence)


def test_codes_and_ids_both_name_a_marketplace() -> None:
    found = find_marketplaces(["gb", "A1PA6795UKMFR9"])
    assert [m.code for m in found] == ["UK", "DE"]


def test_secrets_go_to_the_keyring_and_the_file_holds_none(
    home: Home, memory_keyring: MemoryKeyring
) -> None:
    result = init_home(home, answers(), verify=False)
    assert result.secrets_in == "keyring" and result.verified is False
    assert memory_keyring.entries == {
        ("caselog", "me@example.com:password"): "s3cret pass",
        ("caselog", "me@example.com:totp"): TOTP,
    }
    text = home.config_file.read_text()
    assert "s3cret" not in text and TOTP not in text
    assert home.config_file.stat().st_mode & 0o777 == 0o600
    (account,) = load_settings(home.config_file).accounts
    assert account.base_url == "https://sellercentral.amazon.com"
    assert [m.id for m in account.marketplaces] == ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"]
    assert account.keyring_service == "caselog" and account.password_env is None
    creds = resolve(account)  # what every sync reads
    assert (creds.email, creds.password, creds.totp_secret) == (
        "me@example.com",
        "s3cret pass",
        TOTP,
    )


def test_without_a_keyring_the_file_names_environment_variables(
    home: Home, no_keyring: None
) -> None:
    result = init_home(home, answers(account="eu.shop", marketplaces=["UK"]), verify=False)
    assert result.secrets_in == "environment"
    assert result.env_vars == ["CASELOG_EU_SHOP_PASSWORD", "CASELOG_EU_SHOP_TOTP"]
    assert result.notes[0].startswith(
        "no keyring backend is available here (no desktop keyring or Secret Service), so the "
        "secrets were not stored: caselog.toml names the environment variables "
        "CASELOG_EU_SHOP_PASSWORD and CASELOG_EU_SHOP_TOTP; set them"
    )
    data = tomllib.loads(home.config_file.read_text())["accounts"][0]
    assert data["password_env"] == "CASELOG_EU_SHOP_PASSWORD"
    assert data["base_url"] == "https://sellercentral-europe.amazon.com"
    assert data["timezone"] == "Europe/London" and "keyring_service" not in data


def test_a_keyring_account_where_there_is_none_is_one_sentence(no_keyring: None) -> None:
    account = Account(
        name="shop",
        base_url="https://sellercentral.amazon.com",
        email="me@example.com",
        keyring_service="caselog",
    )
    with pytest.raises(ConfigError) as caught:
        resolve(account)
    assert str(caught.value) == (
        "account shop keeps its secrets in the keyring but no keyring backend is available "
        "here (no desktop keyring or Secret Service); name environment variables instead "
        '(password_env = "CASELOG_SHOP_PASSWORD", totp_env = "CASELOG_SHOP_TOTP" in '
        "caselog.toml) and set them"
    )


def test_an_existing_file_is_replaced_only_with_force(
    home: Home, memory_keyring: MemoryKeyring
) -> None:
    home.config_file.write_text("# mine\n")
    with pytest.raises(ConfigError) as caught:
        init_home(home, answers(), verify=False)
    assert str(caught.value) == (
        f"{home.config_file} already exists; add --force to replace it (the old one is kept "
        "as caselog.toml.bak), or edit it by hand"
    )
    assert memory_keyring.entries == {}
    result = init_home(home, answers(), verify=False, force=True)
    assert result.backup is not None and result.backup.read_text() == "# mine\n"


@pytest.mark.parametrize(
    ("changes", "sentence"),
    [
        ({"account": "../x"}, "is not a usable account name"),
        ({"email": "nobody"}, "'nobody' is not an e-mail address"),
        ({"totp_secret": "123456"}, "the TOTP secret holds a 6-digit one-time code"),
        ({"timezone": "Mars/Olympus"}, "'Mars/Olympus' is not a known time zone"),
        ({"region": "eu"}, "marketplace US is not in the region 'eu'"),
        ({"region": "moon", "marketplaces": []}, "'moon' is not a Seller Central region"),
    ],
)
def test_bad_answers_are_one_sentence_and_write_nothing(
    home: Home, memory_keyring: MemoryKeyring, changes: dict[str, object], sentence: str
) -> None:
    with pytest.raises(ConfigError, match=sentence.replace("(", r"\(").replace(")", r"\)")):
        init_home(home, answers(**changes), verify=False)
    assert not home.config_file.exists() and memory_keyring.entries == {}


def test_verifying_needs_the_password(home: Home, memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(ConfigError, match="signing in needs the password"):
        init_home(home, answers(password=None), verify=True)


def test_a_region_alone_picks_its_first_marketplace(home: Home, no_keyring: None) -> None:
    init_home(home, answers(marketplaces=[], region="jp", totp_secret=None), verify=False)
    (account,) = load_settings(home.config_file).accounts
    assert account.base_url == "https://sellercentral.amazon.co.jp"
    assert [m.id for m in account.marketplaces] == ["A1VC38T7YXB528"]
