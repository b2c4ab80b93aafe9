"""Credentials by reference: environment variables or a keyring entry, never the config file."""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass

from agent.config import Account
from agent.errors import AuthRequired, ConfigError


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
            f"export it, or run `caselog login --account {account.name} --headed`"
        )
    return value


def _from_keyring(account: Account, key: str) -> str | None:
    if not account.keyring_service:
        return None
    try:
        import keyring  # optional dependency
    except ImportError:
        raise ConfigError(
            f"account {account.name} names keyring_service but the keyring package is not "
            "installed; `pip install keyring`, or use password_env/totp_env instead"
        ) from None
    value: str | None = keyring.get_password(account.keyring_service, f"{account.email}:{key}")
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
