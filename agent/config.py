"""``caselog.toml`` -> :class:`Settings`, validated; a broken file is one clear sentence.

Credentials are referenced, never stored: the names of environment variables, or a
keyring entry. A plaintext password in the file is refused.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from agent.errors import ConfigError
from agent.home import config_path

SECRET_KEYS = {"password", "totp_secret", "totp", "otp_secret", "secret"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Marketplace(Strict):
    """One marketplace of an account; each is read with its own selector map."""

    id: str = Field(pattern=r"^[A-Z0-9]{5,20}$")
    selector_map: str | None = None
    # modern UI: "auto" reads the page's JSON API and falls back to the rendered pages if the
    # API changed; "api" or "dom" force one of them
    reader: Literal["auto", "api", "dom"] = "auto"


class Account(Strict):
    """One Seller Central login (one merchant); each marketplace has one selector map."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    base_url: str = Field(pattern=r"^https?://[^/\s]+/?$")
    merchant_id: str | None = None
    marketplaces: list[Marketplace] = Field(default_factory=list)
    selector_map: str = "classic-en-US"
    allowed_hosts: list[str] = Field(default_factory=list)
    request_timeout_seconds: float = Field(default=45, gt=0)
    max_retries: int = Field(default=4, ge=0, le=10)
    timezone: str = "America/Los_Angeles"
    email: str = ""
    password_env: str | None = None
    totp_env: str | None = None
    keyring_service: str | None = None
    concurrency: int = Field(default=4, ge=1, le=16)
    business_days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4])
    business_hours: tuple[int, int] = (9, 17)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not a known time zone; use an IANA name such as "
                "'America/Los_Angeles' or 'Europe/London'"
            ) from None
        return value

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")


class RuleSettings(Strict):
    """Whose-turn thresholds (design.md section 5); every number configurable."""

    closes_soon_days: float = 5
    auto_close_days: float = 7
    follow_up_business_days: float = 2
    escalate_after_follow_ups: int = 2
    escalate_unresolved_days: float = 7
    wait_after_escalation_hours: float = 48
    reopen_window_days: float = 14
    reopen_remind_days_before: float = 3
    reopen_grace_days: float = 7  # after the window closes, say "open a new case" this long
    urgent_factor: float = 0.5
    urgent_categories: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "account_health": ["account health", "deactivat", "suspen", "reinstat", "appeal"],
            "payments": ["payment", "disbursement", "reserve", "funds", "payout"],
            "listing_suppression": ["suppress", "listing removed", "inactive listing"],
            "policy": ["policy", "intellectual property", "infring", "trademark", "copyright"],
        }
    )


class WatchSettings(Strict):
    interval_minutes: float = Field(default=60, gt=0)
    jitter_seconds: float = Field(default=120, ge=0)
    quiet_hours: tuple[int, int] | None = None
    digest_time: str = Field(default="08:00", pattern=r"^\d{2}:\d{2}$")
    failures_before_alert: int = Field(default=3, ge=1)


class NotifySettings(Strict):
    urls: list[str] = Field(default_factory=list)
    calendar: bool = True


class Settings(Strict):
    accounts: list[Account] = Field(default_factory=list)
    rules: RuleSettings = Field(default_factory=RuleSettings)
    watch: WatchSettings = Field(default_factory=WatchSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)

    @model_validator(mode="after")
    def _unique_names(self) -> Settings:
        names = [a.name for a in self.accounts]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"account name {dupes[0]!r} is used twice; give each a unique name")
        return self

    def selected(self, name: str | None) -> list[Account]:
        """The account named ``name``, or every configured account when no name is given."""
        return [self.account(name)] if name else list(self.accounts)

    def account(self, name: str | None) -> Account:
        if not self.accounts:
            raise ConfigError(
                "no account is configured: add an [[accounts]] table to caselog.toml "
                "(see README, Configuration)"
            )
        if name is None:
            return self.accounts[0]
        for acc in self.accounts:
            if acc.name == name:
                return acc
        known = ", ".join(a.name for a in self.accounts)
        raise ConfigError(f"no account named {name!r} in caselog.toml; known accounts: {known}")


def _key_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _find_secrets(data: Any, path: str = "") -> str | None:
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{path}.{key}" if path else str(key)
            if str(key).lower() in SECRET_KEYS and isinstance(value, str):
                return here
            found = _find_secrets(value, here)
            if found:
                return found
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found = _find_secrets(value, f"{path}[{i}]")
            if found:
                return found
    return None


def parse_settings(text: str, source: str = "caselog.toml") -> Settings:
    """Parse and validate TOML text; raise :class:`ConfigError` with one sentence."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML ({exc}); fix the syntax there") from None
    secret = _find_secrets(data)
    if secret:
        raise ConfigError(
            f"{source}: key {secret} holds a secret in plain text; remove it and name an "
            "environment variable instead (password_env = \"MY_PASSWORD_VAR\", totp_env = "
            "\"MY_TOTP_VAR\") or a keyring entry (keyring_service = \"caselog\")"
        )
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = _key_path(tuple(err["loc"])) or "(top level)"
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "is not a known setting; check its spelling against the README"
            raise ConfigError(f"{source}: key {key} {msg}") from None
        raise ConfigError(f"{source}: key {key}: {msg}; fix that value and run again") from None


def load_settings(path: Path | None = None) -> Settings:
    """Load the settings from ``path`` or the home's caselog.toml (absent = defaults)."""
    explicit = path is not None
    path = path or config_path()
    if not path.exists():
        if explicit:
            raise ConfigError(f"config file {path} does not exist; check the --config path")
        return Settings()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path} ({exc}); fix its permissions or encoding") from None
    return parse_settings(text, str(path))
