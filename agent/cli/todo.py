"""Commands about what to do: changes, due, draft, snooze, done, watch."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table

from agent.app.notify import Notice, Notifier, describe_event
from agent.app.todo import (
    changes as list_changes,
)
from agent.app.todo import (
    decide,
    draft,
    parse_duration,
    run_round,
    write_calendar,
)
from agent.app.todo import (
    due as list_due,
)
from agent.app.watch import Watch
from agent.cli import AccountOpt, ConfigOpt, JsonOpt, app, err, handle_errors, out, print_json
from agent.config import Account, load_settings
from agent.core.models import FlagState, utcnow
from agent.errors import ConfigError
from agent.site.session import BrowserSession


@app.command()
@handle_errors
def changes(
    since: Annotated[str, typer.Option(help="How far back: 7d, 36h, 90m, 2w.")] = "7d",
    account: AccountOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """What changed in your cases (status, messages, subjects, vanished cases)."""
    settings = load_settings(config)
    events = list_changes(settings, account, utcnow() - parse_duration(since))
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
    settings = load_settings(config)
    now = utcnow()
    results = list_due(settings, account, now)
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
    d = draft(load_settings(config), case_id, kind, utcnow(), account)
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
        load_settings(config), case_id, FlagState.SNOOZED, now, until=until, account=account
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
    flags = decide(load_settings(config), case_id, FlagState.DONE, utcnow(), account=account)
    if json_out:
        print_json({"case_id": case_id, "done": [f.flag_id for f in flags]})
    else:
        out.print(f"case {case_id}: {len(flags)} flag(s) marked done")


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
    settings = load_settings(config)
    accounts = settings.selected(account)
    if not accounts:
        settings.account(None)
    notifier = Notifier(settings.notify.urls)

    def one_round(acc: Account) -> object:
        with BrowserSession() as session:
            outcome = run_round(session, acc, settings, notifier)
        summary = outcome.sync.summary()
        if not summary["complete"]:
            raise RuntimeError(f"sync incomplete ({summary['reason']}: {summary['detail']})")
        err.print(
            f"{datetime.now():%H:%M:%S} {acc.name}: {summary['cases_seen']} cases, "
            f"{len(outcome.due)} due, {summary['events']} change(s)"
        )
        return outcome

    def digest() -> Notice | None:
        now = utcnow()
        items = [f for r in list_due(settings, None, now) for f in r.due]
        write_calendar(settings, now)
        if not items:
            return None
        body = "\n".join(f"- case {f.case_id}: {f.reason}" for f in items)
        return Notice(f"caselog daily digest: {len(items)} item(s) need action", body)

    w = Watch(settings, accounts, one_round, notifier, digest=digest)
    w.install_signal_handlers()
    interval = timedelta(minutes=settings.watch.interval_minutes)
    err.print(f"watching {', '.join(a.name for a in accounts)} every {interval}; Ctrl-C stops")
    w.run(max_rounds=rounds)
    err.print("stopped")


@app.command()
@handle_errors
def demo(
    days: Annotated[int, typer.Option(help="Days the mock's clock runs after the first sync.")] = 3,
    json_out: JsonOpt = False,
) -> None:
    """Run the whole mission against the bundled mock Seller Central (no account needed)."""
    from agent.app.demo import run_demo
    from agent.app.notify import describe_event

    report = run_demo(days=days, say=(lambda s: None) if json_out else (lambda s: err.print(s)))
    if json_out:
        print_json(
            {
                "home": str(report.home),
                "seconds": round(report.seconds, 1),
                "syncs": [s.summary() for s in report.syncs],
                "changes": [e.model_dump(mode="json") for e in report.events],
                "due": [f.model_dump(mode="json") for f in report.due],
                "draft": report.draft.model_dump(mode="json") if report.draft else None,
                "calendar": str(report.calendar) if report.calendar else None,
                "archive": str(report.archive) if report.archive else None,
            }
        )
        return
    out.rule("What changed while the clock ran")
    table = Table("Case", "What")
    for e in report.events:
        table.add_row(e.case_id, describe_event(e, ""))
    out.print(table)
    out.rule(f"What is due now ({len(report.due)}), most urgent first")
    table = Table("Case", "Action", "Why")
    for f in report.due:
        table.add_row(f.case_id, f.kind.value, f.reason)
    out.print(table)
    if report.draft:
        out.rule(f"Escalation draft for case {report.draft.case_id}")
        out.print(f"Subject: {report.draft.subject}\n", markup=False)
        out.print(report.draft.body, markup=False)
    out.rule("Written")
    out.print(f"demo home:  {report.home}")
    if report.calendar:
        out.print(f"calendar:   {report.calendar}")
    if report.archive:
        out.print(f"archive:    {report.archive}")
    out.print(f"done in {report.seconds:.1f} s")
