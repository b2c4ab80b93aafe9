"""``caselog watch``: monitoring on a schedule until stopped."""

from __future__ import annotations

import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from agent.app.logs import setup_logging
from agent.app.service import load_env_file, open_log
from agent.app.watch import check_targets
from agent.app.watch import watch as run_watch
from agent.cli.common import (
    AccountOpt,
    ConfigOpt,
    ConsoleLog,
    commands,
    handle_errors,
    home,
    settings,
)

app = commands()

log = logging.getLogger("caselog.watch")


@app.command()
@handle_errors
def watch(
    account: AccountOpt = None,
    rounds: Annotated[
        int | None, typer.Option(help="Stop after this many rounds per account (default: never).")
    ] = None,
    config: ConfigOpt = None,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Log more: debug lines, and what apprise sent where."),
    ] = False,
    env_file: Annotated[
        Path | None,
        typer.Option(
            "--env-file",
            help="Read NAME=value lines (the accounts' credentials) from this file first, "
            "as `caselog service` does with service.env in the home.",
        ),
    ] = None,
    no_notify: Annotated[
        bool,
        typer.Option(
            "--no-notify",
            help="Watch without a notification target: sync and keep the calendar only.",
        ),
    ] = False,
    log_file: Annotated[
        Path | None,
        typer.Option(
            "--log-file",
            help="Append the terminal's lines to this file instead (a service has no terminal); "
            "logs/caselog.log in the home keeps everything either way.",
        ),
    ] = None,
) -> None:
    """Sync, evaluate and notify on a schedule until stopped (Ctrl-C or SIGTERM): one log
    line per round and account, the whole log in logs/caselog.log in the home."""
    if log_file is not None:
        sys.stdout = sys.stderr = open_log(log_file)  # a service has no terminal
    if env_file is not None:
        load_env_file(env_file)
    where = home()
    path = setup_logging(where, verbose=verbose, console=ConsoleLog())
    config_ = settings(config)
    accounts = config_.selected(account)
    if not accounts:
        config_.account(None)
    check_targets(config_, not no_notify)
    interval = timedelta(minutes=config_.watch.interval_minutes)
    log.info(
        "watching %s every %s; the log is %s; Ctrl-C stops",
        ", ".join(a.name for a in accounts),
        interval,
        path,
    )
    run_watch(where, config_, accounts, rounds=rounds, notify=not no_notify)
    log.info("stopped")
