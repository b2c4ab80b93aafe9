"""``caselog status``: whether monitoring is healthy, with an exit code for cron and monitors."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.text import Text

from agent.app.status import AccountStatus, StatusReport, status_report
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

app = commands()


def _ago(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = max(seconds, 0)
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.1f} days ago"


def _when(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "never"
    return f"{at:%Y-%m-%d %H:%M} UTC ({_ago((now - at).total_seconds())})"


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} kB"


def _account_lines(s: AccountStatus, now: datetime) -> list[tuple[str, str]]:
    lines = [("last complete sync", _when(s.last_complete_sync_at, now))]
    if s.incomplete_streak:
        lines.append(
            (
                "incomplete since",
                f"{s.incomplete_streak} sync(s) in a row, the last {_when(s.last_sync_at, now)}: "
                f"{s.incomplete_reason} ({s.incomplete_detail})",
            )
        )
    if s.session is not None:
        if not s.session.saved:
            said = "none saved"
        else:
            said = f"saved {_ago(s.session.age_seconds)}, {s.session.cookies} cookie(s)"
            first, last = s.session.first_cookie_expiry, s.session.last_cookie_expiry
            if first is not None and last is not None:
                said += f" expiring {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC"
        if s.session.checked:
            said += f"; {s.session.checked}"
        lines.append(("session", said))
    if s.watch is not None:
        w = s.watch
        state = {True: "running", False: "not running", None: "unknown"}[w.running]
        if w.running is None and w.host:
            state = f"ran on {w.host}"
        said = state + (f" (pid {w.pid})" if w.running else "")
        if w.running is False and w.stopped_at is not None:
            said += f", stopped {_when(w.stopped_at, now)}"
        if w.next_run_at is not None:
            said += f"; next run {w.next_run_at:%Y-%m-%d %H:%M:%S} UTC"
        if w.last_round:
            said += (
                f"; last round {w.last_round.get('result')} at {w.last_round.get('at', '')[:19]}"
                f" in {w.last_round.get('seconds')} s"
            )
        lines.append(("watch", said))
    elif not s.archived:
        lines.append(("watch", "has not run for this account"))
    if s.store_file:
        lines.append(("store", f"{s.cases} case(s), {_size(s.store_bytes)}"))
    lines.append(("failed pages kept", str(s.failed_pages)))
    return lines


def _render(report: StatusReport) -> None:
    now = report.now
    out.print(f"caselog status at {now:%Y-%m-%d %H:%M} UTC; home {report.home}")
    for s in report.accounts:
        if s.archived:
            tag = Text("ARCHIVED", style="dim")
        elif s.stale:
            tag = Text("STALE", style="bold red")
        elif s.session is not None and s.session.needs_person:
            tag = Text("SIGN IN", style="bold red")
        else:
            tag = Text("OK", style="green")
        out.print()
        out.print(Text(s.account, style="bold"), tag)
        if s.archived:
            out.print("  not in caselog.toml: shown by every read command, never synced")
        for key, value in _account_lines(s, now):
            out.print(f"  {key:<20} {value}")
    if report.notify:
        out.print()
        out.print(Text("notifications", style="bold"))
        for t in report.notify:
            said = {True: "works", False: "FAILING", None: "nothing sent yet"}[t.works]
            out.print(
                f"  {t.target}: {said}; last accepted {_when(t.last_success_at, now)}"
                + (f"; last refused {_when(t.last_failure_at, now)}" if t.last_failure_at else "")
            )
    out.print()
    out.print(f"log: {report.log_file}")
    for problem in report.problems:
        out.print(Text("problem:", style="bold red"), problem)


@app.command()
@handle_errors
def status(
    account: AccountOpt = None,
    check_session: Annotated[
        bool,
        typer.Option(
            "--check-session",
            help="Open each account's Case Log with its saved session (a browser, no sign-in) "
            "and say whether the site still takes it.",
        ),
    ] = False,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Is monitoring healthy? Last complete sync, incomplete streak, session, next run,
    notifications, store; exit 6 when an account is stale, 3 when a person must sign in."""
    report = status_report(home(), settings(config), account=account, check_session=check_session)
    if json_out:
        print_json(report.model_dump(mode="json"))
    else:
        _render(report)
    if report.exit_code:
        raise typer.Exit(report.exit_code)
