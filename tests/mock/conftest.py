"""The mock site, once per test session; state reset through the admin API before each test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from caselog_mock import AdminClient, MockServer, SellerClient

OUTDOOR, KITCHEN = "A2DEMOOUTDOOR", "A3DEMOKITCHEN"
US, UK, CN = "ATVPDKIKX0DER", "A1F83G8C2ARO7P", "AAHKV2X7AFYLW"


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


def select_path(path: str, merchant: str, marketplace: str) -> str:
    sep = "&" if "?" in path else "?"
    return f"{path}{sep}mons_sel_dir_mcid={merchant}&mons_sel_mkid={marketplace}"


def search_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "page": 0,
        "searchPageSize": 50,
        "sortBy": "CreationDate",
        "sortByOrder": "DESC",
        "getCountOnly": False,
        "caseFilters": {"caseOwner": "MerchantCases"},
    }
    filters = overrides.pop("filters", None)
    if filters:
        body["caseFilters"].update(filters)
    body.update(overrides)
    return body
