"""Commands that act on a case: reply, reopen, cc; and the outbox they write.

Each shows exactly what would be sent, to which case, on which account and marketplace, and
sends only with ``--send`` (or a yes at the prompt when the terminal is interactive).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table
from rich.text import Text

from agent.app.act import (
    Plan,
    SendReport,
    outbox_entries,
    plan_cc,
    plan_reopen,
    plan_reply,
    precheck,
    send,
    settle_pending,
)
from agent.app.queries import account_zone
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
from agent.config import Settings
from agent.core.contact import ActionKind, OutboxEntry, Verdict
from agent.core.labels import marketplace_name, status_label
from agent.core.models import utcnow
from agent.core.times import local_time
from agent.errors import ContactRefused

app = commands()

CaseArg = Annotated[str, typer.Argument(help="The case ID.")]
SendOpt = Annotated[
    bool, typer.Option("--send", help="Send it (without: show what would be sent, send nothing).")
]
ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Send even if the same text was sent before or the quiet period is not over "
        "(recorded in the outbox); the other rules still hold.",
    ),
]

WHAT = {
    ActionKind.REPLY: "Reply to",
    ActionKind.REOPEN: "Reopen",
    ActionKind.CC: "Change the Cc list of",
}


def _show(plan: Plan) -> None:
    case = plan.case
    head = Text(f"{WHAT[plan.kind]} case {case.case_id}", style="bold")
    head.append(f"  {case.subject}")
    out.print(head)
    out.print(
        f"  account {plan.account.name}, marketplace {marketplace_name(case.marketplace)} "
        f"({case.marketplace or 'default'}), status {status_label(case.status.value)} "
        "(as last synced)"
    )
    if plan.url:
        out.print(f"  {plan.url}")
    if plan.kind is ActionKind.CC:
        before = ", ".join(plan.basis.cc) or "(none)"
        after = ", ".join(plan.cc or ()) or "(none)"
        out.print(f"  {plan.cc_op} {plan.address}")
        out.print(f"  Cc now:   {before}")
        out.print(f"  Cc after: {after}")
    if plan.kind is ActionKind.REPLY:
        out.print(f"  Cc (kept as the case has it): {', '.join(plan.cc or ()) or '(none)'}")
        for a in plan.attachments:
            out.print(f"  Attachment: {a.name} ({a.size:,} bytes)")
        source = f"the {plan.draft_kind} draft" if plan.draft_kind else "your text"
        out.print(Text(f"--- the message ({source}) ---", style="dim"))
        out.print(plan.body.rstrip("\n"))
        out.print(Text("--- end of the message ---", style="dim"))
    if plan.then_reply is not None:
        out.print("  then send this message:")
        out.print(Text("--- the message ---", style="dim"))
        out.print(plan.then_reply.body.rstrip("\n"))
        out.print(Text("--- end of the message ---", style="dim"))


def _entry_json(entry: OutboxEntry) -> dict[str, Any]:
    return entry.model_dump(mode="json")


def _said(entry: OutboxEntry, zone: ZoneInfo) -> str:
    when = local_time(entry.sent_at, zone) if entry.sent_at else ""
    if entry.kind is ActionKind.REPLY:
        return f"message {entry.message_id} on the case at {when}"
    if entry.kind is ActionKind.REOPEN:
        return f"case reopened at {when}"
    return f"Cc list now {', '.join(entry.cc or ()) or '(none)'}"


def _act(plan: Plan, config: Settings, *, send_now: bool, force: bool, json_out: bool) -> None:
    now = utcnow()
    verdict: Verdict = precheck(home(), config, plan, now, force)
    if plan.unchanged and not send_now:
        if json_out:
            print_json({"preview": plan.as_json(), "sent": False, "unchanged": True})
        else:
            out.print(
                f"case {plan.case_id}: its Cc list already says so (as last seen); nothing to "
                "send (--send asks the site)"
            )
        return
    if not json_out:
        _show(plan)
    wanted = send_now
    if not send_now and verdict.refusal is None and not json_out and sys.stdin.isatty():
        wanted = typer.confirm("Send it now?", default=False)
    if not wanted:
        if json_out:
            print_json(
                {
                    "preview": plan.as_json(),
                    "sent": False,
                    "refused": verdict.refusal.sentence if verdict.refusal else None,
                    "rule": verdict.refusal.rule.value if verdict.refusal else None,
                }
            )
        if verdict.refusal is not None:
            raise ContactRefused(verdict.refusal.rule.value, verdict.refusal.sentence)
        if not json_out:
            out.print("Nothing was sent; add --send to send it (the case is read again first).")
        return
    report = send(home(), config, plan, force=force)
    _report(plan, report, config, json_out)


def _report(plan: Plan, report: SendReport, config: Settings, json_out: bool) -> None:
    if json_out:
        print_json(
            {
                "preview": plan.as_json(),
                "sent": bool(report.entries),
                "unchanged": report.unchanged,
                "entries": [_entry_json(e) for e in report.entries],
                "settled": [_entry_json(e) for e in report.settled],
            }
        )
        return
    zone = ZoneInfo(plan.account.timezone)
    for e in report.settled:
        err.print(f"settled an earlier entry first: {e.entry_id} is {e.state.value}")
    if report.unchanged:
        out.print(f"case {plan.case_id}: the site's Cc list already says so; nothing sent")
    for e in report.entries:
        forced = f" (forced past: {', '.join(r.value for r in e.forced)})" if e.forced else ""
        out.print(f"Sent: {_said(e, zone)}; outbox entry {e.entry_id}{forced}")


@app.command()
@handle_errors
def reply(
    case_id: CaseArg,
    draft: Annotated[
        str | None,
        typer.Option("--draft", help="follow-up or escalation: the draft `caselog draft` writes."),
    ] = None,
    text: Annotated[str | None, typer.Option("--text", help="The message.")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="A UTF-8 text file holding the message.")
    ] = None,
    attach: Annotated[
        list[Path] | None, typer.Option("--attach", help="A file to attach (repeat for more).")
    ] = None,
    send_now: SendOpt = False,
    force: ForceOpt = False,
    account: AccountOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Send a message to a case through its reply form (only with --send)."""
    config_ = settings(config)
    plan = plan_reply(
        home(),
        config_,
        case_id,
        account=account,
        text=text,
        file=file,
        draft_kind=draft,
        attach=attach,
        now=utcnow(),
    )
    _act(plan, config_, send_now=send_now, force=force, json_out=json_out)


@app.command()
@handle_errors
def reopen(
    case_id: CaseArg,
    text: Annotated[
        str | None, typer.Option("--text", help="A message to send once it is reopened.")
    ] = None,
    send_now: SendOpt = False,
    force: ForceOpt = False,
    account: AccountOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Reopen an answered case (within its reopen window), optionally with a message."""
    config_ = settings(config)
    plan = plan_reopen(home(), config_, case_id, account=account, text=text)
    _act(plan, config_, send_now=send_now, force=force, json_out=json_out)


@app.command()
@handle_errors
def cc(
    case_id: CaseArg,
    op: Annotated[str, typer.Argument(help="add or remove.")],
    address: Annotated[str, typer.Argument(help="The e-mail address.")],
    send_now: SendOpt = False,
    account: AccountOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Add an address to a case's Cc list, or remove one, through its Cc editor."""
    config_ = settings(config)
    plan = plan_cc(home(), config_, case_id, op, address, account=account)
    _act(plan, config_, send_now=send_now, force=False, json_out=json_out)


@app.command()
@handle_errors
def outbox(
    account: AccountOpt = None,
    state: Annotated[
        str | None, typer.Option(help="Only entries in this state: pending, sent, failed, refused.")
    ] = None,
    settle: Annotated[
        bool,
        typer.Option(help="First settle pending entries by reading their cases (opens a browser)."),
    ] = False,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """What caselog sent, is sending, failed to send or refused to send, newest first."""
    config_ = settings(config)
    if settle:
        settle_pending(home(), config_, account)
    entries = outbox_entries(home(), config_, account, state)
    if json_out:
        print_json([_entry_json(e) for e in entries])
        return
    if entries:
        table = Table("Created", "Account", "Case", "What", "State", "Details")
        for e in entries:
            zone = account_zone(config_, e.account)
            what = e.kind.value + (" (autopilot)" if e.origin.value == "autopilot" else "")
            details = _said(e, zone) if e.state.value == "sent" else e.detail or "not settled yet"
            if e.forced:
                details += f"; forced past {', '.join(r.value for r in e.forced)}"
            table.add_row(
                local_time(e.created_at, zone), e.account, e.case_id, what, e.state.value, details
            )
        out.print(table)
    counts = {s: sum(e.state.value == s for e in entries) for s in ("pending", "sent", "failed")}
    refused = sum(e.state.value == "refused" for e in entries)
    out.print(
        f"{len(entries)} entries: {counts['sent']} sent, {counts['pending']} pending, "
        f"{counts['failed']} failed, {refused} refused"
    )
