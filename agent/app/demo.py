"""``caselog demo``: the whole mission against the bundled mock Seller Central.

Starts the mock with the demo scenario on loopback, signs in with e-mail, password and TOTP,
syncs both demo merchants (four marketplaces, both UI generations, three locales), lets the
mock's clock run a few days while its simulator plays Amazon's side, syncing after each day,
then reports what changed, what is due and why, one escalation draft, and where the archive
and the calendar were written. The demo keeps its own home (``<home>/demo``) so it never
mixes with a seller's real data. No account, no network.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from agent.app.archive import export_archive
from agent.app.calendar_ics import write_calendar
from agent.app.sync import AccountSync, SyncResult
from agent.app.todo import draft, due
from agent.config import Account, Marketplace, Settings
from agent.core.drafts import Draft
from agent.core.models import Event
from agent.core.present import TodoItem
from agent.home import Home, write_private
from agent.site.credentials import Credentials
from agent.site.session import BrowserSession

__all__ = ["DemoReport", "demo_settings", "run_demo", "settings_toml"]

PASSWORD_ENV = "CASELOG_DEMO_PASSWORD"
TOTP_ENV = "CASELOG_DEMO_TOTP"

DEMO_SIGNATURES = {
    "demo-outdoor": "Dana, Demo Outdoor Co",
    "demo-kitchen": "Kai, Demo Kitchen Ltd",
}

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
            signature=DEMO_SIGNATURES[name],
            marketplaces=[Marketplace(id=mp, selector_map=smap) for mp, smap in mps],
        )
        for name, (merchant, mps) in DEMO_MARKETPLACES.items()
    ]
    return Settings(accounts=accounts)


def settings_toml(settings: Settings) -> str:
    """``caselog.toml`` for ``settings``' accounts (only what differs from the defaults)."""
    data = {"accounts": [a.model_dump(exclude_defaults=True) for a in settings.accounts]}
    header = "# Written by `caselog demo` for the bundled mock Seller Central.\n\n"
    return header + tomli_w.dumps(data)


@dataclass
class DemoReport:
    home: Path
    url: str
    syncs: list[SyncResult] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    due: list[TodoItem] = field(default_factory=list)
    draft: Draft | None = None
    calendar: Path | None = None
    archive: Path | None = None
    seconds: float = 0.0


Say = Callable[[str], None]


def run_demo(home: Home, days: int = 3, say: Say = lambda s: None) -> DemoReport:
    """Run the demo mission in ``home``'s ``demo/`` folder (made afresh); return what it found.
    Raises on a failed step. The seller's own home, and this process's environment, are
    left alone."""
    from caselog_mock import AdminClient, MockServer

    started = time.monotonic()
    demo = home.ensure().sub("demo")
    if demo.root.exists():
        shutil.rmtree(demo.root)
    demo.ensure()
    server = MockServer(scenario="demo", port=0)
    server.start()
    try:
        login = server.login
        secrets = Credentials(login["email"], login["password"], login["totp_secret"])
        admin = AdminClient(server.url, server.admin_token)
        settings = demo_settings(server.url, login["email"])
        write_private(demo.config_file, settings_toml(settings).encode())
        report = DemoReport(home=demo.root, url=server.url)
        say(f"mock Seller Central at {server.url} (clock {admin.now():%Y-%m-%d %H:%M} UTC)")
        with BrowserSession() as session:

            def sync_all(label: str) -> None:
                for acc in settings.accounts:
                    result = AccountSync(
                        session,
                        acc,
                        settings,
                        demo,
                        clock=admin.now,
                        credentials=lambda _account: secrets,
                    ).run()
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
        report.due = [item for r in due(demo, settings, None, now) for item in r.due]
        escalations = [f for f in report.due if f.kind.value == "escalate"] or report.due
        if escalations:
            target = escalations[0]
            report.draft = draft(demo, settings, target.case_id, "escalation", now, target.account)
        report.calendar = write_calendar(demo, settings, now)
        export_archive(demo, settings, demo.archive_dir, {"json", "csv", "md", "html"})
        report.archive = demo.archive_dir / "html" / "index.html"
    finally:
        server.stop()
    report.seconds = time.monotonic() - started
    return report
