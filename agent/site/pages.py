"""What kind of page the browser landed on: content, or a step of signing in."""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

__all__ = ["CAPTCHA_TEXT", "PageKind", "classify", "classify_url"]


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
