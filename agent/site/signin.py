"""Signing in to Seller Central: e-mail, password, TOTP, and knowing when a person must help.

The sign-in pages (``/ap/signin``, ``/ap/mfa``) are walked with the account's credentials;
a captcha or another challenge (``/ap/cvf``...) stops with :class:`AuthRequired` (exit 3)
naming the command a person runs. Hooks are Amazon's stable ids (seller-central-facts.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import quote

import pyotp
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from agent.core.text import squash
from agent.errors import AuthRequired
from agent.site.credentials import Credentials, login_hint
from agent.site.pages import PageKind, classify, classify_url

if TYPE_CHECKING:
    from agent.site.session import AccountContext

__all__ = ["login_hint", "sign_in", "wait_for_person"]

MAX_STEPS = 8


def sign_in(ctx: AccountContext, creds: Credentials, landing: str) -> None:
    """Walk the sign-in pages with e-mail, password and TOTP, then save the session; a person
    is needed for captchas and other challenges (:class:`AuthRequired`, exit 3)."""
    name = ctx.account.name
    if not creds.complete:
        raise AuthRequired(
            f"account {name} is not signed in and has no password configured; "
            f"{login_hint(name)} (or configure its password: README, Credentials)"
        )
    page = ctx.page
    if classify(page) is PageKind.CONTENT:
        ctx.goto(f"/ap/signin?returnTo={quote(landing)}")
    for _ in range(MAX_STEPS):
        kind = classify(page)
        if kind is PageKind.CONTENT:
            ctx.save_state()
            return
        _check_error(page, name)
        if kind is PageKind.SIGNIN:
            _signin_step(page, creds)
        elif kind is PageKind.MFA:
            _mfa_step(page, creds, name)
        else:
            raise AuthRequired(
                f"Seller Central shows a {kind.value} page that a person must answer; "
                f"{login_hint(name)}"
            )
    raise AuthRequired(f"signing in to account {name} did not finish; {login_hint(name)}")


def wait_for_person(ctx: AccountContext, landing: str, timeout_s: float = 600) -> None:
    """Headed login: let a person sign in (captcha, SMS...), then save the session."""
    ctx.goto(f"/ap/signin?returnTo={quote(landing)}")
    try:
        ctx.page.wait_for_url(
            lambda url: classify_url(url) is PageKind.CONTENT, timeout=timeout_s * 1000
        )
    except PlaywrightError:
        raise AuthRequired(
            f"nobody finished signing in within {timeout_s:g} s; run the command again (with "
            "--timeout for more time)"
        ) from None
    ctx.save_state()


def _check_error(page: Page, account: str) -> None:
    box = page.locator("#auth-error-message-box")
    if box.count() and box.first.is_visible():
        text = squash(box.first.inner_text())
        raise AuthRequired(
            f"Seller Central refused the sign-in for account {account} ({text}); "
            f"check its password and TOTP secret, or {login_hint(account)}"
        )


def _submit(page: Page, click: Callable[[], None]) -> None:
    with page.expect_navigation(wait_until="domcontentloaded"):
        click()


def _signin_step(page: Page, creds: Credentials) -> None:
    email = page.locator("#ap_email")
    password = page.locator("#ap_password")
    if email.count() and email.first.is_visible() and not password.count():
        email.first.fill(creds.email)
        _submit(page, lambda: page.locator("#continue").first.click())
        return
    if email.count() and email.first.is_visible():
        email.first.fill(creds.email)
    password.first.fill(creds.password or "")
    remember = page.locator("input[name=rememberMe]")
    if remember.count() and not remember.first.is_checked():
        remember.first.check()
    _submit(page, lambda: page.locator("#signInSubmit").first.click())


def _mfa_step(page: Page, creds: Credentials, account: str) -> None:
    if not creds.totp_secret:
        raise AuthRequired(
            f"account {account} asks for a verification code and no TOTP secret is "
            f"configured; {login_hint(account)} (or configure its TOTP secret: README, "
            "Credentials)"
        )
    page.locator("#auth-mfa-otpcode").first.fill(pyotp.TOTP(creds.totp_secret).now())
    remember = page.locator("#auth-mfa-remember-device")
    if remember.count() and not remember.first.is_checked():
        remember.first.check()
    _submit(page, lambda: page.locator("#auth-signin-button").first.click())
