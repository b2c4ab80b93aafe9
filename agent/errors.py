"""One exception hierarchy; the CLI turns each into one sentence and an exit code.

Foreign errors (Playwright, TinyDB, TOML, pydantic) are converted at the module that
meets them, so callers only ever see a :class:`CaselogError`. A pydantic validation error
becomes one sentence through :func:`first_problem`, wherever it is met.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Any

from pydantic import ValidationError


class ExitCode(IntEnum):
    """Process exit codes, documented in the README."""

    OK = 0
    ERROR = 1
    USAGE = 2  # bad command line or bad configuration
    AUTH = 3  # a person must log in (`caselog login --headed`)
    INCOMPLETE = 4  # the site could not be read completely
    SERVICE = 5  # the platform's service manager is missing or refused
    STALE = 6  # `caselog status`: an account has had no complete sync for too long
    REFUSED = 7  # a contact rule refused to send (`caselog reply/reopen/cc`); nothing was sent
    FLEET = 8  # `caselog worker` / `caselog scheduler`: the fleet's Redis cannot be reached


class IncompleteReason(StrEnum):
    """Why a sync could not read the Case Log completely (kept in the snapshot)."""

    LOGIN_NEEDED = "login_needed"
    BLANK_PAGE = "blank_page"
    HTTP_ERROR = "http_error"
    SELECTOR_MISSING = "selector_missing"
    COUNT_MISMATCH = "count_mismatch"
    TIMEOUT = "timeout"
    INTERRUPTED = "interrupted"


class CaselogError(Exception):
    """Base class: ``str(error)`` is one sentence that names the fix."""

    exit_code: ExitCode = ExitCode.ERROR


class ConfigError(CaselogError):
    """The configuration file or a flag is wrong."""

    exit_code = ExitCode.USAGE


class UnsafePath(ConfigError):
    """A name taken from data (an account, a case ID) would make a path outside its folder."""


class HomeError(ConfigError):
    """The home (or a folder the user named) cannot hold what caselog writes there."""


class BrowserMissing(CaselogError):
    """No Chromium could be found or installed."""


class NoDisplay(CaselogError):
    """A visible browser was asked for on a machine without a screen."""

    exit_code = ExitCode.USAGE


class AuthRequired(CaselogError):
    """A login page, MFA prompt, captcha or expired session needs a person."""

    exit_code = ExitCode.AUTH


class SiteUnavailable(CaselogError):
    """The site could not be read completely (blank page, HTTP error, missing selector...)."""

    exit_code = ExitCode.INCOMPLETE


class ReadError(SiteUnavailable):
    """A read that could not be completed; the sync stores it as an incomplete snapshot."""

    def __init__(self, reason: IncompleteReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = IncompleteReason(reason)
        self.detail = detail


class ServiceUnavailable(CaselogError):
    """The platform's service manager (systemd --user, launchd, Task Scheduler) is missing
    here or refused a command; the sentence says what to do instead."""

    exit_code = ExitCode.SERVICE


class FleetUnavailable(CaselogError):
    """The fleet's Redis server (broker, locks, schedule) cannot be reached."""

    exit_code = ExitCode.FLEET


class DateParseError(CaselogError):
    """A date written by the site matches none of the formats its selector map lists."""


class StoreLocked(CaselogError):
    """Another caselog process holds the account's database."""


class StoreConflict(StoreLocked):
    """Another process committed to the store since it was read; nothing was written."""


class StoreCorrupt(CaselogError):
    """A database file cannot be read; it is left untouched."""


class ContactRefused(CaselogError):
    """A contact rule refused to send (the case changed, a nudge too soon, the same text
    again, a closed case, the daily budget): nothing was sent; the sentence names the fix."""

    exit_code = ExitCode.REFUSED

    def __init__(self, rule: str, sentence: str) -> None:
        super().__init__(sentence)
        self.rule = rule


class OverLimit(CaselogError):
    """What would be sent breaks one of the site's own limits (length, Cc list, files)."""

    exit_code = ExitCode.USAGE


class SendFailed(CaselogError):
    """The site refused an action, or what was sent could not be found afterwards."""


class NotFound(CaselogError):
    """A case, account or flag named on the command line does not exist."""

    exit_code = ExitCode.USAGE


class ArchiveError(CaselogError):
    """An archive file cannot be read or written (bad JSON, wrong schema version, bad format)."""

    exit_code = ExitCode.USAGE


def key_path(loc: tuple[Any, ...]) -> str:
    """A pydantic error location as a dotted key: ``accounts[0].timezone``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def first_problem(exc: ValidationError) -> tuple[str, str, str]:
    """The first problem of a validation error: ``(key, message, error type)``.

    The message is pydantic's, without its "Value error, " prefix; the key is dotted
    (``accounts[0].timezone``), empty for the top level. An unknown key comes first.
    """
    errors = exc.errors(include_url=False)
    # A misspelt key shows up twice: as an unknown key, and as the key it was meant to be,
    # missing. The unknown one is the cause; say that.
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    message = str(err["msg"]).removeprefix("Value error, ")
    return key_path(tuple(err["loc"])), message, str(err["type"])
