"""``caselog maps list | show | check | learn | accept``: selector maps as data, and new ones
learned from the live Case Log when Amazon redesigns it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import tomli_w
import typer
from rich.table import Table

from agent.app.maps import accept, check_map, learn, list_maps, maps_in_use
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
from agent.errors import NotFound
from agent.site.selectormap import load_map, map_data
from agent.site.session import BrowserSession

app = commands()

maps_app = typer.Typer(
    name="maps",
    help="Selector maps: list, show and check them; learn a new one after a redesign.",
    no_args_is_help=True,
)
app.add_typer(maps_app)

MarketOpt = Annotated[
    str | None, typer.Option("--marketplace", "-m", help="Marketplace ID (default: every one).")
]


@maps_app.command("list")
@handle_errors
def list_cmd(json_out: JsonOpt = False) -> None:
    """The bundled maps and the learned ones (accepted, or waiting to be)."""
    maps = list_maps(home())
    if json_out:
        print_json(maps)
        return
    table = Table("Map", "Source", "Where")
    for m in maps:
        table.add_row(m["name"], m["source"], m.get("path", m.get("ui", "")))
    out.print(table)


@maps_app.command("show")
@handle_errors
def show_cmd(
    name: Annotated[str, typer.Argument(help="A bundled map's name, or a map file.")],
    json_out: JsonOpt = False,
) -> None:
    """A map with everything it inherits (``extends``) resolved, as TOML."""
    smap = load_map(name)
    data = smap.model_dump(exclude_none=True, mode="json")
    if json_out:
        print_json(data)
        return
    out.print(tomli_w.dumps(data), end="")


@maps_app.command("check")
@handle_errors
def check_cmd(
    path: Annotated[Path, typer.Argument(help="A map file (.toml).")],
    pages: Annotated[
        Path | None, typer.Option(help="A folder of saved pages the map must still read.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Check a map file: TOML, keys, CSS selectors, patterns; and saved pages it must read."""
    if not path.is_file():
        raise NotFound(f"{path} is not a file; give the path of a map (.toml)")
    map_data(path.read_text(encoding="utf-8"), str(path), path.parent)
    problems = check_map(path, pages)
    if json_out:
        print_json({"path": str(path), "ok": not problems, "problems": problems})
    elif problems:
        for problem in problems:
            err.print(problem)
    else:
        out.print(
            f"{path}: the map is valid" + (f" and reads every page in {pages}" if pages else "")
        )
    if problems:
        raise typer.Exit(4)


@maps_app.command("learn")
@handle_errors
def learn_cmd(
    account: AccountOpt = None,
    marketplace: MarketOpt = None,
    base: Annotated[
        str | None, typer.Option(help="The map to start from (default: the one in use).")
    ] = None,
    partial: Annotated[
        bool, typer.Option(help="Write the map even if it reproduces fewer than all records.")
    ] = False,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Learn a map from the account's live Case Log and the cases stored for it."""
    where, config_ = home(), settings(config)
    acc = config_.account(account)
    markets = [
        mp
        for mp, _ in maps_in_use(where, acc)
        if marketplace is None or (mp and mp.id == marketplace)
    ]
    if not markets:
        raise NotFound(f"account {acc.name} has no marketplace {marketplace!r} in caselog.toml")
    results = []
    with BrowserSession() as session:
        for mp in markets:
            candidate = learn(
                where,
                session,
                acc,
                mp,
                base=load_map(base) if base else None,
                partial=partial,
            )
            results.append(candidate)
    if json_out:
        print_json(
            [{"path": str(c.path), "written": c.path.is_file(), **c.report} for c in results]
        )
    for c in results:
        if json_out:
            continue
        report = c.report
        table = Table(
            "Field",
            "Known records reproduced",
            title=f"marketplace {report.get('marketplace') or '-'}",
        )
        for name, (ok, of) in report.get("fields", {}).items():
            table.add_row(name, f"{ok}/{of}")
        out.print(table)
        for problem in report.get("problems", []):
            err.print(problem)
        if c.path.is_file():
            out.print(f"candidate map written to {c.path} ({report.get('seconds', '?')} s)")
            out.print(f"switch to it with: caselog maps accept {acc.name}")
        else:
            out.print("no map written: it does not reproduce every known record (see above)")
    if not all(c.complete for c in results):
        raise typer.Exit(4)


@maps_app.command("accept")
@handle_errors
def accept_cmd(
    account: Annotated[str, typer.Argument(help="The account whose learned map to use.")],
    marketplace: MarketOpt = None,
    partial: Annotated[bool, typer.Option(help="Accept a partial map.")] = False,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Check the newest learned map of the account, then read its marketplace with it."""
    acc = settings(config).account(account)
    candidate, target = accept(home(), acc, marketplace, partial=partial)
    if json_out:
        print_json({"candidate": str(candidate.path), "in_use": str(target)})
        return
    market = candidate.report.get("marketplace") or "every marketplace"
    out.print(f"{acc.name}: {market} is now read with {target}")
