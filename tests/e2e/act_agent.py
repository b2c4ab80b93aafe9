"""An agent acting in-process on the shared mock through the session's Chromium: the same
library functions the CLI calls (plan, send, sync), with the mock's clock as the agent's."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from agent.app.act import Plan, SendReport, plan_cc, plan_reopen, plan_reply, send
from agent.app.sync import AccountSync, SyncResult
from agent.config import Account, ContactSettings, Marketplace, RuleSettings, Settings
from agent.core.contact import OutboxEntry
from agent.core.models import Case, Message
from agent.home import Home
from agent.site.credentials import Credentials
from agent.store import Store

OUTDOOR = "A2DEMOOUTDOOR"
US, UK = "ATVPDKIKX0DER", "A1F83G8C2ARO7P"


@dataclass
class Agent:
    site: Any
    session: Any
    home: Home
    settings: Settings
    account: Account
    secrets: Credentials = field(init=False)

    def __post_init__(self) -> None:
        login = self.site.server.login
        self.secrets = Credentials(login["email"], login["password"], login["totp_secret"])

    def now(self) -> datetime:
        now: datetime = self.site.admin.now()
        return now

    def sync(self) -> SyncResult:
        result = AccountSync(
            self.session,
            self.account,
            self.settings,
            self.home,
            clock=self.now,
            credentials=lambda _a: self.secrets,
        ).run()
        assert result.snapshot.complete, result.summary()
        return result

    def send(self, plan: Plan, **kwargs: Any) -> SendReport:
        return send(
            self.home,
            self.settings,
            plan,
            session=self.session,
            clock=self.now,
            credentials=lambda _a: self.secrets,
            **kwargs,
        )

    def reply(self, case_id: str, **kwargs: Any) -> Plan:
        return plan_reply(self.home, self.settings, case_id, now=self.now(), **kwargs)

    def reopen(self, case_id: str, text: str | None = None) -> Plan:
        return plan_reopen(self.home, self.settings, case_id, text=text)

    def cc(self, case_id: str, op: str, address: str) -> Plan:
        return plan_cc(self.home, self.settings, case_id, op, address)

    def stored(self, case_id: str) -> tuple[Case, list[Message], list[OutboxEntry]]:
        with Store.open(self.home.store_path(self.account.name), readonly=True) as store:
            case = store.case(case_id)
            assert case is not None
            return case, store.messages(case_id), store.outbox(case_id)

    def outbox(self) -> list[OutboxEntry]:
        with Store.open(self.home.store_path(self.account.name), readonly=True) as store:
            return store.outbox()


def signed_in(site: Any, session: Any, folder: Path) -> Path:
    """A session signed in to the mock (sessions outlive its resets), for agents to start
    from instead of each signing in again."""
    login = site.server.login
    account = Account(name="signin", base_url=site.url, email=login["email"])
    secrets = Credentials(login["email"], login["password"], login["totp_secret"])
    state = folder / "state.json"
    ctx = session.context(account, state, lambda _a: secrets)
    try:
        ctx.ensure_signed_in("/")
    finally:
        ctx.close()
    return state


def agent(
    site: Any,
    session: Any,
    tmp_path: Path,
    maps: dict[str, str],
    *,
    merchant: str = OUTDOOR,
    contact: ContactSettings | None = None,
    rules: RuleSettings | None = None,
    state: Path | None = None,
) -> Agent:
    account = Account(
        name="acting",
        base_url=site.url,
        merchant_id=merchant,
        email=site.server.login["email"],
        timezone="America/Los_Angeles",
        marketplaces=[Marketplace(id=m, selector_map=s) for m, s in maps.items()],
    )
    settings = Settings(
        accounts=[account], contact=contact or ContactSettings(), rules=rules or RuleSettings()
    )
    home = Home(tmp_path / "home").ensure()
    if state is not None:
        home.folder("state")
        shutil.copyfile(state, home.state_path(account.name))
    return Agent(site, session, home, settings, account)


def cases_of(truth: dict[str, Any], merchant: str, marketplace: str) -> list[dict[str, Any]]:
    return [
        c
        for c in truth["cases"]
        if c["merchant_id"] == merchant and c["marketplace_id"] == marketplace
    ]


def reopenable(truth: dict[str, Any], merchant: str, marketplace: str) -> dict[str, Any]:
    """An Answered case whose reopen window (14 days from Amazon's last message) is open."""
    now = datetime.fromisoformat(truth["now"].replace("Z", "+00:00"))
    for c in cases_of(truth, merchant, marketplace):
        amazon = [m["sent_at"] for m in c["messages"] if m["direction"] == "from_amazon"]
        last = datetime.fromisoformat(max(amazon).replace("Z", "+00:00")) if amazon else None
        if c["status"] == "ANSWERED" and last and now - last < timedelta(days=13):
            return c
    raise AssertionError(f"no reopenable case for {merchant}/{marketplace}")


def replyable(truth: dict[str, Any], merchant: str, marketplace: str) -> dict[str, Any]:
    """A case that takes a reply now (not Answered, Resolved or Closed)."""
    for c in cases_of(truth, merchant, marketplace):
        if c["status"] in ("NEEDS_YOUR_ATTENTION", "WORK_IN_PROGRESS", "PENDING_AMAZON_ACTION"):
            return c
    raise AssertionError(f"no case takes a reply for {merchant}/{marketplace}")


def amazons_turn(truth: dict[str, Any], merchant: str, marketplace: str) -> dict[str, Any]:
    """A case waiting for Amazon (who answers within days on the mock's clock)."""
    for c in cases_of(truth, merchant, marketplace):
        if c["status"] in ("OPEN", "PENDING_AMAZON_ACTION", "WORK_IN_PROGRESS"):
            return c
    raise AssertionError(f"no case waits for Amazon on {merchant}/{marketplace}")


def received(site: Any, case_id: str, since: int = 0) -> list[dict[str, Any]]:
    return [a for a in site.admin.received_actions(since=since) if a["case_id"] == case_id]
