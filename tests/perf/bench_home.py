"""A ``CASELOG_HOME`` prepared for benchmarks: one account on the mock, and saved states.

The account is configured the way a seller would (``caselog.toml``, README "Configuration";
credentials in environment variables, never in the file), once per concurrency to compare
(``bench-c4.toml``, ``bench-c8.toml``; ``caselog.toml`` is the first). Files are copied in and
out by the layout the README documents (the store folder ``data/<account>/``, the session
``state/<account>.json``), so every timed run starts from the same store and the same session.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["ACCOUNT", "MARKETPLACE", "MERCHANT", "SELECTOR_MAP", "BenchHome"]

ACCOUNT = "bench"
MERCHANT = "A1LARGESELLER"  # the mock's `large` scenario (fixtures/scenarios/large.json)
MARKETPLACE = "ATVPDKIKX0DER"
SELECTOR_MAP = "modern-en-US"
PASSWORD_ENV = "CASELOG_BENCH_PASSWORD"
TOTP_ENV = "CASELOG_BENCH_TOTP"


def caselog_toml(url: str, email: str, concurrency: int) -> str:
    return f"""# Written by the benchmark harness (tests/perf/bench_home.py).
[[accounts]]
name = "{ACCOUNT}"
base_url = "{url}"
merchant_id = "{MERCHANT}"
email = "{email}"
password_env = "{PASSWORD_ENV}"
totp_env = "{TOTP_ENV}"
timezone = "America/Los_Angeles"
concurrency = {concurrency}

[[accounts.marketplaces]]
id = "{MARKETPLACE}"
selector_map = "{SELECTOR_MAP}"
"""


class BenchHome:
    """``root/home`` is the ``CASELOG_HOME``; ``root/saved`` keeps copies; ``root/scratch``
    holds command output."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.saved = root / "saved"
        self.scratch = root / "scratch"
        for d in (self.home, self.saved, self.scratch):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.home, 0o700)

    @property
    def store(self) -> Path:
        """The account's store folder (README: ``data/<account>/``)."""
        return self.home / "data" / ACCOUNT

    def store_written_at(self) -> float:
        """When the last commit switched the store to its current generation."""
        return (self.store / "CURRENT").stat().st_mtime

    def store_bytes(self) -> int:
        """The size of the store's current generation (what a command reads)."""
        current = self.store / (self.store / "CURRENT").read_text().strip()
        return sum(f.stat().st_size for f in current.iterdir())

    @property
    def state(self) -> Path:
        return self.home / "state" / f"{ACCOUNT}.json"

    def configure(self, url: str, email: str, concurrencies: list[int]) -> dict[int, Path]:
        """One config file per concurrency; ``caselog.toml`` is the first one's."""
        paths = {}
        for c in concurrencies:
            path = self.home / f"bench-c{c}.toml"
            path.write_text(caselog_toml(url, email, c))
            paths[c] = path
        shutil.copyfile(paths[concurrencies[0]], self.home / "caselog.toml")
        return paths

    def env(self, login: dict[str, str]) -> dict[str, str]:
        return {
            **os.environ,
            "CASELOG_HOME": str(self.home),
            PASSWORD_ENV: login["password"],
            TOTP_ENV: login["totp_secret"],
            "COLUMNS": "120",  # tables render the same whatever terminal ran the harness
        }

    def save(self, name: str) -> None:
        """Keep the store and the session as they are now, as ``name``."""
        for src in (self.store, self.state):
            if src.exists():
                _copy(src, self.saved / f"{name}-{src.parent.name}")

    def save_folders(self, name: str, folders: tuple[str, ...] = ("data", "state")) -> None:
        """Keep these folders of the home (every account's stores and sessions) as ``name``."""
        for folder in folders:
            _copy(self.home / folder, self.saved / f"{name}-all-{folder}")

    def restore_folders(self, name: str, folders: tuple[str, ...] = ("data", "state")) -> None:
        """The folders saved as ``name``, in place of the home's."""
        for folder in folders:
            _copy(self.saved / f"{name}-all-{folder}", self.home / folder)

    def restore(self, name: str | None) -> None:
        """The store and session saved as ``name``; ``None``: none at all (a first run)."""
        for dst in (self.store, self.state):
            _remove(dst)
            if name is None:
                continue
            src = self.saved / f"{name}-{dst.parent.name}"
            if src.exists():
                _copy(src, dst)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _copy(src: Path, dst: Path) -> None:
    _remove(dst)
    if src.is_dir():
        shutil.copytree(src, dst)  # a copy, not links: a timed run must not share files
    else:
        shutil.copy2(src, dst)
