"""Commands that read the store: cases, show, search."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.text import Text

from agent.app.queries import SORTS, list_cases, parse_status, search, show_case
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
from agent.cli.rows import Cell, Marked, print_rows
from agent.core.labels import marketplace_name, status_label
from agent.core.models import Case
from agent.core.times import local_time

app = commands()


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
LimitOpt = Annotated[
    int | None,
    typer.Option(
        help=f"At most this many (0: all; default {DEFAULT_LIMIT} in the table, all in JSON)."
    ),
]


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
    limit: LimitOpt = None,
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
    print_rows(
        [*(["Account"] if several else []), *columns, "Msgs"],
        [_case_row(c, found.zones.get(c.account, utc), several) for c in found.cases],
        flexible=3 if several else 2,
    )
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


@app.command("search")
@handle_errors
def search_cmd(
    text: Annotated[str, typer.Argument(help="Words to find in subjects and message bodies.")],
    account: AccountOpt = None,
    limit: LimitOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Search subjects AND message bodies (Amazon's own search only looks at subjects);
    one row per case, with the best snippet."""
    if limit is None and not json_out:
        limit = DEFAULT_LIMIT
    found = search(home(), settings(config), text, account, limit=limit)
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
                for h in found.cases
            ]
        )
        return
    several = len({h.case.account for h in found.cases}) > 1
    rows: list[list[Cell]] = []
    for h in found.cases:
        where = []
        if h.in_subject:
            where.append("subject")
        if h.messages:
            where.append(f"{h.messages} message{'s' if h.messages != 1 else ''}")
        best = next((x for x in h.hits if x.where != "subject"), h.hits[0])
        lo, hi = best.match or (0, 0)
        row: list[Cell] = [
            h.case.case_id,
            h.case.subject,
            ", ".join(where),
            Marked(best.snippet, lo, hi),
        ]
        rows.append([h.case.account, *row] if several else row)
    if rows:
        print_rows(
            [*(["Account"] if several else []), "Case ID", "Subject", "Found in", "Snippet"],
            rows,
            flexible=len(rows[0]) - 1,
        )
    shown = len(found.cases)
    counted = f"{found.total} case(s), {found.matches} match(es)"
    if shown < found.total:
        out.print(f"{counted}; the first {shown} shown, --limit 0 shows all")
    else:
        out.print(counted)
