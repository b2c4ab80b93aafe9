"""A Redis server on this machine: for a fleet on one machine, and for the test suite.

A deployment points ``[fleet] redis_url`` at any Redis (compose.yaml starts one); only a
fleet tried on one machine, and the tests (which start their own ``redis-server`` on a free
port), need the program here. ``caselog install --redis`` gets it the way ``caselog install``
gets Chromium: already on PATH, else Debian's package where apt-get can run (as root), else
:data:`REDIS_HINT`, one sentence saying what to install.
"""

from __future__ import annotations

import shutil
from typing import Any

from agent.errors import FleetUnavailable
from agent.site.browser import apt_install

__all__ = ["REDIS_HINT", "find_redis_server", "install_redis_server"]

REDIS_HINT = (
    "no redis-server found: run `caselog install --redis` (as root on Debian/Ubuntu), or "
    "install Redis yourself (Debian/Ubuntu: `sudo apt-get install -y redis-server`; macOS: "
    "`brew install redis`) so that `redis-server` is on PATH"
)


def find_redis_server() -> str:
    """The ``redis-server`` on PATH; :class:`FleetUnavailable` saying what to install."""
    found = shutil.which("redis-server")
    if found is None:
        raise FleetUnavailable(REDIS_HINT)
    return found


def install_redis_server(log: Any = print, allow_apt: bool = True) -> str:
    """Make sure ``redis-server`` is on PATH, installing Debian's package if it can."""
    if shutil.which("redis-server") is None and allow_apt:
        apt_install("redis-server", log)
    return find_redis_server()
