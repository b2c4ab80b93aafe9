"""The mock site, once per test session; state reset through the admin API before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from caselog_mock import AdminClient, MockServer, SellerClient


@pytest.fixture(scope="session")
def mock_server() -> Iterator[MockServer]:
    server = MockServer(scenario="demo", port=0).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def admin_client(mock_server: MockServer) -> AdminClient:
    return AdminClient(mock_server.url, mock_server.admin_token)


@pytest.fixture
def admin(admin_client: AdminClient) -> AdminClient:
    """The admin API, with the site back at the demo scenario's start."""
    admin_client.reset(scenario="demo")
    return admin_client


@pytest.fixture
def seller(mock_server: MockServer, admin: AdminClient) -> SellerClient:
    """A signed-in plain-HTTP seller (no browser)."""
    client = SellerClient(mock_server.url)
    login = mock_server.login
    client.sign_in(login["email"], login["password"], login["totp_secret"])
    return client
