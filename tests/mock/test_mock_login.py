"""Sign-in in Chromium: email, password, TOTP; wrong inputs; sessions; captcha; "verify it's
you"; expiry."""

from __future__ import annotations

import re

import pyotp
import pytest
from caselog_mock import AdminClient, MockServer, SellerClient
from mocksite import CLASSIC_LOBBY, MODERN_LOBBY, OUTDOOR, UK, select_path
from playwright.sync_api import Page, expect


def _password_step(page: Page, server: MockServer, password: str | None = None) -> None:
    page.fill("#ap_email", server.login["email"])
    page.click("#continue")
    page.fill("#ap_password", password or server.login["password"])
    page.check("input[name=rememberMe]")
    page.click("#signInSubmit")


def _wrong_code(secret: str) -> str:
    totp = pyotp.TOTP(secret)
    return next(
        c for c in ("000000", "111111", "222222", "333333") if not totp.verify(c, valid_window=2)
    )


@pytest.mark.browser
def test_sign_in_with_totp_lands_on_the_page_asked_for(
    fresh_page: Page, mock_server: MockServer
) -> None:
    page = fresh_page
    page.goto(MODERN_LOBBY + "?page=2")
    assert "/ap/signin?returnTo=" in page.url
    expect(page.locator("#ap_email")).to_be_visible()
    _password_step(page, mock_server)
    expect(page).to_have_url(re.compile(r"/ap/mfa"))
    page.fill("#auth-mfa-otpcode", mock_server.current_totp())
    page.click("#auth-signin-button")
    expect(page).to_have_url(re.compile(r"/cu/case-lobby\?page=2$"))
    expect(page.locator("[data-testid=case-lobby][data-state=ready]")).to_be_attached()
    cookie = next(c for c in page.context.cookies() if c["name"] == "at-main")
    assert cookie["httpOnly"] is True
    assert cookie["expires"] > 0  # "Keep me signed in": a persistent cookie


@pytest.mark.browser
def test_wrong_password_and_wrong_code_show_the_error_box(
    fresh_page: Page, mock_server: MockServer
) -> None:
    page = fresh_page
    page.goto("/ap/signin?returnTo=/home")
    page.fill("#ap_email", "nobody@example.com")
    page.click("#continue")
    expect(page.locator("#auth-error-message-box")).to_contain_text("cannot find an account")
    _password_step(page, mock_server, password="wrong password")
    expect(page.locator("#auth-error-message-box")).to_contain_text("Your password is incorrect")
    expect(page.locator("#ap_password")).to_be_visible()
    page.fill("#ap_password", mock_server.login["password"])
    page.click("#signInSubmit")
    page.fill("#auth-mfa-otpcode", _wrong_code(mock_server.login["totp_secret"]))
    page.click("#auth-signin-button")
    expect(page.locator("#auth-error-message-box")).to_contain_text("not valid")
    expect(page).to_have_url(re.compile(r"/ap/mfa"))
    assert not any(c["name"] == "at-main" for c in page.context.cookies())
    # the right code on the same page still works
    page.fill("#auth-mfa-otpcode", mock_server.current_totp())
    page.check("#auth-mfa-remember-device")
    page.click("#auth-signin-button")
    expect(page.locator("#home-heading")).to_be_visible()
    # a remembered device skips the OTP step next time
    page.context.clear_cookies(name="at-main")
    page.goto("/ap/signin?returnTo=/home")
    _password_step(page, mock_server)
    expect(page.locator("#home-heading")).to_be_visible()


@pytest.mark.browser
def test_expired_session_and_captcha(
    seller_page: Page, mock_server: MockServer, admin: AdminClient
) -> None:
    page = seller_page
    page.goto(select_path(CLASSIC_LOBBY, OUTDOOR, UK))
    expect(page.locator("#case-log-table")).to_be_visible()
    admin.set_faults(expire_sessions=True, captcha_next_login=True)
    page.reload()
    expect(page).to_have_url(re.compile(r"/errors/validateCaptcha\?returnTo="))
    expect(page.locator("body")).to_contain_text("Enter the characters you see below")
    page.fill("#captchacharacters", "WRONG")
    page.click("#captcha-submit")
    expect(page.locator("#captcha-error")).to_be_visible()
    page.fill("#captchacharacters", admin.faults()["captcha_answer"])
    page.click("#captcha-submit")
    expect(page).to_have_url(re.compile(r"/ap/signin\?returnTo=/gp/case-dashboard/lobby.html"))
    assert admin.faults()["captcha_next_login"] is False
    _password_step(page, mock_server)
    page.fill("#auth-mfa-otpcode", mock_server.current_totp())
    page.click("#auth-signin-button")
    expect(page.locator("#case-log-table")).to_be_visible()


@pytest.mark.browser
def test_verify_its_you_takes_the_code_sent_to_the_phone(
    fresh_page: Page, mock_server: MockServer, admin: AdminClient
) -> None:
    page = fresh_page
    admin.set_faults(challenge_next_login=True)
    page.goto("/ap/signin?returnTo=/home")
    _password_step(page, mock_server)
    expect(page).to_have_url(re.compile(r"/ap/cvf/verify\?returnTo=/home"))
    expect(page.locator("#cvf-heading")).to_have_text("Verify it's you")
    assert not any(c["name"] == "at-main" for c in page.context.cookies())
    page.fill("#cvf-input-code", "000000")
    page.click("#cvf-submit-otp-button")
    expect(page.locator("#cvf-error")).to_be_visible()
    page.fill("#cvf-input-code", admin.faults()["challenge_code"])
    page.click("#cvf-submit-otp-button")
    expect(page.locator("#home-heading")).to_be_visible()
    assert admin.faults()["challenge_next_login"] is False


def test_session_lifetime_and_remember_me(mock_server: MockServer, admin: AdminClient) -> None:
    login = mock_server.login
    admin.set_options(session_lifetime_minutes=0)
    client = SellerClient(mock_server.url)
    client.sign_in(login["email"], login["password"], login["totp_secret"])
    assert client.get(MODERN_LOBBY, follow=False).status == 302
    admin.set_options(session_lifetime_minutes=60)
    client.sign_in(login["email"], login["password"], login["totp_secret"])
    assert client.get(MODERN_LOBBY, follow=False).status == 200
    session = next(c for c in client.cookies if c.name == "at-main")
    assert session.expires is None  # without "Keep me signed in": a session cookie
    admin.expire_sessions()
    assert client.get(MODERN_LOBBY, follow=False).status == 302
