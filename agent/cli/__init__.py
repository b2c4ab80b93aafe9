"""The ``caselog`` command: thin, each command parses flags, calls one function, renders.

One module per command group, each with its own Typer app (:func:`agent.cli.common.commands`).
The root group knows every command's name and module (:data:`COMMANDS`) and imports a module
only when one of its commands runs, so ``caselog cases`` never pays for the browser driver,
the HTML templates or the map learner that ``caselog sync`` and ``caselog export`` need.
``caselog --help`` and shell completion import them all.
"""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Iterator, MutableMapping
from functools import cache
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from agent import __version__
from agent.cli.common import out
from agent.errors import ExitCode

__all__ = ["COMMANDS", "ExitCode", "app", "main"]

COMMANDS: dict[str, str] = {
    # command -> module of agent.cli (the order of `caselog --help`)
    "init": "first_run",
    "login": "session",
    "sync": "session",
    "cases": "cases",
    "show": "cases",
    "search": "cases",
    "due": "todo",
    "changes": "todo",
    "history": "todo",
    "open": "todo",
    "draft": "todo",
    "reply": "act",
    "reopen": "act",
    "cc": "act",
    "outbox": "act",
    "snooze": "todo",
    "done": "todo",
    "snoozes": "todo",
    "unsnooze": "todo",
    "watch": "watch",
    "worker": "fleet",
    "scheduler": "fleet",
    "status": "status",
    "service": "service",
    "export": "archive",
    "import": "archive",
    "maps": "maps",
    "demo": "demo",
    "install": "install",
    "config": "install",
    "mock-site": "install",
}


READS = frozenset({"cases", "show", "search", "due", "changes", "history", "snoozes", "status"})
"""Commands that read the store, print and end in a fraction of a second. They run without
Python's cyclic garbage collector: what they make (parsed tables, records) has no cycles and
is freed by reference counting, and a collection walks every object of a 10 MB table again
and again (10 to 20% of a read command's time on 10,000 cases)."""


@cache
def _group_of(module: str) -> TyperGroup:
    """The click group of one command module's Typer app (imports the module)."""
    commands: typer.Typer = importlib.import_module(f"agent.cli.{module}").app
    return typer.main.get_group(commands)


class _Commands(MutableMapping[str, Any]):
    """The root's commands by name, each loaded from its module on first use."""

    def __init__(self) -> None:
        self._added: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name in self._added:
            return self._added[name]
        command = _group_of(COMMANDS[name]).commands.get(name)
        if command is None:
            raise LookupError(f"agent.cli.{COMMANDS[name]} has no command {name!r}")
        return command

    def __setitem__(self, name: str, command: Any) -> None:
        self._added[name] = command

    def __delitem__(self, name: str) -> None:
        del self._added[name]

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (n for n in self._added if n not in COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS) + sum(n not in COMMANDS for n in self._added)

    def __contains__(self, name: object) -> bool:
        return name in COMMANDS or name in self._added


class LazyGroup(TyperGroup):
    """The root group: its commands come from :data:`COMMANDS`, imported when used."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commands = _Commands()


app = typer.Typer(
    name="caselog",
    cls=LazyGroup,
    help="A local companion agent for the Amazon Seller Central Case Log.",
    no_args_is_help=True,
    add_completion=True,  # caselog --install-completion / --show-completion
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        out.print(f"caselog {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Watch your Seller Central cases, record every message, and know what to do next."""


def main() -> None:
    """The ``caselog`` process (the console script, ``python -m agent``)."""
    command = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    if command in READS:
        gc.disable()  # the process ends with the command (see READS)
    app()
