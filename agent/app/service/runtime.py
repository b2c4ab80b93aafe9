"""What ``caselog watch`` does for a service that runs it: read the credentials file
(``--env-file``) and write to the log (``--log-file``).

The credentials file has the shape systemd's ``EnvironmentFile=`` reads, so one file serves
every platform: ``NAME=value`` lines, ``#`` or ``;`` comments, an optional ``export``, values
in single quotes taken as they are, in double quotes with ``\\"``, ``\\\\``, ``\\$`` and
``\\``` escapes. A value the file leaves empty never blanks a variable set elsewhere (the
template's ``NAME=`` lines). Values are never logged or printed: errors name the line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, MutableMapping
from pathlib import Path
from typing import TextIO

from agent.errors import ConfigError

__all__ = ["load_env_file", "missing_values", "open_log", "parse_env_file"]

_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
_DOUBLE_ESCAPES = '"\\$`'


def _unquote(raw: str) -> str:
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    if len(value) >= 2 and value[0] == value[-1] == '"':
        inner, out, i = value[1:-1], [], 0
        while i < len(inner):
            if inner[i] == "\\" and i + 1 < len(inner) and inner[i + 1] in _DOUBLE_ESCAPES:
                i += 1
            out.append(inner[i])
            i += 1
        return "".join(out)
    return re.sub(r"\\(.)", r"\1", value)


def parse_env_file(text: str, source: str = "service.env") -> dict[str, str]:
    """``NAME -> value`` for every assignment in ``text``; a malformed line is refused by
    number (never by content, which may be a password)."""
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        match = _LINE.match(stripped)
        if not match:
            raise ConfigError(
                f"{source}, line {number}, is not NAME=value; fix or remove that line"
            )
        values[match.group(1)] = _unquote(match.group(2))
    return values


def missing_values(text: str, names: Iterable[str]) -> list[str]:
    """The ``names`` that ``text`` gives no value (absent, or ``NAME=`` left empty)."""
    values = parse_env_file(text)
    return [name for name in names if not values.get(name)]


def load_env_file(path: Path, environ: MutableMapping[str, str] = os.environ) -> list[str]:
    """Set ``environ`` from the file's non-empty values; return the names set."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path} does not exist; run `caselog service install` to create it, or fix --env-file"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path} ({exc}); fix its permissions") from None
    loaded = {k: v for k, v in parse_env_file(text, str(path)).items() if v}
    environ.update(loaded)
    return sorted(loaded)


def open_log(path: Path) -> TextIO:
    """``path`` opened for appending, line by line (a new folder 0700, a new file 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    return os.fdopen(fd, "a", buffering=1, encoding="utf-8", errors="replace")
