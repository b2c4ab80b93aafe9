"""The mock site, once per test session; state reset through the admin API before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from caselog_mock import AdminClient, MockServer, SellerClient
from mocksite import signed_in_client
from playwright.sync_api import Browser, Page


@pytest.fixture(scope="session")
def admin_client(mock_admin: AdminClient) -> AdminClient:
    """The session server's admin client (``mock_server``/``mock_admin``: tests/conftest.py)."""
    return mock_admin


@pytest.fixture
def admin(admin_client: AdminClient) -> AdminClient:
    """The admin API, with the site back at the demo scenario's start."""
    admin_client.reset(scenario="demo")
    return admin_client


@pytest.fixture
def seller(mock_server: MockServer, admin: AdminClient) -> SellerClient:
    """A signed-in plain-HTTP seller (no browser)."""
    return signed_in_client(mock_server)


@pytest.fixture
def seller_page(browser: Browser, mock_server: MockServer, seller: SellerClient) -> Iterator[Page]:
    """A Chromium page already signed in (cookies of an HTTP sign-in), base_url = the mock."""
    context = browser.new_context(base_url=mock_server.url, accept_downloads=True)
    context.add_cookies(
        [{"name": c.name, "value": c.value, "url": mock_server.url} for c in seller.cookies]
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs  # type: ignore[attr-defined]
    yield page
    context.close()


@pytest.fixture
def fresh_page(browser: Browser, mock_server: MockServer, admin: AdminClient) -> Iterator[Page]:
    """A Chromium page with no cookies at all (for the sign-in tests)."""
    context = browser.new_context(base_url=mock_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
