"""``caselog init``: the first ``caselog.toml``, with the secrets in the system keyring.

In order, so that a failure leaves nothing half-done:

1. an existing ``caselog.toml`` is never replaced without ``force`` (then it is kept beside as
   ``caselog.toml.bak``);
2. the account is made from the answers and the marketplace table
   (:mod:`agent.site.marketplaces`), and the file's text is written with tomli-w and read
   back through :func:`agent.config.parse_settings`, the same check every command makes;
3. unless ``verify`` is off, caselog signs in with the answers (headless; the session is
   saved in the home, so the first sync does not sign in again);
4. the password and TOTP secret go to the keyring: service ``keyring_service`` (``caselog``),
   user names ``<email>:password`` and ``<email>:totp``. Where there is no keyring backend
   (keyring's ``fail.Keyring``: a server without a desktop session), the file names
   environment variables instead (``CASELOG_<ACCOUNT>_PASSWORD`` / ``_TOTP``) and the result
   says so; the secrets are then stored nowhere;
5. the file is written (0600).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from agent.app.maps import maps_in_use
from agent.config import Account, parse_settings
from agent.errors import AuthRequired, ConfigError
from agent.home import Home, write_private
from agent.site.credentials import (
    KEYRING_SERVICE,
    Credentials,
    env_names,
    keyring_user,
    no_keyring_reason,
    store_secrets,
    totp_secret,
)
from agent.site.marketplaces import find_marketplaces, region_default
from agent.site.session import BrowserSession
from agent.store import Store

__all__ = [
    "InitAnswers",
    "InitResult",
    "config_text",
    "init_home",
    "make_account",
    "refuse_existing",
]


@dataclass
class InitAnswers:
    account: str
    marketplaces: list[str]  # codes or IDs; none: the region's first
    email: str
    region: str | None = None
    password: str | None = None
    totp_secret: str | None = None
    base_url: str | None = None  # another Seller Central address (the bundled mock...)
    merchant_id: str | None = None
    timezone: str | None = None
    keyring_service: str = KEYRING_SERVICE


@dataclass
class InitResult:
    config_file: Path
    account: str
    secrets_in: str  # "keyring" | "environment"
    keyring_service: str | None
    keyring_users: list[str] = field(default_factory=list)
    env_vars: list[str] = field(default_factory=list)
    verified: bool = False
    state_file: Path | None = None
    backup: Path | None = None
    stored_cases: int = 0
    notes: list[str] = field(default_factory=list)


def make_account(answers: InitAnswers, *, use_keyring: bool) -> Account:
    """The ``[[accounts]]`` table for the answers (validated like caselog.toml)."""
    if answers.marketplaces:
        infos = find_marketplaces(answers.marketplaces, one_site=not answers.base_url)
    elif answers.region:
        infos = [region_default(answers.region)]
    else:
        raise ConfigError("name at least one marketplace (e.g. --marketplace US) or a --region")
    first = infos[0]
    if answers.region and first.region != answers.region.strip().lower():
        region_default(answers.region)  # an unknown region is named as such
        raise ConfigError(
            f"marketplace {first.code} is not in the region {answers.region!r} (it is in "
            f"{first.region!r}); give one of them, or both agreeing"
        )
    if not answers.email or "@" not in answers.email:
        raise ConfigError(
            f"{answers.email!r} is not an e-mail address; give the one you sign in with"
        )
    data: dict[str, object] = {
        "name": answers.account,
        "base_url": answers.base_url or first.base_url,
        "email": answers.email,
        "timezone": answers.timezone or first.timezone,
        "marketplaces": [{"id": m.id, "selector_map": m.selector_map} for m in infos],
    }
    if answers.merchant_id:
        data["merchant_id"] = answers.merchant_id
    if use_keyring:
        data["keyring_service"] = answers.keyring_service
    else:
        password_env, totp_env = env_names(answers.account)
        data["password_env"], data["totp_env"] = password_env, totp_env
    text = tomli_w.dumps({"accounts": [data]})
    return parse_settings(text, "the answers").accounts[0]


HEADER = (
    "# Written by `caselog init`. Secrets are not in this file: see README, Credentials.\n"
    "# Every setting: README, Configuration; `caselog config` checks this file.\n\n"
)


def config_text(account: Account) -> str:
    """``caselog.toml`` for one account (only what differs from the defaults), checked by
    reading it back as every command will."""
    dumped = account.model_dump(exclude_defaults=True)
    text = HEADER + tomli_w.dumps({"accounts": [dumped]})
    parse_settings(text, "the caselog.toml caselog init would write")
    return text


def _verify(home: Home, account: Account, creds: Credentials) -> Path:
    _, smap = maps_in_use(home, account)[0]
    state = home.state_path(account.name)
    with BrowserSession() as session:
        ctx = session.context(account, state, lambda a: creds)
        try:
            ctx.ensure_signed_in(smap.urls.lobby)
            ctx.save_state()
        except AuthRequired as exc:
            raise AuthRequired(
                f"signing in to {account.base_url} as {account.email} did not work ({exc}); "
                "check the answers and run `caselog init` again, or add --no-verify to write "
                "caselog.toml without signing in"
            ) from None
        finally:
            ctx.close()
    return state


def refuse_existing(home: Home, *, force: bool) -> None:
    """An existing ``caselog.toml`` is replaced only with ``force``."""
    if home.config_file.exists() and not force:
        raise ConfigError(
            f"{home.config_file} already exists; add --force to replace it (the old one is kept "
            f"as {home.config_file.name}.bak), or edit it by hand"
        )


def init_home(
    home: Home, answers: InitAnswers, *, verify: bool = True, force: bool = False
) -> InitResult:
    """Write the home's first ``caselog.toml`` from ``answers`` (see the module's steps)."""
    refuse_existing(home, force=force)
    target = home.config_file
    totp = totp_secret(answers.totp_secret, "the TOTP secret") if answers.totp_secret else None
    why_not = no_keyring_reason()
    account = make_account(answers, use_keyring=why_not is None)
    text = config_text(account)
    if verify and not answers.password:
        raise ConfigError(
            "signing in needs the password; give it (--password-stdin, or at the prompt), or "
            "add --no-verify"
        )
    result = InitResult(
        config_file=target,
        account=account.name,
        secrets_in="keyring" if why_not is None else "environment",
        keyring_service=account.keyring_service,
    )
    if verify:
        creds = Credentials(account.email, answers.password, totp)
        result.state_file = _verify(home, account, creds)
        result.verified = True
    secrets = {k: v for k, v in (("password", answers.password), ("totp", totp)) if v}
    if why_not is None:
        store_secrets(answers.keyring_service, account.email, secrets)
        result.keyring_users = [keyring_user(account.email, k) for k in secrets]
    else:
        result.env_vars = [v for v in (account.password_env, account.totp_env) if v]
        result.notes.append(
            f"{why_not}, so the secrets were not stored: caselog.toml names the environment "
            f"variables {' and '.join(result.env_vars)}; set them (a service reads them from "
            "service.env in the home: `caselog service install` creates it)"
        )
    if target.exists():
        result.backup = target.with_name(target.name + ".bak")
        shutil.copy2(target, result.backup)
    write_private(target, text.encode())
    if home.has_store(account.name):
        with Store.open(home.store_path(account.name), readonly=True) as store:
            result.stored_cases = len(store.cases())
        result.notes.append(
            f"{account.name} already has {result.stored_cases} case(s) in the home (imported "
            "or synced before); the next sync continues from them"
        )
    return result
