"""Commands that drive the browser: login (and carrying a session) and sync."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agent.app.login import import_state
from agent.app.login import login as sign_in_and_save
from agent.app.sync import SyncProgress, sync_accounts
from agent.cli.common import (
    AccountOpt,
    ConfigOpt,
    JsonOpt,
    commands,
    err,
    handle_errors,
    home,
    out,
    print_json,
    settings,
)
from agent.config import Account, Settings
from agent.errors import ConfigError

app = commands()

HeadedOpt = Annotated[bool, typer.Option("--headed", help="Show the browser window.")]


def _pick_accounts(config: Settings, account: str | None, all_: bool) -> list[Account]:
    if account and all_:
        raise ConfigError("give either --account or --all, not both")
    if all_:
        if not config.accounts:
            config.account(None)  # raises the "no account configured" sentence
        return list(config.accounts)
    return [config.account(account)]


@app.command()
@handle_errors
def login(
    account: AccountOpt = None,
    headed: HeadedOpt = False,
    save_state: Annotated[
        Path | None,
        typer.Option(
            "--save-state",
            help="Also write the signed-in session to this file (mode 0600), to carry it to "
            "another machine.",
        ),
    ] = None,
    import_state_: Annotated[
        Path | None,
        typer.Option(
            "--import-state",
            help="Take a session saved elsewhere with --save-state (checked, opens no browser).",
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for a person.")] = 600,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Sign in and save the session (0600). --headed lets a person solve captchas and codes;
    --save-state FILE on a desktop and --import-state FILE on a server carry the session."""
    config_ = settings(config)
    if import_state_ is not None:
        if headed or save_state is not None:
            raise ConfigError(
                "--import-state takes a saved session; give it without --headed or --save-state"
            )
        if account is None and len(config_.accounts) > 1:
            raise ConfigError(
                "--import-state needs --account: say which account the session belongs to"
            )
        done = import_state(home(), config_.account(account), import_state_)
        if json_out:
            print_json(
                {
                    "account": done.account,
                    "imported_from": str(done.source),
                    "state_file": str(done.state_file),
                    "cookies": done.cookies,
                    "dropped": done.dropped,
                }
            )
            return
        dropped = f" ({done.dropped} for other hosts left out)" if done.dropped else ""
        out.print(
            f"session for {done.account} imported from {done.source} to {done.state_file} (mode "
            f"0600): {done.cookies} cookie(s){dropped}; `caselog status --check-session` "
            "tells whether it still works"
        )
        return
    acc = config_.account(account)
    state_file = sign_in_and_save(
        home(),
        acc,
        headed=headed,
        timeout_s=timeout,
        save_to=save_state,
        say=lambda line: err.print(line),
    )
    if json_out:
        print_json(
            {
                "account": acc.name,
                "signed_in": True,
                "state_file": str(state_file),
                "saved_to": str(save_state) if save_state else None,
            }
        )
        return
    out.print(f"signed in to {acc.name}; session saved to {state_file} (mode 0600)")
    if save_state is not None:
        out.print(
            f"also saved to {save_state} (mode 0600): copy it to the machine that runs caselog "
            f"and run `caselog login --account {acc.name} --import-state {save_state.name}` there"
        )


@app.command()
@handle_errors
def sync(
    account: AccountOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Sync every configured account.")] = False,
    full: Annotated[bool, typer.Option("--full", help="Re-read every case's details.")] = False,
    at_once: Annotated[
        int | None,
        typer.Option(
            "--at-once",
            min=1,
            max=32,
            help="Accounts read at once (default: [fleet] accounts_at_once).",
        ),
    ] = None,
    headed: HeadedOpt = False,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Read every case and its whole contact history into the local store."""
    config_ = settings(config)
    accounts = _pick_accounts(config_, account, all_)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=json_out or not err.is_terminal,
    ) as bar:
        task = bar.add_task("signing in and listing cases", total=None)

        def listed(name: str, cases: int, to_read: int) -> None:
            bar.update(
                task, description=f"{name}: {cases} cases, reading", total=to_read, completed=0
            )

        results = sync_accounts(
            accounts,
            config_,
            home(),
            full=full,
            headless=not headed,
            at_once=at_once,
            progress=SyncProgress(on_listed=listed, on_detail=lambda n: bar.advance(task, n)),
        )
    summaries = [r.summary() for r in results]
    if json_out:
        print_json(summaries if all_ else summaries[0])
    else:
        for s in summaries:
            state = "complete" if s["complete"] else f"INCOMPLETE ({s['reason']}: {s['detail']})"
            out.print(
                f"{s['account']}: {s['cases_seen']} cases seen, {s['details_read']} details "
                f"read, {s['new_messages']} new messages, {s['events']} events, "
                f"{s['requests']} requests, {s['seconds']} s — {state}"
            )
            if s["failed_page"]:
                out.print(f"  the page that could not be read was saved to {s['failed_page']}")
    code = max((int(r.exit_code) for r in results), default=0)
    if code:
        raise typer.Exit(code)
