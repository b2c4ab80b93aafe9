"""Credentials by reference: environment variables or a keyring entry, never the config file;
and what a person runs when credentials are not enough.

Keyring entries (``caselog init`` writes them): service ``keyring_service`` of the account
(``caselog`` by default), user name ``<email>:password`` and ``<email>:totp``. Where no
keyring backend exists (a server without a desktop session: keyring's ``fail.Keyring``), the
route is environment variables named by ``password_env`` / ``totp_env``.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass

from agent.config import Account
from agent.errors import AuthRequired, ConfigError

KEYRING_SERVICE = "caselog"
"""The keyring service ``caselog init`` uses unless told another."""


def login_hint(account: str) -> str:
    """The two commands that sign a person in for ``account``: a visible browser on a machine
    with a screen saves the session to a file, which a server (or the same machine) imports."""
    file = f"{account}-session.json"
    return (
        f"sign in with `caselog login --account {account} --headed --save-state {file}` on a "
        f"machine with a screen, then copy {file} to where caselog runs and there run "
        f"`caselog login --account {account} --import-state {file}`"
    )


def keyring_user(email: str, what: str) -> str:
    """The keyring user name of one secret: ``<email>:password`` or ``<email>:totp``."""
    return f"{email}:{what}"


def env_names(account: str) -> tuple[str, str]:
    """The environment variables ``caselog init`` names when there is no keyring."""
    stem = "".join(ch if ch.isalnum() else "_" for ch in account.upper())
    return f"CASELOG_{stem}_PASSWORD", f"CASELOG_{stem}_TOTP"


def no_keyring_reason() -> str | None:
    """Why secrets cannot go to a keyring here (None: a usable backend exists)."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return "the keyring package is not installed"
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        return "no keyring backend is available here (no desktop keyring or Secret Service)"
    return None


def store_secrets(service: str, email: str, secrets: dict[str, str]) -> None:
    """Put ``{"password": ..., "totp": ...}`` in the keyring under ``service``."""
    import keyring
    from keyring.errors import KeyringError

    try:
        for what, value in secrets.items():
            keyring.set_password(service, keyring_user(email, what), value)
    except KeyringError as exc:
        raise ConfigError(
            f"the keyring refused to store the secrets ({type(exc).__name__}: {exc}); unlock "
            "it, or use environment variables (password_env / totp_env in caselog.toml)"
        ) from None


@dataclass(frozen=True)
class Credentials:
    email: str
    password: str | None
    totp_secret: str | None

    def __repr__(self) -> str:  # never print secrets, even by accident
        return f"Credentials(email={self.email!r}, password=***, totp_secret=***)"

    @property
    def complete(self) -> bool:
        return bool(self.email and self.password)


def _from_env(name: str | None, what: str, account: Account) -> str | None:
    if not name:
        return None
    value = os.environ.get(name)
    if not value:
        raise AuthRequired(
            f"account {account.name}: the environment variable {name} (its {what}) is not set; "
            f"export it, or {login_hint(account.name)}"
        )
    return value


def _from_keyring(account: Account, key: str) -> str | None:
    if not account.keyring_service:
        return None
    why = no_keyring_reason()
    if why:
        password_env, totp_env = env_names(account.name)
        raise ConfigError(
            f"account {account.name} keeps its secrets in the keyring but {why}; name "
            f'environment variables instead (password_env = "{password_env}", totp_env = '
            f'"{totp_env}" in caselog.toml) and set them'
        )
    import keyring
    from keyring.errors import KeyringError

    try:
        value: str | None = keyring.get_password(
            account.keyring_service, keyring_user(account.email, key)
        )
    except KeyringError as exc:
        raise ConfigError(
            f"account {account.name}: the keyring could not be read ({type(exc).__name__}); "
            "unlock it, or use password_env / totp_env in caselog.toml"
        ) from None
    return value


def totp_secret(raw: str, where: str) -> str:
    """The authenticator key as pyotp wants it: Amazon shows it in lower-case groups of four
    (``jbsw y3dp ehpk 3pxp``), which is accepted; a one-time code is not a key."""
    secret = "".join(raw.split()).upper().rstrip("=")
    if re.fullmatch(r"\d{6,8}", secret):
        raise ConfigError(
            f"{where} holds a {len(secret)}-digit one-time code, not the key that makes them; "
            "put the key Amazon showed when you added the authenticator app (letters A-Z and "
            "digits 2-7, e.g. 'JBSW Y3DP EHPK 3PXP')"
        )
    try:
        base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    except (binascii.Error, ValueError):
        raise ConfigError(
            f"{where} is not an authenticator key (base32: letters A-Z and digits 2-7, spaces "
            "allowed); copy the key Amazon showed when you added the authenticator app"
        ) from None
    return secret


def resolve(account: Account) -> Credentials:
    """Look up the account's credentials (may be incomplete: then a person must log in)."""
    password = _from_env(account.password_env, "password", account) or _from_keyring(
        account, "password"
    )
    totp = _from_env(account.totp_env, "TOTP secret", account)
    where = f"the environment variable {account.totp_env}"
    if not totp:
        totp = _from_keyring(account, "totp")
        where = f"the keyring entry {account.keyring_service}/{account.email}:totp"
    return Credentials(
        email=account.email,
        password=password,
        totp_secret=totp_secret(totp, where) if totp else None,
    )
