"""The ``caselog`` command: thin, each command parses flags, calls one function, renders.

One module per command group; each registers its commands on :data:`agent.cli.common.app`
when imported here.
"""

from __future__ import annotations

from agent.cli import (  # noqa: F401  (each module registers its commands)
    archive,
    cases,
    demo,
    install,
    maps,
    service,
    todo,
    watch,
)
from agent.cli.common import app
from agent.errors import ExitCode

__all__ = ["ExitCode", "app", "main"]


def main() -> None:
    app()
