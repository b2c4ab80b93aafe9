"""Setting up: install (a Chromium), config (what is in force), mock-site (the bundled mock)."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from agent.app.fleet.redis_server import install_redis_server
from agent.app.maps import maps_in_use
from agent.cli.common import (
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
from agent.site.browser import install_browser

app = commands()


@app.command()
@handle_errors
def install(
    no_apt: Annotated[
        bool, typer.Option("--no-apt", help="Never run apt-get, even as root.")
    ] = False,
    redis: Annotated[
        bool,
        typer.Option(
            "--redis", help="Also a redis-server (a fleet on this machine, the test suite)."
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Make sure a Chromium is available (Playwright's own, or a system one); with --redis,
    a redis-server too."""
    choice = install_browser(log=lambda m: err.print(m), allow_apt=not no_apt)
    redis_server = install_redis_server(lambda m: err.print(m), not no_apt) if redis else None
    if json_out:
        found = {"source": choice.source, "executable": choice.executable}
        print_json(found if redis_server is None else {**found, "redis_server": redis_server})
        return
    out.print(f"browser ready: {choice.description}")
    if redis_server is not None:
        out.print(f"redis-server ready: {redis_server}")


@app.command("config")
@handle_errors
def show_config(config: ConfigOpt = None, json_out: JsonOpt = False) -> None:
    """Validate caselog.toml and every selector map it uses; show the settings in force."""
    config_ = settings(config)
    where = home()
    path = config or where.config_file
    maps = {acc.name: maps_in_use(where, acc) for acc in config_.accounts}  # validates each map
    if json_out:
        in_use = {
            name: {(mp.id if mp else ""): smap.name for mp, smap in pairs}
            for name, pairs in maps.items()
        }
        print_json(
            {"path": str(path), "home": str(where.root), **config_.model_dump(), "maps": in_use}
        )
        return
    out.print(f"home:   {where.root}")
    out.print(f"config: {path}{'' if path.exists() else ' (absent: defaults in force)'}")
    if not config_.accounts:
        out.print("accounts: none configured")
    for acc in config_.accounts:
        out.print(f"account {acc.name}: {acc.base_url} ({acc.timezone})")
        for mp, smap in maps[acc.name]:
            where_ = f"marketplace {mp.id}" if mp else "all marketplaces"
            out.print(f"  {where_}: map {smap.name} ({smap.ui} UI, {smap.locale})")


@app.command("mock-site")
@handle_errors
def mock_site(
    scenario: Annotated[str, typer.Option(help="Scenario: demo, large, hostile.")] = "demo",
    port: Annotated[int, typer.Option(help="Port to listen on (0 = any free port).")] = 8765,
    host: Annotated[str, typer.Option(help="Address to bind (loopback only).")] = "127.0.0.1",
) -> None:
    """Run the bundled mock Seller Central for a person to open in a browser."""
    from caselog_mock import MockServer

    server = MockServer(scenario=scenario, port=port, host=host)
    server.start()
    login = server.login
    out.print(f"mock Seller Central ({scenario}) at {server.url}")
    out.print(f"  email:       {login['email']}")
    out.print(f"  password:    {login['password']}")
    out.print(f"  TOTP secret: {login['totp_secret']} (current code {server.current_totp()})")
    out.print(f"  admin token: {server.admin_token}")
    out.print("Press Ctrl-C to stop.")
    try:
        while True:
            time.sleep(3600)
    finally:
        server.stop()
