"""``caselog init``: the first ``caselog.toml``, asked for or given as flags."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from agent.app.init import InitAnswers, init_home, refuse_existing
from agent.cli.common import JsonOpt, commands, err, handle_errors, home, out, print_json
from agent.errors import ConfigError
from agent.site.credentials import KEYRING_SERVICE
from agent.site.marketplaces import MARKETPLACES, SITES

app = commands()


def _marketplace_table() -> Table:
    table = Table("Code", "Marketplace ID", "Country", "Seller Central", "Selector map", "Zone")
    for m in MARKETPLACES:
        table.add_row(m.code, m.id, m.country, SITES[m.region], m.selector_map, m.timezone)
    return table


def _ask(value: str | None, question: str, flag: str, default: str | None = None) -> str:
    if value:
        return value
    if not sys.stdin.isatty():
        raise ConfigError(f"{flag} is missing and there is no terminal to ask; give {flag}")
    answer: str = typer.prompt(question, default=default)
    return answer.strip()


def _ask_secret(question: str, flag: str, what: str, optional: bool) -> str | None:
    if not sys.stdin.isatty():
        if optional:
            return None
        raise ConfigError(f"{what} is missing and there is no terminal to ask; give {flag}")
    answer: str = typer.prompt(
        question, hide_input=True, default="" if optional else None, show_default=False
    )
    return answer.strip() or None


def _read_stdin(password: bool, totp: bool) -> tuple[str | None, str | None]:
    """``--password-stdin`` / ``--totp-secret-stdin``: one line each, password first."""
    wanted = int(password) + int(totp)
    lines = [line.rstrip("\r\n") for line in sys.stdin.read().splitlines()][:wanted]
    if len(lines) < wanted or not all(lines):
        said = " and ".join(
            w for w, on in (("the password", password), ("the TOTP secret", totp)) if on
        )
        raise ConfigError(
            f"standard input should hold {said}, one line each; got {len(lines)} line(s)"
        )
    got = iter(lines)
    return (next(got) if password else None), (next(got) if totp else None)


@app.command()
@handle_errors
def init(
    account: Annotated[
        str | None, typer.Option("--account", "-a", help="A name for the account.")
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(help=f"Seller Central region ({', '.join(SITES)}); its first marketplace."),
    ] = None,
    marketplace: Annotated[
        list[str] | None,
        typer.Option(
            "--marketplace", "-m", help="A marketplace code (US, UK, DE...) or ID; repeat."
        ),
    ] = None,
    email: Annotated[str | None, typer.Option(help="The e-mail you sign in with.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    totp_secret_stdin: Annotated[
        bool,
        typer.Option(
            "--totp-secret-stdin",
            help="Read the authenticator key from standard input (after the password).",
        ),
    ] = False,
    no_verify: Annotated[
        bool, typer.Option("--no-verify", help="Write the file without signing in first.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing caselog.toml (kept as .bak).")
    ] = False,
    base_url: Annotated[
        str | None,
        typer.Option(help="Another Seller Central address than the region's (e.g. the mock)."),
    ] = None,
    merchant_id: Annotated[str | None, typer.Option(help="The merchant (seller) ID.")] = None,
    timezone: Annotated[
        str | None, typer.Option(help="IANA time zone (default: the marketplace's).")
    ] = None,
    keyring_service: Annotated[
        str, typer.Option(help="The keyring service the secrets are stored under.")
    ] = KEYRING_SERVICE,
    list_marketplaces: Annotated[
        bool, typer.Option("--list-marketplaces", help="Show the marketplaces and stop.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Write a first caselog.toml: the account, its marketplaces, and its password and TOTP
    secret in the system keyring (checked by signing in)."""
    if list_marketplaces:
        out.print(_marketplace_table())
        return
    where = home()
    refuse_existing(where, force=force)  # before asking anything
    password, totp = (
        _read_stdin(password_stdin, totp_secret_stdin)
        if (password_stdin or totp_secret_stdin)
        else (None, None)
    )
    name = _ask(account, "Account name (names its files in the home)", "--account", "main")
    if not marketplace and not region:
        if sys.stdin.isatty():
            err.print(_marketplace_table())
        raw = _ask(None, "Marketplaces (codes, e.g. US CA MX)", "--marketplace", "US")
        marketplace = raw.replace(",", " ").split()
    mail = _ask(email, "E-mail you sign in with", "--email")
    if not password_stdin:
        password = _ask_secret(
            "Password (hidden)", "--password-stdin", "the password", optional=no_verify
        )
    if not totp_secret_stdin:
        totp = _ask_secret(
            "Authenticator key (TOTP secret, hidden; empty if you use SMS codes)",
            "--totp-secret-stdin",
            "the TOTP secret",
            optional=True,
        )
    answers = InitAnswers(
        account=name,
        marketplaces=marketplace or [],
        region=region,
        email=mail,
        password=password,
        totp_secret=totp,
        base_url=base_url,
        merchant_id=merchant_id,
        timezone=timezone,
        keyring_service=keyring_service,
    )
    result = init_home(where, answers, verify=not no_verify, force=force)
    if json_out:
        print_json(
            {
                "config_file": str(result.config_file),
                "account": result.account,
                "secrets_in": result.secrets_in,
                "keyring_service": result.keyring_service,
                "keyring_users": result.keyring_users,
                "env_vars": result.env_vars,
                "verified": result.verified,
                "state_file": str(result.state_file) if result.state_file else None,
                "backup": str(result.backup) if result.backup else None,
                "notes": result.notes,
            }
        )
        return
    out.print(
        f"wrote {result.config_file}"
        + (f" (the old one is {result.backup})" if result.backup else "")
    )
    if result.verified:
        out.print(
            f"signed in to {result.account}; session saved to {result.state_file} (mode 0600)"
        )
    if result.keyring_users:
        out.print(
            f"secrets stored in the keyring: service {result.keyring_service}, user(s) "
            + ", ".join(result.keyring_users)
        )
    for note in result.notes:
        err.print(note)
    out.print(
        f"next: `caselog sync --account {result.account}`, then `caselog watch` or "
        "`caselog service install`"
    )
