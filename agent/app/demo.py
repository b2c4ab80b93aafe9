"""``caselog demo``: the whole mission against the bundled mock Seller Central.

Starts the mock with the demo scenario on loopback, signs in with e-mail, password and TOTP,
syncs both demo merchants (four marketplaces, both UI generations, three locales), lets the
mock's clock run a few days while its simulator plays Amazon's side, syncing after each day,
then reports what changed, what is due and why, one escalation draft, and where the archive
and the calendar were written. The demo keeps its own home (``<home>/demo``) so it never
mixes with a seller's real data. No account, no network.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from agent.app.sync import AccountSync, SyncResult
from agent.app.todo import account_flags, draft, write_calendar
from agent.config import Account, Marketplace, Settings
from agent.core.drafts import Draft
from agent.core.models import Event, Flag
from agent.core.rules import due_now
from agent.home import ENV_HOME, home_dir, write_private
from agent.site.session import BrowserSession
from agent.store import open_store

PASSWORD_ENV = "CASELOG_DEMO_PASSWORD"
TOTP_ENV = "CASELOG_DEMO_TOTP"

DEMO_MARKETPLACES = {
    "demo-outdoor": (
        "A2DEMOOUTDOOR",
        [("ATVPDKIKX0DER", "modern-en-US"), ("A1F83G8C2ARO7P", "classic-en-GB")],
    ),
    "demo-kitchen": (
        "A3DEMOKITCHEN",
        [("ATVPDKIKX0DER", "classic-en-US"), ("AAHKV2X7AFYLW", "modern-zh-CN")],
    ),
}


def demo_settings(base_url: str, email: str) -> Settings:
    accounts = [
        Account(
            name=name,
            base_url=base_url,
            merchant_id=merchant,
            email=email,
            password_env=PASSWORD_ENV,
            totp_env=TOTP_ENV,
            timezone="America/Los_Angeles",
            marketplaces=[Marketplace(id=mp, selector_map=smap) for mp, smap in mps],
        )
        for name, (merchant, mps) in DEMO_MARKETPLACES.items()
    ]
    return Settings(accounts=accounts)


def settings_toml(settings: Settings) -> str:
    lines = ["# Written by `caselog demo` for the bundled mock Seller Central.", ""]
    for acc in settings.accounts:
        lines += [
            "[[accounts]]",
            f'name = "{acc.name}"',
            f'base_url = "{acc.base_url}"',
            f'merchant_id = "{acc.merchant_id}"',
            f'email = "{acc.email}"',
            f'password_env = "{acc.password_env}"',
            f'totp_env = "{acc.totp_env}"',
            f'timezone = "{acc.timezone}"',
        ]
        for mp in acc.marketplaces:
            lines += [
                "",
                "[[accounts.marketplaces]]",
                f'id = "{mp.id}"',
                f'selector_map = "{mp.selector_map}"',
            ]
        lines.append("")
    return "\n".join(lines)


@dataclass
class DemoReport:
    home: Path
    url: str
    syncs: list[SyncResult] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    due: list[Flag] = field(default_factory=list)
    draft: Draft | None = None
    calendar: Path | None = None
    archive: Path | None = None
    seconds: float = 0.0


Say = Callable[[str], None]


def run_demo(days: int = 3, say: Say = lambda s: None, keep_home: bool = False) -> DemoReport:
    """Run the demo mission; return what it found. Raises on a failed step."""
    from caselog_mock import AdminClient, MockServer

    started = time.monotonic()
    base_home = home_dir()
    demo_home = base_home / "demo"
    if demo_home.exists() and not keep_home:
        shutil.rmtree(demo_home)
    previous_home = os.environ.get(ENV_HOME)
    os.environ[ENV_HOME] = str(demo_home)
    server = MockServer(scenario="demo", port=0)
    server.start()
    try:
        login = server.login
        os.environ[PASSWORD_ENV] = login["password"]
        os.environ[TOTP_ENV] = login["totp_secret"]
        admin = AdminClient(server.url, server.admin_token)
        settings = demo_settings(server.url, login["email"])
        write_private(home_dir() / "caselog.toml", settings_toml(settings).encode())
        report = DemoReport(home=demo_home, url=server.url)
        say(f"mock Seller Central at {server.url} (clock {admin.now():%Y-%m-%d %H:%M} UTC)")
        with BrowserSession() as session:

            def sync_all(label: str) -> None:
                for acc in settings.accounts:
                    result = AccountSync(session, acc, settings, clock=admin.now).run()
                    report.syncs.append(result)
                    s = result.summary()
                    state = "complete" if s["complete"] else f"incomplete: {s['reason']}"
                    say(
                        f"{label}: {acc.name}: {s['cases_seen']} cases, {s['details_read']} "
                        f"details read, {s['events']} changes, {s['seconds']} s ({state})"
                    )
                    report.events += result.events

            sync_all("first sync")
            for day in range(1, days + 1):
                fired = admin.advance(days=1)
                say(f"day {day}: the mock's Amazon did {len(fired)} thing(s)")
                sync_all(f"day {day} sync")
        now = admin.now()
        for acc in settings.accounts:
            with open_store(acc.name, readonly=True) as store:
                report.due += due_now(account_flags(store, acc, settings, now), now)
        escalations = [f for f in report.due if f.kind.value == "escalate"] or report.due
        if escalations:
            target = escalations[0]
            account = next(a.name for a in settings.accounts if a.name == target.account)
            report.draft = draft(settings, target.case_id, "escalation", now, account)
        report.calendar = write_calendar(settings, now)
        report.archive = _export(settings)
    finally:
        server.stop()
        if previous_home is None:
            os.environ.pop(ENV_HOME, None)
        else:
            os.environ[ENV_HOME] = previous_home
    report.seconds = time.monotonic() - started
    return report


def _export(settings: Settings) -> Path:
    """The seller's archive of the demo's data, in every format."""
    from agent.app.archive import default_out_dir, export_archive

    out = default_out_dir()
    export_archive(settings, out, {"json", "csv", "md", "html"})
    return out / "html" / "index.html"
