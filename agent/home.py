"""The one directory that holds all runtime state (``CASELOG_HOME``)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_HOME = "CASELOG_HOME"


def home_dir(create: bool = True) -> Path:
    """Return the home directory, created with mode 0700 when missing."""
    raw = os.environ.get(ENV_HOME)
    path = Path(raw).expanduser() if raw else Path(platformdirs.user_data_dir("caselog", False))
    if create:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make it 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def config_path() -> Path:
    return home_dir() / "caselog.toml"


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` atomically to ``path`` with mode 0600 (temp file, fsync, rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
