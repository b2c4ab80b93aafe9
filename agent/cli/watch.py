"""``caselog watch``: monitoring on a schedule until stopped."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated

import typer

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
) -> None:
    """Sync, evaluate and notify on a schedule until stopped (Ctrl-C or SIGTERM)."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(message)s"
    )
    config_ = settings(config)
    accounts = config_.selected(account)
    if not accounts:
        config_.account(None)
    interval = timedelta(minutes=config_.watch.interval_minutes)
    err.print(f"watching {', '.join(a.name for a in accounts)} every {interval}; Ctrl-C stops")
    run_watch(home(), config_, accounts, rounds=rounds, say=lambda line: err.print(line))
    err.print("stopped")
