"""One exception hierarchy; the CLI turns each into one sentence and an exit code.

Foreign errors (Playwright, TinyDB, TOML, pydantic) are converted at the module that
meets them, so callers only ever see a :class:`CaselogError`.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, documented in the README."""

    OK = 0
    ERROR = 1
    USAGE = 2  # bad command line or bad configuration
    AUTH = 3  # a person must log in (`caselog login --headed`)
    INCOMPLETE = 4  # the site could not be read completely


class CaselogError(Exception):
    """Base class: ``str(error)`` is one sentence that names the fix."""

    exit_code: ExitCode = ExitCode.ERROR


class ConfigError(CaselogError):
    """The configuration file or a flag is wrong."""

    exit_code = ExitCode.USAGE


class BrowserMissing(CaselogError):
    """No Chromium could be found or installed."""


class AuthRequired(CaselogError):
    """A login page, MFA prompt, captcha or expired session needs a person."""

    exit_code = ExitCode.AUTH


class SiteUnavailable(CaselogError):
    """The site could not be read completely (blank page, HTTP error, missing selector...)."""

    exit_code = ExitCode.INCOMPLETE


class ReadError(SiteUnavailable):
    """A read that could not be completed; the sync stores it as an incomplete snapshot.

    ``reason`` is an :class:`agent.core.models.IncompleteReason` value.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class StoreLocked(CaselogError):
    """Another caselog process holds the account's database."""


class StoreCorrupt(CaselogError):
    """A database file cannot be read; it is left untouched."""


class NotFound(CaselogError):
    """A case, account or flag named on the command line does not exist."""

    exit_code = ExitCode.USAGE


class ArchiveError(CaselogError):
    """An archive file cannot be read or written (bad JSON, wrong schema version, bad format)."""

    exit_code = ExitCode.USAGE
