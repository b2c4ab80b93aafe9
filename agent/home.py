"""The one directory that holds all runtime state (``CASELOG_HOME``), and private files in it.

:class:`Home` is passed explicitly to whatever reads or writes the home, so a process can
work on two homes at once (``caselog demo`` keeps its own) without touching ``os.environ``.
Every path it builds from data (an account name, a case ID, a snapshot id) goes through
:func:`inside`, which refuses a name that would leave its folder: an archive that names its
account ``../../outside`` is refused before anything is opened, let alone written.

Private files (cookies, correspondence) are written with :func:`write_private`: a temporary
file in the same folder, fsynced, renamed over the old one, mode 0600; folders are 0700.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from agent.errors import HomeError, UnsafePath

ENV_HOME = "CASELOG_HOME"
CONFIG_FILE = "caselog.toml"


def inside(folder: Path, name: str) -> Path:
    """``folder / name``, refused unless it is a plain entry of ``folder``.

    ``name`` must be one path component: no separator, no ``..``, not absolute, no NUL,
    nothing that resolves (through a link) outside ``folder``.
    """
    if (
        not name
        or name in (".", "..")
        or "\x00" in name
        or "/" in name
        or "\\" in name
        or Path(name).is_absolute()
        or Path(name).name != name
    ):
        raise UnsafePath(
            f"{name!r} cannot name a file inside {folder}: it must be a plain name without "
            "'/', '\\' or '..'"
        )
    path = folder / name
    resolved_folder = folder.resolve()
    if path.resolve().parent != resolved_folder:
        raise UnsafePath(f"{path} leads outside {folder} (a link?); remove it and run again")
    return path


def cannot_write(path: Path, exc: OSError) -> HomeError:
    """One sentence for a write that the file system refused."""
    if exc.errno == errno.EROFS:
        why = "the file system is read-only"
    elif exc.errno == errno.EISDIR or path.is_dir():
        return HomeError(f"{path} is a folder where caselog keeps a file; move it aside")
    elif exc.errno in (errno.ENOSPC, errno.EDQUOT):
        why = "the disk is full"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        why = "permission denied"
    else:
        why = exc.strerror or type(exc).__name__
    return HomeError(
        f"cannot write {path} ({why}); set CASELOG_HOME to a folder you can write to, or free "
        "space, and run again (read-only commands still work)"
    )


PAUSE_IN_WRITE = "CASELOG_TEST_PAUSE_IN_WRITE"


def _pause_for_tests(path: Path) -> None:
    """Test-only: with ``CASELOG_TEST_PAUSE_IN_WRITE=<marker file>``, a write of a database
    (``data/*.json``) stops halfway, says so by creating the marker, and waits, so that a
    test can kill the process inside the write (tests/e2e/test_kill.py)."""
    marker = os.environ.get(PAUSE_IN_WRITE)
    if marker and path.parent.name == "data" and path.suffix == ".json":
        Path(marker).touch()
        time.sleep(120)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) 0700; make an existing one 0700 where that is allowed."""
    if path.exists() and not path.is_dir():
        raise HomeError(
            f"{path} is a file where caselog needs a folder; move it aside and run again"
        )
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise cannot_write(path, exc) from exc
    if stat.S_IMODE(path.stat().st_mode) != 0o700:
        with contextlib.suppress(OSError):  # a read-only home can still be read
            os.chmod(path, 0o700)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` atomically to ``path`` with mode 0600 (temp file, fsync, rename); the
    folder is created 0700 when missing. A refused write is a :class:`HomeError`."""
    private_dir(path.parent)
    if path.is_dir():
        raise HomeError(f"{path} is a folder where caselog keeps a file; move it aside")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise cannot_write(path, exc) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            half = len(data) // 2
            fh.write(data[:half])
            _pause_for_tests(path)
            fh.write(data[half:])
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise cannot_write(path, exc) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@dataclass(frozen=True)
class Home:
    """Where caselog keeps its configuration and data; see README, "Where things live"."""

    root: Path

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Home:
        """``CASELOG_HOME``, or the platform's user data folder (e.g. ~/.local/share/caselog)."""
        raw = environ.get(ENV_HOME)
        root = Path(raw).expanduser() if raw else Path(platformdirs.user_data_dir("caselog", False))
        return cls(root)

    def ensure(self) -> Home:
        """Create the home (mode 0700) if it is missing; return it."""
        private_dir(self.root)
        return self

    def sub(self, name: str) -> Home:
        """A home of its own inside this one (``caselog demo`` uses ``demo/``)."""
        return Home(inside(self.root, name))

    @property
    def config_file(self) -> Path:
        return self.root / CONFIG_FILE

    def folder(self, name: str) -> Path:
        """A folder of the home (created 0700 when missing)."""
        return private_dir(inside(self.root, name))

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def store_path(self, account: str) -> Path:
        """The database file of ``account`` (nothing is created: a writer creates it)."""
        return inside(self.data_dir, f"{account}.json")

    def has_store(self, account: str) -> bool:
        return self.store_path(account).is_file()

    def stored_accounts(self) -> list[str]:
        """Names of the accounts that have a database here, sorted."""
        if not self.data_dir.is_dir():
            return []
        return sorted(p.stem for p in self.data_dir.glob("*.json") if p.is_file())

    def state_path(self, account: str) -> Path:
        """The browser session (cookies) of ``account`` (saved with :func:`write_private`)."""
        return inside(self.root / "state", f"{account}.json")

    @property
    def failed_pages(self) -> Path:
        return self.folder("failed-pages")

    @property
    def calendar_file(self) -> Path:
        return self.folder("calendar") / "caselog.ics"

    @property
    def maps_dir(self) -> Path:
        """Learned selector maps: ``candidates/`` (not in use yet) and the accepted ones."""
        return self.root / "maps"

    def accepted_map(self, account: str, marketplace: str) -> Path:
        """Where the map accepted for one marketplace of an account lives."""
        return inside(self.maps_dir, f"{account}-{marketplace or 'all'}.toml")

    def candidate_map(self, account: str, marketplace: str) -> Path:
        """Where a map learned for one marketplace waits to be accepted."""
        return inside(self.maps_dir / "candidates", f"{account}-{marketplace or 'all'}.toml")

    @property
    def archive_dir(self) -> Path:
        """Where ``caselog export`` writes by default (created by the writer)."""
        return self.root / "archive"
