"""``caselog.toml`` -> :class:`Settings`, validated; a broken file is one clear sentence.

Credentials are referenced, never stored: the names of environment variables, or a
keyring entry. A plaintext password in the file is refused.
"""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from agent.errors import ConfigError, first_problem

SECRET_KEYS = {"password", "totp_secret", "totp", "otp_secret", "secret"}


ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def _account_name(value: str) -> str:
    if not ACCOUNT_NAME.fullmatch(value) or ".." in value:
        raise ValueError(
            f"{value!r} is not a usable account name; use 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit (it names files in the home)"
        )
    return value


AccountName = Annotated[str, AfterValidator(_account_name)]
"""An account's name: a slug, because it names the account's files in the home."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Marketplace(Strict):
    """One marketplace of an account; each is read with its own selector map."""

    id: str = Field(pattern=r"^[A-Z0-9]{5,20}$")
    selector_map: str | None = None
    # modern UI: "auto" reads the page's JSON API and falls back to the rendered pages if the
    # API changed; "api" or "dom" force one of them
    reader: Literal["auto", "api", "dom"] = "auto"


class Account(Strict):
    """One Seller Central login (one merchant); each marketplace has one selector map."""

    name: AccountName
    base_url: str
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
    # switch to a selector map the agent learned after a redesign, without asking, when it
    # reproduces every known record (the switch is said in the notice and `caselog status`)
    auto_accept_maps: bool = False
    # how drafts are signed: "Dana, Demo Outdoor Co" (a second line after "\n" is allowed)
    signature: str = ""

    @field_validator("signature")
    @classmethod
    def _signature(cls, value: str) -> str:
        text = value.strip()
        if len(text) > 200:
            raise ValueError("a signature is at most 200 characters; shorten it")
        if any((ord(ch) < 32 and ch != "\n") or 0x7F <= ord(ch) <= 0x9F for ch in text):
            raise ValueError(
                "a signature holds a control character; write plain text (a line break as \\n)"
            )
        if text.count("\n") > 3:
            raise ValueError("a signature is at most 4 lines; shorten it")
        return text

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
    def _site_root(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"{value!r} is not a Seller Central address; write it like "
                "'https://sellercentral.amazon.com'"
            )
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            raise ValueError(
                "the address holds a user name or password; remove them (credentials are "
                "read from password_env / totp_env or the keyring, never from the address)"
            )
        if parts.path.strip("/") or parts.query or parts.fragment:
            raise ValueError(
                f"{value!r} should be the site's root only, like 'https://sellercentral.amazon.com'"
            )
        return f"{parts.scheme}://{parts.netloc}"

    @field_validator("business_days")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if not value or any(not 0 <= d <= 6 for d in value):
            raise ValueError(f"business days must be weekday numbers 0-6 (0 = Monday), got {value}")
        return sorted(set(value))

    @field_validator("business_hours")
    @classmethod
    def _hours(cls, value: tuple[int, int]) -> tuple[int, int]:
        opens, closes = value
        if not 0 <= opens < closes <= 24:
            raise ValueError(
                f"business hours must be [open, close] with 0 <= open < close <= 24, got "
                f"[{opens}, {closes}]"
            )
        return value


DEFAULT_CATEGORIES: dict[str, list[str]] = {
    "account_health": [
        "account health", "suspen*", "deactivat*", "reinstat*", "plan of action", "appeal*",
        "performance notification", "verification", "账户", "账号", "申诉",
    ],
    "payments": [
        "payment*", "disburse*", "reserve", "funds", "payout*", "settlement*", "付款", "款项",
    ],
    "listing_suppression": ["suppress*", "listing removed", "inactive listing", "listing inactive"],
    "policy": [
        "policy", "policies", "intellectual property", "trademark*", "copyright*", "patent*",
        "counterfeit*", "infring*", "ip complaint", "restricted", "prohibited", "政策", "侵权",
        "知识产权",
    ],
    "refunds_and_fees": [
        "refund*", "reimburse*", "fee", "fees", "charge", "charged", "charges", "invoice*",
        "退款", "费用",
    ],
    "listings": [
        "listing*", "asin", "asins", "catalog*", "detail page", "brand registry", "image",
        "images", "variation*", "buy box", "search term*", "商品", "品牌",
    ],
    "inventory": [
        "inventory", "stranded", "stock", "removal*", "warehouse*", "reconcil*", "damaged",
        "库存", "仓库",
    ],
    "shipping": [
        "ship*", "carrier*", "tracking", "deliver*", "inbound", "fba", "lost", "return",
        "returns", "配送", "货件", "物流", "发货",
    ],
}  # fmt: skip
"""Subject categories for the rules (urgent ones) and the archive's charts alike."""

DEFAULT_URGENT = ("account_health", "payments", "listing_suppression", "policy")
"""Categories whose cases follow up and escalate sooner (design.md section 5)."""


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
    # Subject categories, in order of precedence: the first whose keyword the subject uses.
    # A keyword is a whole word ("fee"), a word prefix ("suspen*"), a phrase ("plan of
    # action"), or non-Latin text matched anywhere ("退款"); case-insensitive.
    categories: dict[str, list[str]] = Field(default_factory=lambda: dict(DEFAULT_CATEGORIES))
    urgent_categories: list[str] = Field(default_factory=lambda: list(DEFAULT_URGENT))

    @model_validator(mode="before")
    @classmethod
    def _legacy_urgent_keywords(cls, data: Any) -> Any:
        """Before 0.2, ``urgent_categories`` mapped each urgent category to keywords matched
        anywhere in the subject; such a table still works: its categories come first, each
        keyword read as a word prefix."""
        if isinstance(data, dict) and isinstance(data.get("urgent_categories"), dict):
            legacy: dict[str, Any] = data["urgent_categories"]
            ours = data.get("categories", DEFAULT_CATEGORIES)
            converted = {
                name: [_legacy_keyword(k) for k in words if isinstance(k, str)]
                if isinstance(words, list)
                else words
                for name, words in legacy.items()
            }
            rest = {k: v for k, v in ours.items() if k not in converted}
            data = {**data, "categories": {**converted, **rest}, "urgent_categories": list(legacy)}
        return data

    @model_validator(mode="after")
    def _urgent_are_categories(self) -> RuleSettings:
        unknown = [name for name in self.urgent_categories if name not in self.categories]
        if unknown:
            raise ValueError(
                f"urgent category {unknown[0]!r} is not one of the categories "
                f"({', '.join(self.categories)}); add it to [rules.categories] or fix the name"
            )
        return self


def _legacy_keyword(word: str) -> str:
    text = word.strip().casefold()
    return text if not text.isascii() or " " in text or text.endswith("*") else text + "*"


class WatchSettings(Strict):
    interval_minutes: float = Field(default=60, gt=0)
    jitter_seconds: float = Field(default=120, ge=0)
    quiet_hours: tuple[int, int] | None = None
    digest_time: str = Field(default="08:00", pattern=r"^\d{2}:\d{2}$")
    failures_before_alert: int = Field(default=3, ge=1)
    # `caselog status` exits non-zero when an account has had no complete sync for longer;
    # unset: three intervals, and at least an hour (3 h with the default hourly interval)
    stale_after_hours: float | None = Field(default=None, gt=0)
    # pages that could not be read, kept per account in failed-pages/ (the newest N)
    keep_failed_pages: int = Field(default=20, ge=0)

    @property
    def stale_after(self) -> timedelta:
        """How long an account may go without a complete sync before it is stale."""
        if self.stale_after_hours is not None:
            return timedelta(hours=self.stale_after_hours)
        return timedelta(minutes=max(3 * self.interval_minutes, 60))


AUTO_SENDABLE = ("follow_up", "escalate")
"""Flag kinds whose draft is a whole message (a reply is a skeleton for the seller's answer)."""


class ContactSettings(Strict):
    """Amazon's contact rules, as the agent keeps them before it sends anything (README,
    "Acting on cases"); ``--force`` passes only the duplicate and quiet-period rules."""

    # while it is Amazon's turn: at most one message per case per this many business days
    quiet_business_days: float = Field(default=3, ge=0)
    # messages and reopens per account per day (the account's calendar day)
    daily_budget: int = Field(default=10, ge=1)
    # flag kinds `caselog watch` may send by itself (off: []); e.g. ["follow_up"]
    auto_send: list[str] = Field(default_factory=list)
    # what `caselog watch` may send by itself per account per day
    auto_send_daily_cap: int = Field(default=3, ge=0)

    @field_validator("auto_send")
    @classmethod
    def _sendable(cls, value: list[str]) -> list[str]:
        for kind in value:
            if kind not in AUTO_SENDABLE:
                raise ValueError(
                    f"{kind!r} cannot be sent automatically; use {' or '.join(AUTO_SENDABLE)} "
                    "(a reply needs your answer)"
                )
        return list(dict.fromkeys(value))


class NotifySettings(Strict):
    urls: list[str] = Field(default_factory=list)
    calendar: bool = True


class FleetSettings(Strict):
    """Many accounts: on one machine (``sync --all``, ``watch``) and on Celery workers."""

    # accounts read at once by one process (one Chromium, a context each); 3 on 2 cores
    accounts_at_once: int = Field(default=3, ge=1, le=32)
    # after a failed round an account waits backoff_minutes, doubled per failure up to the max
    backoff_minutes: float = Field(default=5, ge=0)
    backoff_max_minutes: float = Field(default=240, ge=0)
    # `caselog watch` keeps its Chromium across rounds and starts a new one after this many
    browser_rounds: int = Field(default=20, ge=1)
    # `caselog worker` / `caselog scheduler`: the Redis server (env CASELOG_REDIS_URL wins)
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", pattern=r"^rediss?://")
    # a worker process is replaced after this many tasks (Chromium's memory)
    worker_max_tasks: int = Field(default=50, ge=1)
    # how long one account's lock lasts (renewed while its round runs)
    lock_seconds: float = Field(default=120, gt=5)
    # how long the scheduler's lock outlives a scheduler that died (a second one waits)
    scheduler_lock_seconds: float = Field(default=30, ge=6)
    # a task taken by a worker that died (kill -9, a lost machine) is delivered again after
    # this long; longer than any round (a round still running then is not run twice: the
    # account's lock and the task's done mark see to it)
    redeliver_seconds: float = Field(default=900, ge=5)

    def backoff(self, failures: int) -> timedelta:
        """How long an account rests after ``failures`` failed rounds in a row: none after
        none, then ``backoff_minutes`` doubled per further failure, at most the max."""
        if failures <= 0:
            return timedelta(0)
        minutes = self.backoff_minutes * 2 ** min(failures - 1, 30)
        return timedelta(minutes=min(minutes, self.backoff_max_minutes))


class Settings(Strict):
    accounts: list[Account] = Field(default_factory=list)
    rules: RuleSettings = Field(default_factory=RuleSettings)
    watch: WatchSettings = Field(default_factory=WatchSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    fleet: FleetSettings = Field(default_factory=FleetSettings)
    contact: ContactSettings = Field(default_factory=ContactSettings)

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
            'environment variable instead (password_env = "MY_PASSWORD_VAR", totp_env = '
            '"MY_TOTP_VAR") or a keyring entry (keyring_service = "caselog")'
        )
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        key, msg, kind = first_problem(exc)
        key = key or "(top level)"
        if kind == "extra_forbidden":
            msg = "is not a known setting; check its spelling against the README"
            raise ConfigError(f"{source}: key {key} {msg}") from None
        raise ConfigError(f"{source}: key {key}: {msg}; fix that value and run again") from None


def load_settings(path: Path, *, required: bool = False) -> Settings:
    """Load the settings from ``path``; a missing file means the defaults unless ``required``
    (a ``--config`` the user named)."""
    if not path.exists():
        if required:
            raise ConfigError(f"config file {path} does not exist; check the --config path")
        return Settings()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path} ({exc}); fix its permissions or encoding") from None
    return parse_settings(text, str(path))
