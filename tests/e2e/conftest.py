"""End-to-end fixtures: the mock site on a free port, a home configured for it, and the
`caselog` CLI run as a real subprocess (:mod:`e2e_cli`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from e2e_cli import Cli, configure


@dataclass
class Site:
    server: Any
    admin: Any

    @property
    def url(self) -> str:
        return str(self.server.url)


@pytest.fixture(scope="session")
def e2e_site(mock_server: Any, mock_admin: Any) -> Site:
    """The session's mock site (tests/conftest.py), seen through the e2e helpers."""
    return Site(mock_server, mock_admin)


@pytest.fixture
def site(e2e_site: Site) -> Site:
    """The shared demo site, reset to its scenario's start with no faults."""
    e2e_site.admin.reset(scenario="demo")
    e2e_site.admin.clear_faults()
    return e2e_site


@pytest.fixture
def cli(site: Site, caselog_home: Path) -> Cli:
    return Cli(caselog_home, configure(caselog_home, site))
