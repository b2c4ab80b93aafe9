"""Browser provisioning: the one place that finds, installs and launches Chromium.

Used by the agent, by ``caselog install`` and by the test suite alike. Order:

1. ``CASELOG_CHROMIUM`` (an explicit executable) when set;
2. Playwright's own Chromium when it is installed;
3. a download of Playwright's Chromium (``caselog install`` only);
4. a system Chromium on PATH (``chromium``, ``chromium-browser``, ``google-chrome``...);
5. on Debian as root, ``apt-get install -y chromium`` (``caselog install`` only);
6. otherwise :class:`BrowserMissing` saying exactly what to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from agent.errors import BrowserMissing

if TYPE_CHECKING:
    from playwright.sync_api import Playwright

ENV_CHROMIUM = "CASELOG_CHROMIUM"
SYSTEM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Flags a closed network and a root user need; applied to every launch, nowhere else.
# Never a --disable-features or --enable-features here: Chromium honours only the last of
# each, so ours would silently replace Playwright's own list (HttpsUpgrades, PaintHolding,
# ThirdPartyStoragePartitioning... back on). Playwright's list already has OptimizationHints
# and MediaRouter.
QUIET_FLAGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--disable-default-apps",
)

INSTALL_HINT = (
    "no Chromium found: run `caselog install`, or install one yourself "
    "(Debian/Ubuntu: `sudo apt-get install -y chromium`; elsewhere: `python -m playwright install "
    "chromium`), or point CASELOG_CHROMIUM at a Chrome/Chromium executable"
)


@dataclass(frozen=True)
class BrowserChoice:
    """Which Chromium to launch; ``executable`` None means Playwright's bundled build."""

    source: str  # "env", "playwright", "system"
    executable: str | None
    description: str


def use_node_compile_cache() -> None:
    """Let Playwright's driver (Node) keep its compiled code between runs: it starts in 0.3 s
    instead of 0.4 s. The cache holds Playwright's own code, nothing of a seller's; a
    ``NODE_COMPILE_CACHE`` already set is kept."""
    folder = Path(platformdirs.user_cache_dir("caselog", False)) / "node-compile-cache"
    os.environ.setdefault("NODE_COMPILE_CACHE", str(folder))


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def playwright_chromium(pw: Playwright | None = None) -> str | None:
    """Path of Playwright's own Chromium if it is installed, else None. ``pw``: the running
    Playwright to ask (a second one cannot start beside it in the same thread, and starting
    one costs a driver start, 0.3 s)."""
    try:
        if pw is not None:
            path = pw.chromium.executable_path
        else:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as started:
                path = started.chromium.executable_path
    except Exception:
        return None
    return path if path and Path(path).exists() else None


def system_chromium() -> str | None:
    for name in SYSTEM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def find_browser(pw: Playwright | None = None) -> BrowserChoice:
    """Find an installed Chromium without installing anything (``pw``: a running Playwright,
    see :func:`playwright_chromium`)."""
    explicit = os.environ.get(ENV_CHROMIUM)
    if explicit:
        if not Path(explicit).is_file() or not os.access(explicit, os.X_OK):
            raise BrowserMissing(
                f"{ENV_CHROMIUM}={explicit} is not an executable file: fix the path or unset it"
            )
        return BrowserChoice("env", explicit, f"{explicit} (from {ENV_CHROMIUM})")
    own = playwright_chromium(pw)
    if own:
        return BrowserChoice("playwright", None, f"Playwright's Chromium at {own}")
    system = system_chromium()
    if system:
        return BrowserChoice("system", system, f"system Chromium at {system}")
    raise BrowserMissing(INSTALL_HINT)


def _run(cmd: list[str], timeout: float, log: Any) -> bool:
    log(f"running: {' '.join(cmd)}")
    try:
        proc = subprocess.run(cmd, timeout=timeout, capture_output=True, text=True, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log(f"  failed: {exc}")
        return False
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or [""]
        log(f"  failed (exit {proc.returncode}): {tail[0]}")
        return False
    return True


def install_browser(log: Any = print, allow_apt: bool = True) -> BrowserChoice:
    """Make sure a Chromium is available, installing one if needed; return the choice."""
    try:
        return find_browser()
    except BrowserMissing:
        if os.environ.get(ENV_CHROMIUM):
            raise
    _run([sys.executable, "-m", "playwright", "install", "chromium"], 600, log)
    if playwright_chromium():
        return find_browser()
    if system_chromium() is None and allow_apt:
        apt_install("chromium", log)
    return find_browser()


def apt_install(package: str, log: Any = print) -> bool:
    """``apt-get install -y PACKAGE`` where that can run (Debian/Ubuntu, as root); False
    where it cannot or failed. Chromium here; the fleet's ``redis-server`` too."""
    if not (_is_root() and shutil.which("apt-get")):
        return False
    if not _run(["apt-get", "update", "-qq"], 600, log):
        return False
    return _run(["apt-get", "install", "-y", "-qq", package], 900, log)


def launch_options(
    headless: bool = True, choice: BrowserChoice | None = None, pw: Playwright | None = None
) -> dict[str, Any]:
    """Keyword arguments for ``playwright.chromium.launch`` (and pytest-playwright); ``pw``:
    the Playwright that will launch it, when it runs already."""
    choice = choice or find_browser(pw)
    args = list(QUIET_FLAGS)
    if _is_root():
        args.append("--no-sandbox")
    options: dict[str, Any] = {"headless": headless, "args": args}
    if choice.executable:
        options["executable_path"] = choice.executable
    return options
