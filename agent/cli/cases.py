"""Commands that read the Case Log and the store: login, sync, cases, show, search."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from agent.app.login import import_state
from agent.app.login import login as sign_in_and_save
from agent.app.queries import SORTS, list_cases, parse_status, search, show_case
from agent.app.sync import SyncProgress, sync_accounts
from agent.cli.common import (
    AccountOpt,
    ConfigOpt,
    JsonOpt,
    app,
    err,
    handle_errors,
    home,
    out,
    print_json,
    settings,
)
from agent.config import Account, Settings
from agent.core.labels import marketplace_name, status_label
from agent.core.models import Case
from agent.core.text import visible
from agent.core.times import local_time
from agent.errors import ConfigError, ExitCode

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


def _case_row(c: Case, zone: ZoneInfo, several: bool) -> list[str]:
    reply = local_day(c.last_amazon_reply_at, zone) if c.last_amazon_reply_at else "no reply"
    row = [
        c.case_id,
        status_label(c.status.value),
        c.subject,
        marketplace_name(c.marketplace),
        local_day(c.created_at, zone),
        reply,
        str(c.message_count),
    ]
    return ([c.account] if several else []) + row


def local_day(value: datetime | None, zone: ZoneInfo) -> str:
    return local_time(value, zone)[:10] if value else ""


DEFAULT_LIMIT = 50


@app.command()
@handle_errors
def cases(
    account: AccountOpt = None,
    status: Annotated[str | None, typer.Option(help="Only this status, e.g. answered.")] = None,
    needs_attention: Annotated[
        bool, typer.Option("--needs-attention", help="Only cases waiting for you.")
    ] = False,
    sort: Annotated[
        str, typer.Option(help=f"Order: {', '.join(SORTS)} (times newest first).")
    ] = "created",
    limit: Annotated[
        int | None,
        typer.Option(
            help=f"At most this many (0: all; default {DEFAULT_LIMIT} in the table, all in JSON)."
        ),
    ] = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List the stored cases, newest first."""
    if limit is None and not json_out:
        limit = DEFAULT_LIMIT
    found = list_cases(
        home(),
        settings(config),
        account,
        parse_status(status) if status else None,
        needs_attention,
        sort=sort,
        limit=limit,
    )
    if json_out:
        print_json(
            [
                {
                    **c.model_dump(mode="json"),
                    "status_label": status_label(c.status.value),
                    "marketplace_name": marketplace_name(c.marketplace),
                }
                for c in found.cases
            ]
        )
        return
    several = len(found.zones) > 1
    utc = ZoneInfo("UTC")
    columns = ["Case ID", "Status", "Subject", "Marketplace", "Created", "Last Amazon reply"]
    table = Table(*(["Account"] if several else []), *columns, "Msgs")
    for c in found.cases:
        table.add_row(*_case_row(c, found.zones.get(c.account, utc), several))
    out.print(table)
    shown = len(found.cases)
    if shown < found.total:
        out.print(f"{shown} of {found.total} case(s) shown; --limit 0 shows all")
    else:
        out.print(f"{found.total} case(s)")


@app.command()
@handle_errors
def show(
    case_id: Annotated[str, typer.Argument(help="The case ID.")],
    account: AccountOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Show one case and its whole thread, oldest message first."""
    thread = show_case(home(), settings(config), case_id, account)
    if json_out:
        print_json(
            {
                "case": thread.case.model_dump(mode="json"),
                "messages": [m.model_dump(mode="json") for m in thread.messages],
                "url": thread.url,
            }
        )
        return
    c, zone = thread.case, thread.zone
    out.print(Text(c.case_id, style="bold"), c.subject)
    label = status_label(c.status.value)
    raw = c.status_raw if c.status_raw and c.status_raw.strip() != label else ""
    out.print(
        f"{label}{f' (shown as {raw})' if raw else ''} · {marketplace_name(c.marketplace)} · "
        f"account {c.account} · opened {local_time(c.created_at, zone)}"
    )
    if thread.url:
        out.print(thread.url)
    if c.cc:
        out.print(f"cc: {', '.join(c.cc)}")
    for m in thread.messages:
        who = "Amazon" if m.direction.value == "from_amazon" else "You"
        out.rule(f"{who} ({m.sender_email or m.sender}) {local_time(m.sent_at, zone)}")
        out.print(m.body, markup=False)
        if m.attachments:
            out.print(f"attachments: {', '.join(m.attachments)}")


def _highlighted(snippet: str, where: tuple[int, int] | None) -> Text:
    """The snippet shown safely (``visible``), the match in reverse video."""
    if where is None:
        return Text(visible(snippet, one_line=True))
    lo, hi = where
    text = Text(visible(snippet[:lo], one_line=True))
    text.append(visible(snippet[lo:hi], one_line=True), style="reverse bold")
    text.append(visible(snippet[hi:], one_line=True))
    return text


@app.command("search")
@handle_errors
def search_cmd(
    text: Annotated[str, typer.Argument(help="Words to find in subjects and message bodies.")],
    account: AccountOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Search subjects AND message bodies (Amazon's own search only looks at subjects);
    one row per case, with the best snippet."""
    found = search(home(), settings(config), text, account)
    if json_out:
        print_json(
            [
                {
                    "account": h.case.account,
                    "case_id": h.case.case_id,
                    "subject": h.case.subject,
                    "status": status_label(h.case.status.value),
                    "in_subject": h.in_subject,
                    "messages": h.messages,
                    "hits": [{"where": x.where, "snippet": x.snippet} for x in h.hits],
                    "snippet": h.hits[0].snippet,
                }
                for h in found
            ]
        )
        return
    several = len({h.case.account for h in found}) > 1
    table = Table(*(["Account"] if several else []), "Case ID", "Subject", "Found in", "Snippet")
    for h in found:
        where = []
        if h.in_subject:
            where.append("subject")
        if h.messages:
            where.append(f"{h.messages} message{'s' if h.messages != 1 else ''}")
        best = next((x for x in h.hits if x.where != "subject"), h.hits[0])
        row = [h.case.case_id, h.case.subject, ", ".join(where)]
        snippet = _highlighted(best.snippet, best.match)
        table.add_row(*([h.case.account] if several else []), *row, snippet)
    out.print(table)
    n = sum(len(h.hits) for h in found)
    out.print(f"{len(found)} case(s), {n} match(es)")
    if not found:
        raise typer.Exit(int(ExitCode.OK))
