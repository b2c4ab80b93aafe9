"""A keyring backend for tests: a JSON file named by ``CASELOG_TEST_KEYRING``.

Selected in a subprocess with ``PYTHON_KEYRING_BACKEND=file_keyring.FileKeyring`` (this folder
on ``PYTHONPATH``), so `caselog init` stores and `caselog sync` reads secrets through the real
keyring package, and the test can look at what was stored. Never for real secrets.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

BACKEND = "file_keyring.FileKeyring"
ENV_FILE = "CASELOG_TEST_KEYRING"


class FileKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    @staticmethod
    def _path() -> Path:
        return Path(os.environ[ENV_FILE])

    def _load(self) -> dict[str, str]:
        try:
            data: dict[str, str] = json.loads(self._path().read_text())
        except FileNotFoundError:
            return {}
        return data

    def _save(self, data: dict[str, str]) -> None:
        self._path().write_text(json.dumps(data, indent=2))

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        self._save({**self._load(), f"{service}/{username}": password})

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError(username)
        self._save(data)
