"""One Chromium, one browser context per account; signing in; recognising auth pages.

The context keeps its cookies in a storage-state file (mode 0600) in the home, reused on
the next run. Images, fonts, media and every host other than the account's own are blocked.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pyotp
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from agent.config import Account
from agent.core.models import IncompleteReason
from agent.errors import AuthRequired, ReadError
from agent.home import home_dir, private_dir, write_private
from agent.site.browser import launch_options
from agent.site.credentials import Credentials, resolve
from agent.site.retry import backoff

HEAVY_RESOURCES = re.compile(
    r"\.(?:png|jpe?g|gif|webp|avif|svg|ico|bmp|woff2?|ttf|otf|eot|mp4|webm|m4v|mov|mp3|ogg|wav)"
    r"(?:[?#]|$)",
    re.IGNORECASE,
)


def foreign_hosts(allowed: set[str]) -> re.Pattern[str]:
    """A pattern matching every http(s) URL whose host is not one of ``allowed``."""
    hosts = "|".join(re.escape(h) for h in sorted(allowed))
    return re.compile(rf"^https?://(?!(?:{hosts})(?::\d+)?(?:[/?#]|$))", re.IGNORECASE)


CAPTCHA_TEXT = "Enter the characters you see below"


class PageKind(StrEnum):
    SIGNIN = "signin"
    MFA = "mfa"
    CAPTCHA = "captcha"
    CHALLENGE = "challenge"
    CONTENT = "content"


def classify_url(url: str) -> PageKind:
    """What an URL says about the page: an auth step, or content."""
    path = urlsplit(url).path
    if path.startswith("/ap/signin"):
        return PageKind.SIGNIN
    if path.startswith("/ap/mfa"):
        return PageKind.MFA
    if path.startswith("/errors/validateCaptcha"):
        return PageKind.CAPTCHA
    if path.startswith(("/ap/cvf", "/ap/challenge")):
        return PageKind.CHALLENGE
    return PageKind.CONTENT


def classify(page: Page) -> PageKind:
    kind = classify_url(page.url)
    if kind is PageKind.CONTENT:
        try:
            if page.get_by_text(CAPTCHA_TEXT).count():
                return PageKind.CAPTCHA
        except PlaywrightError:
            pass
    return kind


def state_path(account: str) -> Path:
    return private_dir(home_dir() / "state") / f"{account}.json"


def login_hint(account: str) -> str:
    return f"run `caselog login --account {account} --headed` and sign in"


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
        self._pw = sync_playwright().start()
        try:
            options = launch_options(headless=headless)
            if slowmo:
                options["slow_mo"] = slowmo
            self.browser = self._pw.chromium.launch(**options)
        except BaseException:
            self._pw.stop()
            raise

    def context(self, account: Account) -> AccountContext:
        return AccountContext(self.browser, account)

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


class AccountContext:
    """The browser context of one account: cookies, blocking, sign-in."""

    def __init__(self, browser: Browser, account: Account) -> None:
        self.account = account
        self.origin = account.base_url
        host = urlsplit(account.base_url).hostname or ""
        self.allowed_hosts = {host, *account.allowed_hosts}
        self.state_file = state_path(account.name)
        storage: Any = str(self.state_file) if self.state_file.exists() else None
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
        self.context.route(HEAVY_RESOURCES, self._block)
        self.page: Page = self.context.new_page()
        self.blocked = 0

    def _block(self, route: Route) -> None:
        self.blocked += 1
        route.abort("blockedbyclient")

    def url(self, path: str) -> str:
        return self.origin + path

    def save_state(self) -> None:
        state = self.context.storage_state()
        write_private(self.state_file, json.dumps(state).encode())

    def goto(self, path: str) -> PageKind:
        """Open ``path`` on the account's site, retrying 429/5xx and timeouts with backoff;
        return what kind of page it landed on."""
        url = self.url(path)
        for attempt in range(self.account.max_retries + 1):
            try:
                response = self.page.goto(url, wait_until="domcontentloaded")
            except PlaywrightError as exc:
                problem = _first_line(exc)
                retry_after = None
            else:
                status = response.status if response is not None else 200
                if status != 429 and status < 500:
                    return classify(self.page)
                problem = f"HTTP {status}"
                retry_after = response.headers.get("retry-after") if response else None
            if attempt < self.account.max_retries:
                time.sleep(backoff(attempt, retry_after))
        raise ReadError(
            IncompleteReason.HTTP_ERROR.value,
            f"{url} could not be loaded after {self.account.max_retries} retries ({problem})",
        )

    def ensure_signed_in(self, landing: str, credentials: Credentials | None = None) -> None:
        """Open ``landing``; sign in with the configured credentials if the site asks."""
        if self.goto(landing) is PageKind.CONTENT:
            return
        creds = credentials or resolve(self.account)
        self.sign_in(creds, landing)

    def sign_in(self, creds: Credentials, landing: str) -> None:
        """Walk the sign-in pages with e-mail, password and TOTP; a person is needed for
        captchas and other challenges (:class:`AuthRequired`, exit 3)."""
        name = self.account.name
        if not creds.complete:
            raise AuthRequired(
                f"account {name} is not signed in and has no password configured; "
                f"{login_hint(name)} (or set password_env and totp_env in caselog.toml)"
            )
        if classify(self.page) is PageKind.CONTENT:
            self.goto(f"/ap/signin?returnTo={quote(landing)}")
        for _ in range(8):
            kind = classify(self.page)
            if kind is PageKind.CONTENT:
                self.save_state()
                return
            self._check_error()
            if kind is PageKind.SIGNIN:
                self._signin_step(creds)
            elif kind is PageKind.MFA:
                self._mfa_step(creds)
            else:
                raise AuthRequired(
                    f"Seller Central shows a {kind.value} page that a person must answer; "
                    f"{login_hint(name)}"
                )
        raise AuthRequired(f"signing in to account {name} did not finish; {login_hint(name)}")

    def _check_error(self) -> None:
        box = self.page.locator("#auth-error-message-box")
        if box.count() and box.first.is_visible():
            text = re.sub(r"\s+", " ", box.first.inner_text()).strip()
            raise AuthRequired(
                f"Seller Central refused the sign-in for account {self.account.name} ({text}); "
                f"check its password and TOTP secret, or {login_hint(self.account.name)}"
            )

    def _submit(self, click: Callable[[], None]) -> None:
        with self.page.expect_navigation(wait_until="domcontentloaded"):
            click()

    def _signin_step(self, creds: Credentials) -> None:
        page = self.page
        email = page.locator("#ap_email")
        password = page.locator("#ap_password")
        if email.count() and email.first.is_visible() and not password.count():
            email.first.fill(creds.email)
            self._submit(lambda: page.locator("#continue").first.click())
            return
        if email.count() and email.first.is_visible():
            email.first.fill(creds.email)
        password.first.fill(creds.password or "")
        remember = page.locator("input[name=rememberMe]")
        if remember.count() and not remember.first.is_checked():
            remember.first.check()
        self._submit(lambda: page.locator("#signInSubmit").first.click())

    def _mfa_step(self, creds: Credentials) -> None:
        if not creds.totp_secret:
            raise AuthRequired(
                f"account {self.account.name} asks for a verification code and no TOTP secret is "
                f"configured; set totp_env in caselog.toml or {login_hint(self.account.name)}"
            )
        page = self.page
        page.locator("#auth-mfa-otpcode").first.fill(pyotp.TOTP(creds.totp_secret).now())
        remember = page.locator("#auth-mfa-remember-device")
        if remember.count() and not remember.first.is_checked():
            remember.first.check()
        self._submit(lambda: page.locator("#auth-signin-button").first.click())

    def wait_for_person(self, landing: str, timeout_s: float = 600) -> None:
        """Headed login: let a person sign in (captcha, SMS...), then save the state."""
        self.goto(f"/ap/signin?returnTo={quote(landing)}")
        try:
            self.page.wait_for_url(
                lambda url: classify_url(url) is PageKind.CONTENT, timeout=timeout_s * 1000
            )
        except PlaywrightError:
            raise AuthRequired(
                f"nobody finished signing in within {timeout_s:g} s; run the command again"
            ) from None
        self.save_state()

    def close(self) -> None:
        with contextlib.suppress(PlaywrightError):
            self.context.close()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
