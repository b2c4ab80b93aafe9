"""What every command shares: the Typer app, the consoles, the common options, error
handling, JSON output, and where the home and the settings come from.

Command modules import from here (never from the package's ``__init__``), so importing a
command never imports the others.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import orjson
import typer
from rich.console import Console
from rich.text import Text

from agent.config import Settings, load_settings
from agent.core.text import visible
from agent.errors import CaselogError
from agent.home import Home

__all__ = [
    "AccountOpt",
    "ConfigOpt",
    "ConsoleLog",
    "JsonOpt",
    "commands",
    "err",
    "handle_errors",
    "home",
    "out",
    "print_json",
    "settings",
]


def commands() -> typer.Typer:
    """The Typer app a command module registers its commands on; the root group
    (:mod:`agent.cli`) finds them there when one is run."""
    return typer.Typer(
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )


class SafeConsole(Console):
    """A console that shows text, never runs it: no markup, no emoji codes, and every string
    it renders (print arguments, table cells, rule titles) passed through
    :func:`agent.core.text.visible`, so text from the site or the command line cannot style,
    link, move the cursor or retitle the terminal. Our own styling uses ``Text`` objects."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(markup=False, emoji=False, highlight=False, soft_wrap=True, **kwargs)
        # Rich fixes the size from COLUMNS/LINES when the console is made (here: at import);
        # without a size of its own, ask each time, as it does for a terminal's size.
        if kwargs.get("width") is None:
            self._width = None
        if kwargs.get("height") is None:
            self._height = None

    def render_str(self, text: str, **kwargs: Any) -> Text:
        kwargs.update(markup=False, emoji=False)
        return super().render_str(visible(text), **kwargs)


out = SafeConsole()
err = SafeConsole(stderr=True)


class ConsoleLog(logging.Handler):
    """Log records on the terminal (stderr), through the safe console like all our output."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            err.print(self.format(record))
        except Exception:
            self.handleError(record)


# the standard library's output, faster: datetimes and dataclasses go through default=str
_ORJSON = (
    orjson.OPT_INDENT_2
    | orjson.OPT_NON_STR_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# The same characters in UTF-8, as patterns that start with a literal byte: finding none of
# them in megabytes of JSON takes a few milliseconds (the class above takes 40 ms per 5 MB).
_JSON_UNSAFE_UTF8 = tuple(
    re.compile(p)
    for p in (rb"\x7f", rb"\xc2[\x80-\x9f]", rb"\xe2\x80[\xa8-\xae]", rb"\xe2\x81[\xa6-\xa9]")
)

F = TypeVar("F", bound=Callable[..., Any])

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
AccountOpt = Annotated[str | None, typer.Option("--account", "-a", help="Account name.")]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="Path of caselog.toml (default: the one in CASELOG_HOME)."),
]


def home() -> Home:
    """The home of this run (``CASELOG_HOME``), created 0700 when missing."""
    return Home.from_env().ensure()


def settings(config: Path | None) -> Settings:
    """The settings from ``--config``, or the home's ``caselog.toml`` (absent: defaults)."""
    if config is not None:
        return load_settings(config, required=True)
    return load_settings(home().config_file)


def handle_errors(fn: F) -> F:
    """Turn a :class:`CaselogError` into one sentence on stderr and its exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CaselogError as exc:
            err.print(Text("error:", style="bold red"), str(exc))
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def _json_escaped(text: str) -> str:
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def print_json(data: Any) -> None:
    """``data`` as JSON, exactly: every string as it is stored. Control characters are JSON
    escapes (``\u001b``, and C1 and bidi controls too, which JSON would allow raw), so the
    output is exact and still cannot drive a terminal it is printed to."""
    try:
        raw = orjson.dumps(data, default=str, option=_ORJSON | orjson.OPT_APPEND_NEWLINE)
    except (orjson.JSONEncodeError, UnicodeDecodeError):  # a lone surrogate: the slow way
        text = json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
        raw = _json_escaped(text).encode()  # the surrogate too, as \udxxx
    else:
        if any(p.search(raw) for p in _JSON_UNSAFE_UTF8):
            raw = _json_escaped(raw.decode()).encode()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a text-only stream (a test's)
        sys.stdout.write(raw.decode())
        return
    sys.stdout.flush()
    buffer.write(raw)
    buffer.flush()
