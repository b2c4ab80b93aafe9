"""Commands about what to do: due, changes, history, draft, snooze, done, snoozes, unsnooze,
open."""

from __future__ import annotations

import webbrowser
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table
from rich.text import Text

from agent.app.queries import account_zone, since_moment
from agent.app.queries import changes as list_changes
from agent.app.todo import case_page, decide, decisions, draft, history, unsnooze
from agent.app.todo import due as list_due
from agent.cli.common import (
    AccountOpt,
    ConfigOpt,
    JsonOpt,
    commands,
    handle_errors,
    home,
    out,
    print_json,
    settings,
)
from agent.core.labels import marketplace_name, status_label
from agent.core.models import Event, FlagState, utcnow
from agent.core.present import TodoItem, event_sentence, most_urgent_first
from agent.core.text import visible
from agent.core.times import local_time, parse_duration, parse_instant
from agent.errors import ConfigError

app = commands()

SinceOpt = Annotated[
    str,
    typer.Option(help="How far back: a duration (7d, 36h, 90m, 2w) or a date (2026-09-01)."),
]


def _event_json(e: Event, zone: ZoneInfo) -> dict[str, object]:
    """An event as stored, with its sentence and its local time beside it."""
    return {
        **e.model_dump(mode="json"),
        "text": event_sentence(e),
        "when": local_time(e.detected_at, zone),
    }


DUE_LIMIT = 20
"""Items of each list in ``due``'s table: the most urgent screenful (each item takes several
lines); ``--limit 0`` shows all, and ``--json`` gives all."""


def _cut(total: int, limit: int | None) -> str:
    """What a list cut to ``limit`` says after its count."""
    return f"; the first {limit} shown, --limit 0 shows all" if limit and total > limit else ""


def _todo_table(title: str, items: list[TodoItem], *, accounts: bool) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    if accounts:
        table.add_column("Account")
    table.add_column("Case")
    table.add_column("Subject", max_width=40)
    table.add_column("What to do", max_width=36)
    table.add_column("Why", ratio=2)
    table.add_column("By when")
    for i in items:
        what = Text(i.label, style="bold")
        what.append("\n" + i.action)
        row: list[str | Text] = [i.case_id, i.subject, what, i.why, i.by_when]
        table.add_row(*([i.account] if accounts else []), *row)
    return table


@app.command()
@handle_errors
def due(
    account: AccountOpt = None,
    upcoming: Annotated[bool, typer.Option(help="Also list what falls due later.")] = False,
    at: Annotated[
        str | None,
        typer.Option(help="Evaluate as of this moment instead of now (2026-11-24T09:00)."),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            help=f"At most this many of each list (0: all; default {DUE_LIMIT} in the table, "
            "all in JSON)."
        ),
    ] = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """What needs action now, most urgent first: the case, what to do, why, and by when."""
    if limit is not None and limit < 0:
        raise ConfigError(f"--limit must be 0 (all) or more, not {limit}")
    if limit is None and not json_out:
        limit = DUE_LIMIT
    config_ = settings(config)
    now = parse_instant(at, account_zone(config_, account)) if at else utcnow()
    results = list_due(home(), config_, account, now)
    due_items = most_urgent_first(i for r in results for i in r.due)
    later = (
        sorted((i for r in results for i in r.upcoming), key=lambda i: (i.due_at, i.case_id))
        if upcoming
        else []
    )
    if json_out:
        print_json(
            {
                "as_of": now.isoformat(),
                "due": [i.as_json() for i in due_items[: limit or None]],
                "upcoming": [i.as_json() for i in later[: limit or None]],
            }
        )
        return
    several = len(results) > 1
    if due_items:
        out.print(_todo_table("Needs action now", due_items[: limit or None], accounts=several))
    n = len(due_items)
    out.print(
        f"{n} item{'s' if n != 1 else ''} need{'s' if n == 1 else ''} action now{_cut(n, limit)}"
        if n
        else "Nothing needs action now."
    )
    if upcoming:
        if later:
            out.print()
            out.print(_todo_table("Coming up", later[: limit or None], accounts=several))
        out.print(f"{len(later)} coming up later{_cut(len(later), limit)}")


@app.command()
@handle_errors
def changes(
    since: SinceOpt = "7d",
    account: AccountOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """What changed in your cases (status, messages, subjects, vanished cases), by case."""
    config_ = settings(config)
    start = since_moment(config_, account, since, utcnow())
    groups = list_changes(home(), config_, account, start)
    if json_out:
        print_json(
            [
                {
                    "account": g.account.name,
                    "case_id": g.case_id,
                    "subject": g.subject,
                    "events": [_event_json(e, g.zone) for e in g.events],
                }
                for g in groups
            ]
        )
        return
    several = len({g.account.name for g in groups}) > 1
    total = 0
    for g in groups:
        head = Text(f"Case {g.case_id}", style="bold")
        head.append(f"  {visible(g.subject, one_line=True)}")
        if several:
            head.append(f"  ({g.account.name})", style="dim")
        out.print(head)
        for e in g.events:
            out.print(f"  {local_time(e.detected_at, g.zone)}  {event_sentence(e)}")
        total += len(g.events)
    n_cases = len(groups)
    out.print(
        f"{total} change{'s' if total != 1 else ''} in {n_cases} case"
        f"{'s' if n_cases != 1 else ''} since {local_time(start, account_zone(config_, account))}"
    )


@app.command("history")
@handle_errors
def history_cmd(
    case_id: Annotated[str, typer.Argument(help="The case ID.")],
    account: AccountOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Everything recorded about one case, oldest first, as sentences."""
    h = history(home(), settings(config), case_id, account)
    zone = ZoneInfo(h.account.timezone)
    if json_out:
        print_json(
            {
                "account": h.account.name,
                "case_id": h.case.case_id,
                "subject": h.case.subject,
                "url": h.url,
                "events": [_event_json(e, zone) for e in h.events],
            }
        )
        return
    head = Text(f"Case {h.case.case_id}", style="bold")
    head.append(f"  {visible(h.case.subject, one_line=True)}")
    out.print(head)
    out.print(
        f"{status_label(h.case.status.value)} · {marketplace_name(h.case.marketplace)} · "
        f"account {h.account.name}"
    )
    if h.url:
        out.print(h.url)
    out.print(f"  {local_time(h.case.created_at, zone)}  Case opened.")
    for e in h.events:
        out.print(f"  {local_time(e.detected_at, zone)}  {event_sentence(e)}")
    out.print(f"{len(h.events)} recorded change{'s' if len(h.events) != 1 else ''}")


@app.command("open")
@handle_errors
def open_cmd(
    case_id: Annotated[str, typer.Argument(help="The case ID.")],
    account: AccountOpt = None,
    print_only: Annotated[
        bool, typer.Option("--print", help="Only print the address; open nothing.")
    ] = False,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Open the case's page on Seller Central in your default browser."""
    url = case_page(home(), settings(config), case_id, account)
    if json_out:
        print_json({"case_id": case_id, "url": url})
    elif print_only:
        out.print(url)
    if print_only or json_out:
        return
    if not webbrowser.open(url):
        out.print(f"no browser could be started; open this address yourself: {url}")
    else:
        out.print(f"opened {url}")


@app.command("draft")
@handle_errors
def draft_cmd(
    case_id: Annotated[str, typer.Argument(help="The case ID.")],
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="follow-up, escalation or reply (default: what the case's flags call for).",
        ),
    ] = None,
    account: AccountOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write a follow-up, escalation or reply from the case's own facts."""
    if kind not in (None, "follow-up", "escalation", "reply"):
        raise ConfigError(f"--kind must be follow-up, escalation or reply, not {kind!r}")
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
    """Silence a case's current flags for a while (`caselog unsnooze` undoes it)."""
    now = utcnow()
    until = now + parse_duration(duration)
    config_ = settings(config)
    flags = decide(home(), config_, case_id, FlagState.SNOOZED, now, until=until, account=account)
    if json_out:
        print_json(
            {
                "case_id": case_id,
                "snoozed_until": until.isoformat(),
                "flags": [f.flag_id for f in flags],
            }
        )
    else:
        zone = account_zone(config_, flags[0].account)
        out.print(f"case {case_id}: {len(flags)} flag(s) snoozed until {local_time(until, zone)}")


@app.command()
@handle_errors
def done(
    case_id: Annotated[str, typer.Argument(help="The case ID.")],
    account: AccountOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Mark a case's current flags done (after an escalation, the next follow-up waits)."""
    flags = decide(home(), settings(config), case_id, FlagState.DONE, utcnow(), account=account)
    if json_out:
        print_json({"case_id": case_id, "done": [f.flag_id for f in flags]})
    else:
        out.print(f"case {case_id}: {len(flags)} flag(s) marked done")


@app.command()
@handle_errors
def snoozes(
    account: AccountOpt = None,
    ended: Annotated[bool, typer.Option(help="Also list snoozes that have run out.")] = False,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Your snoozes and done marks, newest first (`caselog unsnooze ID` undoes one)."""
    found = decisions(home(), settings(config), account, utcnow(), ended=ended)
    if json_out:
        print_json([d.as_json() for d in found])
        return
    if found:
        table = Table("Case", "Subject", "Flag", "State", "Until", "Decided")
        for d in found:
            state = d.state.value if d.in_force else f"{d.state.value} (ended)"
            table.add_row(d.case_id, d.subject, d.label, state, d.until_local, d.decided_local)
        out.print(table)
    out.print(f"{len(found)} snooze(s) and done mark(s)")


@app.command("unsnooze")
@handle_errors
def unsnooze_cmd(
    case_id: Annotated[str, typer.Argument(help="The case ID.")],
    account: AccountOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Undo the snoozes and done marks on a case's current flags."""
    ids = unsnooze(home(), settings(config), case_id, utcnow(), account)
    if json_out:
        print_json({"case_id": case_id, "flags": ids})
    else:
        out.print(f"case {case_id}: {len(ids)} flag(s) active again")
