"""Commands about what to do: changes, due, draft, snooze, done."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from agent.app.notify import describe_event
from agent.app.queries import changes as list_changes
from agent.app.todo import decide, draft
from agent.app.todo import due as list_due
from agent.cli.common import (
    AccountOpt,
    ConfigOpt,
    JsonOpt,
    app,
    handle_errors,
    home,
    out,
    print_json,
    settings,
)
from agent.core.models import FlagState, utcnow
from agent.core.times import parse_duration
from agent.errors import ConfigError


@app.command()
@handle_errors
def changes(
    since: Annotated[str, typer.Option(help="How far back: 7d, 36h, 90m, 2w.")] = "7d",
    account: AccountOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """What changed in your cases (status, messages, subjects, vanished cases)."""
    events = list_changes(home(), settings(config), account, utcnow() - parse_duration(since))
    if json_out:
        print_json([e.model_dump(mode="json") for e in events])
        return
    table = Table("When (UTC)", "Case", "What")
    for e in events:
        table.add_row(f"{e.detected_at:%Y-%m-%d %H:%M}", e.case_id, describe_event(e, ""))
    out.print(table)
    out.print(f"{len(events)} change(s) since {since} ago")


@app.command()
@handle_errors
def due(
    account: AccountOpt = None,
    upcoming: Annotated[bool, typer.Option(help="Also list what falls due later.")] = False,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """What needs action now, most urgent first, each with the reason."""
    now = utcnow()
    results = list_due(home(), settings(config), account, now)
    if json_out:
        print_json(
            [
                {
                    "account": r.account.name,
                    "due": [f.model_dump(mode="json") for f in r.due],
                    "upcoming": [f.model_dump(mode="json") for f in r.upcoming] if upcoming else [],
                }
                for r in results
            ]
        )
        return
    total = 0
    for r in results:
        table = Table("Case", "Action", "Severity", "Due", "Why", title=f"{r.account.name}")
        rows = r.due + (r.upcoming if upcoming else [])
        for f in rows:
            table.add_row(
                f.case_id, f.kind.value, f.severity.value, f"{f.due_at:%Y-%m-%d %H:%M}", f.reason
            )
        total += len(r.due)
        if rows:
            out.print(table)
    out.print(f"{total} item(s) need action now")


@app.command("draft")
@handle_errors
def draft_cmd(
    case_id: Annotated[str, typer.Argument(help="The case ID.")],
    kind: Annotated[str, typer.Option("--kind", help="follow-up or escalation.")] = "follow-up",
    account: AccountOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write a follow-up or escalation message from the case's own facts."""
    if kind not in ("follow-up", "escalation"):
        raise ConfigError(f"--kind must be follow-up or escalation, not {kind!r}")
    d = draft(home(), settings(config), case_id, kind, utcnow(), account)
    if json_out:
        print_json(d.model_dump(mode="json"))
        return
    out.print(f"Subject: {d.subject}\n", markup=False)
    out.print(d.body, markup=False)


@app.command()
@handle_errors
def snooze(
    case_id: Annotated[str, typer.Argument(help="The case ID.")],
    duration: Annotated[str, typer.Argument(help="For how long: 2d, 36h, 90m, 1w.")] = "1d",
    account: AccountOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Silence a case's current flags for a while."""
    now = utcnow()
    until = now + parse_duration(duration)
    flags = decide(
        home(), settings(config), case_id, FlagState.SNOOZED, now, until=until, account=account
    )
    if json_out:
        print_json(
            {
                "case_id": case_id,
                "snoozed_until": until.isoformat(),
                "flags": [f.flag_id for f in flags],
            }
        )
    else:
        out.print(f"case {case_id}: {len(flags)} flag(s) snoozed until {until:%Y-%m-%d %H:%M} UTC")


@app.command()
@handle_errors
def done(
    case_id: Annotated[str, typer.Argument(help="The case ID.")],
    account: AccountOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Mark a case's current flags done (a later step of the ladder flags it again)."""
    flags = decide(home(), settings(config), case_id, FlagState.DONE, utcnow(), account=account)
    if json_out:
        print_json({"case_id": case_id, "done": [f.flag_id for f in flags]})
    else:
        out.print(f"case {case_id}: {len(flags)} flag(s) marked done")
