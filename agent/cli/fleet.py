"""``caselog worker`` and ``caselog scheduler``: many machines on Celery (README, *Many
accounts*)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent.app.fleet.run import run_scheduler, run_worker
from agent.app.logs import setup_logging
from agent.app.service import load_env_file
from agent.cli.common import ConfigOpt, ConsoleLog, commands, handle_errors, home, settings

app = commands()

EnvFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--env-file",
        help="Read NAME=value lines (the accounts' credentials) from this file first.",
    ),
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Log debug lines too.")]


@app.command()
@handle_errors
def worker(
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency",
            "-c",
            min=1,
            max=64,
            help="Processes, each with its own Chromium, each running one account at a time.",
        ),
    ] = 1,
    max_tasks: Annotated[
        int | None,
        typer.Option(
            "--max-tasks",
            min=1,
            help="Replace a process (and its Chromium) after this many tasks "
            "(default: [fleet] worker_max_tasks).",
        ),
    ] = None,
    hostname: Annotated[
        str | None, typer.Option("--hostname", "-n", help="The worker's name (Celery's -n).")
    ] = None,
    config: ConfigOpt = None,
    env_file: EnvFileOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Run accounts' rounds (sync, rules, notices) sent by the scheduler, as a Celery worker
    on the fleet's Redis, until SIGTERM."""
    if env_file is not None:
        load_env_file(env_file)
    where = home()
    setup_logging(where, verbose=verbose, console=ConsoleLog(), to_file=False)
    run_worker(
        where,
        settings(config),
        concurrency=concurrency,
        max_tasks=max_tasks,
        hostname=hostname,
        verbose=verbose,
    )


@app.command()
@handle_errors
def scheduler(config: ConfigOpt = None, verbose: VerboseOpt = False) -> None:
    """Send every account's round to the workers every [watch] interval_minutes (Celery beat
    with a lock in Redis: a second scheduler waits, and sends nothing twice)."""
    where = home()
    setup_logging(where, verbose=verbose, console=ConsoleLog(), to_file=False)
    run_scheduler(where, settings(config), verbose=verbose)
