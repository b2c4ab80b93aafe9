"""``caselog watch``: monitoring on a schedule until stopped."""

from __future__ import annotations

import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from agent.app.service import load_env_file, open_log
from agent.app.watch import check_targets
from agent.app.watch import watch as run_watch
from agent.cli.common import AccountOpt, ConfigOpt, app, err, handle_errors, home, settings


@app.command()
@handle_errors
def watch(
    account: AccountOpt = None,
    rounds: Annotated[
        int | None, typer.Option(help="Stop after this many rounds per account (default: never).")
    ] = None,
    config: ConfigOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each round.")] = False,
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
        typer.Option("--log-file", help="Append all output to this file instead of the terminal."),
    ] = None,
) -> None:
    """Sync, evaluate and notify on a schedule until stopped (Ctrl-C or SIGTERM)."""
    if log_file is not None:
        sys.stdout = sys.stderr = open_log(log_file)  # a service has no terminal
    if env_file is not None:
        load_env_file(env_file)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(message)s"
    )
    config_ = settings(config)
    accounts = config_.selected(account)
    if not accounts:
        config_.account(None)
    check_targets(config_, not no_notify)
    interval = timedelta(minutes=config_.watch.interval_minutes)
    err.print(f"watching {', '.join(a.name for a in accounts)} every {interval}; Ctrl-C stops")
    run_watch(
        home(),
        config_,
        accounts,
        rounds=rounds,
        say=lambda line: err.print(line),
        notify=not no_notify,
    )
    err.print("stopped")
