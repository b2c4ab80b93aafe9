"""Commands for the seller's own archive: export and import."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent.app.archive import export_archive, import_archive
from agent.app.queries import parse_status, since_moment
from agent.cli.common import (
    ConfigOpt,
    JsonOpt,
    commands,
    handle_errors,
    home,
    out,
    print_json,
    settings,
)
from agent.core.models import utcnow
from agent.errors import ConfigError

app = commands()


@app.command("export")
@handle_errors
def export_cmd(
    account: Annotated[str | None, typer.Option("--account", "-a", help="One account.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every account (the default).")] = False,
    fmt: Annotated[
        list[str] | None,
        typer.Option("--format", "-f", help="json, csv, md or html; repeat for several."),
    ] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder to write into.")] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Only cases with activity since then: a duration (7d, 36h, 2w) or a date "
            "(2026-09-01, in the account's time zone)."
        ),
    ] = None,
    status: Annotated[list[str] | None, typer.Option(help="Only cases with this status.")] = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write your full archive: JSON, CSV (Excel-safe), Markdown and a browsable HTML report."""
    if account and all_:
        raise ConfigError("give either --account or --all, not both")
    formats = set(fmt or ["json", "csv", "md", "html"])
    where = home()
    config_ = settings(config)
    folder = out_dir or where.archive_dir
    result = export_archive(
        where,
        config_,
        folder,
        formats,
        account=account,
        since=since_moment(config_, account, since, utcnow()) if since else None,
        statuses={parse_status(s) for s in status} if status else None,
    )
    if json_out:
        print_json(result.model_dump(mode="json"))
        return
    out.print(
        f"{result.cases} case(s) exported to {folder} ({', '.join(result.formats)}): "
        f"{len(result.written)} file(s) written, {result.unchanged} unchanged, "
        f"{result.seconds:.1f} s"
    )
    if "html" in result.formats:
        out.print(f"open {folder / 'html' / 'index.html'} in a browser")


@app.command("import")
@handle_errors
def import_cmd(
    path: Annotated[Path, typer.Argument(help="An archive.json written by caselog export.")],
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Restore an exported archive.json into an empty home, and say how to sync it."""
    done = import_archive(home(), settings(config), path)
    if json_out:
        print_json(
            [
                {
                    "account": d.account,
                    "cases": d.cases,
                    "messages": d.messages,
                    "events": d.events,
                    "configured": d.configured,
                    "archived": not d.configured,
                    "store_file": str(d.store_file),
                    "next_step": d.next_step(),
                }
                for d in done
            ]
        )
        return
    if not done:
        out.print(f"{path} holds no account; nothing was imported")
    for d in done:
        out.print(
            f"{d.account}: {d.cases} case(s), {d.messages} message(s) and {d.events} event(s) "
            f"imported into {d.store_file}"
        )
        out.print(f"  {d.next_step()}")
