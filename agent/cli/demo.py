"""``caselog demo``: the whole mission against the bundled mock Seller Central."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from agent.app.demo import run_demo
from agent.cli.common import JsonOpt, commands, err, handle_errors, home, out, print_json
from agent.core.present import event_sentence

app = commands()


@app.command()
@handle_errors
def demo(
    days: Annotated[int, typer.Option(help="Days the mock's clock runs after the first sync.")] = 3,
    json_out: JsonOpt = False,
) -> None:
    """Run the whole mission against the bundled mock Seller Central (no account needed)."""
    report = run_demo(
        home(), days=days, say=(lambda s: None) if json_out else (lambda s: err.print(s))
    )
    if json_out:
        print_json(
            {
                "home": str(report.home),
                "seconds": round(report.seconds, 1),
                "syncs": [s.summary() for s in report.syncs],
                "changes": [e.model_dump(mode="json") for e in report.events],
                "due": [i.as_json() for i in report.due],
                "draft": report.draft.model_dump(mode="json") if report.draft else None,
                "calendar": str(report.calendar) if report.calendar else None,
                "archive": str(report.archive) if report.archive else None,
            }
        )
        return
    out.rule("What changed while the clock ran")
    table = Table("Case", "What")
    for e in report.events:
        table.add_row(e.case_id, event_sentence(e))
    out.print(table)
    out.rule(f"What is due now ({len(report.due)}), most urgent first")
    table = Table("Account", "Case", "Subject", "What to do", "Why", "By when")
    for i in report.due:
        table.add_row(i.account, i.case_id, i.subject, i.label, i.why, i.by_when)
    out.print(table)
    if report.draft:
        out.rule(f"Draft ({report.draft.kind.value}) for case {report.draft.case_id}")
        out.print(f"Subject: {report.draft.subject}\n", markup=False)
        out.print(report.draft.body, markup=False)
    out.rule("Written")
    out.print(f"demo home:  {report.home}")
    if report.calendar:
        out.print(f"calendar:   {report.calendar}")
    if report.archive:
        out.print(f"archive:    {report.archive}")
    out.print(f"done in {report.seconds:.1f} s")
