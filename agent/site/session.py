"""One Chromium, one browser context per account, and the account's page in it.

The context keeps its cookies in a storage-state file (mode 0600) the caller names (in the
home), reused on the next run. Images, fonts, media and every host other than the account's
own are blocked. Page loads retry with the one :class:`~agent.site.retry.RetryPolicy`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from agent.config import Account
from agent.errors import BrowserMissing, IncompleteReason, NoDisplay, ReadError
from agent.home import write_private
from agent.site.browser import launch_options, use_node_compile_cache
from agent.site.credentials import Credentials, resolve
from agent.site.pages import PageKind, classify
from agent.site.retry import RetryPolicy
from agent.site.signin import sign_in

__all__ = [
    "HEAVY_RESOURCES",
    "AccountContext",
    "BrowserSession",
    "CredentialSource",
    "KeptBrowser",
]

HEAVY_RESOURCES = re.compile(
    r"\.(?:png|jpe?g|gif|webp|avif|svg|ico|bmp|woff2?|ttf|otf|eot|mp4|webm|m4v|mov|mp3|ogg|wav)"
    r"(?:[?#]|$)",
    re.IGNORECASE,
)

CredentialSource = Callable[[Account], Credentials]
"""Where an account's password and TOTP secret come from (default: environment or keyring)."""


def require_display(account: str = "NAME") -> None:
    """A visible browser needs a screen: say so before Chromium fails with a traceback, and
    name the way round it (sign in elsewhere and carry the session here)."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        file = f"{account}-session.json"
        raise NoDisplay(
            "there is no display here for a visible browser (--headed); run `caselog login "
            f"--account {account} --headed --save-state {file}` on a machine with a screen, "
            f"copy {file} here and run `caselog login --account {account} --import-state "
            f"{file}`, or sign in without --headed with the configured password and TOTP"
        )


def foreign_hosts(allowed: set[str]) -> re.Pattern[str]:
    """A pattern matching every http(s) URL whose host is not one of ``allowed``."""
    hosts = "|".join(re.escape(h) for h in sorted(allowed))
    return re.compile(rf"^https?://(?!(?:{hosts})(?::\d+)?(?:[/?#]|$))", re.IGNORECASE)


class BrowserSession:
    """One Chromium for the whole run; :meth:`context` opens one context per account.

    ``browser`` lets a caller that already runs Playwright (a test suite) lend its own
    Chromium; the session then neither launches nor closes one.
    """

    def __init__(
        self, headless: bool = True, slowmo: float = 0, browser: Browser | None = None
    ) -> None:
        self._pw: Playwright | None = None
        if browser is not None:
            self.browser = browser
            return
        if not headless:
            require_display()
        use_node_compile_cache()
        self._pw = sync_playwright().start()
        try:
            options = launch_options(headless=headless, pw=self._pw)
            if slowmo:
                options["slow_mo"] = slowmo
            self.browser = self._pw.chromium.launch(**options)
        except PlaywrightError as exc:
            self._pw.stop()
            raise BrowserMissing(
                f"Chromium did not start ({_first_line(exc)}); run `caselog install`, or point "
                "CASELOG_CHROMIUM at a working Chrome/Chromium"
            ) from None
        except BaseException:
            self._pw.stop()
            raise

    def context(
        self,
        account: Account,
        state_file: Path,
        credentials: CredentialSource = resolve,
        *,
        for_person: bool = False,
    ) -> AccountContext:
        return AccountContext(self.browser, account, state_file, credentials, for_person=for_person)

    def close(self) -> None:
        if self._pw is None:
            return
        try:
            self.browser.close()
        finally:
            self._pw.stop()

    def __enter__(self) -> BrowserSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class KeptBrowser:
    """One Chromium kept across rounds (``caselog watch``, a Celery worker process): started
    when first needed, started again when it crashed (the driver or the browser is gone) and,
    to give back the memory a long-lived Chromium gathers, after ``max_rounds`` rounds."""

    def __init__(self, max_rounds: int, start: Callable[[], BrowserSession] = BrowserSession):
        self.max_rounds = max(1, max_rounds)
        self._start = start
        self._session: BrowserSession | None = None
        self.rounds = 0
        self.launches = 0

    def session(self) -> BrowserSession:
        """The live session; a new one when there is none, it crashed, or it is worn out."""
        if self._session is not None and (
            self.rounds >= self.max_rounds or not self._alive(self._session)
        ):
            self.close()
        if self._session is None:
            self._session = self._start()
            self.rounds = 0
            self.launches += 1
        return self._session

    def round_done(self) -> None:
        self.rounds += 1

    @staticmethod
    def _alive(session: BrowserSession) -> bool:
        try:
            return session.browser.is_connected()
        except Exception:  # the driver itself is gone
            return False

    def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            with contextlib.suppress(Exception):  # a crashed browser cannot be closed cleanly
                session.close()


class AccountContext:
    """The browser context of one account: its cookies, its one page, blocking, sign-in.

    ``for_person``: a person looks at this page (``caselog login --headed``), so images are
    shown (a captcha is one); other hosts stay blocked.
    """

    def __init__(
        self,
        browser: Browser,
        account: Account,
        state_file: Path,
        credentials: CredentialSource = resolve,
        *,
        for_person: bool = False,
    ) -> None:
        self.account = account
        self.origin = account.base_url
        self.credentials = credentials
        # waits through the browser, so accounts read at once (agent.site.crew) go on meanwhile
        self.retry = RetryPolicy(account.max_retries, sleep=self.pause)
        host = urlsplit(account.base_url).hostname or ""
        self.allowed_hosts = {host, *account.allowed_hosts}
        self.state_file = state_file
        storage: Any = str(state_file) if state_file.is_file() else None
        try:
            self.context: BrowserContext = browser.new_context(
                storage_state=storage, service_workers="block"
            )
        except PlaywrightError:
            # A damaged state file is not worth failing over: start signed out.
            self.context = browser.new_context(service_workers="block")
        self.context.set_default_timeout(account.request_timeout_seconds * 1000)
        # Pages and their resources pass through these routes (each one a round trip to the
        # Playwright driver); the fetch pool's reads go from a worker of the page's origin,
        # outside the routes, and are kept to that origin by the fetch itself.
        self.context.route(foreign_hosts(self.allowed_hosts), self._block)
        if not for_person:
            self.context.route(HEAVY_RESOURCES, self._block)
        self.page: Page = self.context.new_page()
        self.blocked = 0

    def pause(self, seconds: float) -> None:
        """Wait ``seconds`` through the browser: other accounts read at once by the same
        Chromium (:mod:`agent.site.crew`) go on meanwhile, as they would not in ``time.sleep``."""
        try:
            self.page.wait_for_timeout(seconds * 1000)
        except PlaywrightError:  # the page is gone: wait all the same
            time.sleep(seconds)

    def _block(self, route: Route) -> None:
        self.blocked += 1
        route.abort("blockedbyclient")

    def url(self, path: str) -> str:
        return self.origin + path

    def save_state(self, also_to: Path | None = None) -> None:
        """Keep the session (cookies) in the account's state file, and in ``also_to`` (a file
        the user named, to carry elsewhere), both mode 0600."""
        state = json.dumps(self.context.storage_state()).encode()
        write_private(self.state_file, state)
        if also_to is not None:
            write_private(also_to, state, own_folder=False)

    def goto(self, path: str) -> PageKind:
        """Open ``path`` on the account's site, retrying 429/5xx and timeouts; return what
        kind of page it landed on."""
        url = self.url(path)
        tries = 0
        while True:
            try:
                response = self.page.goto(url, wait_until="domcontentloaded")
            except PlaywrightError as exc:
                problem, retry_after = _first_line(exc), None
            else:
                status = response.status if response is not None else 200
                if not self.retry.retryable(status):
                    return classify(self.page)
                problem = f"HTTP {status}"
                retry_after = response.headers.get("retry-after") if response else None
            tries += 1
            if not self.retry.again(tries, [retry_after]):
                raise ReadError(
                    IncompleteReason.HTTP_ERROR,
                    f"{url} could not be loaded after {self.retry.max_retries} retries ({problem})",
                )

    def ensure_signed_in(self, landing: str) -> None:
        """Open ``landing``; sign in with the account's credentials if the site asks."""
        if self.goto(landing) is PageKind.CONTENT:
            return
        sign_in(self, self.credentials(self.account), landing)

    def close(self) -> None:
        with contextlib.suppress(PlaywrightError):
            self.context.close()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
