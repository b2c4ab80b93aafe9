"""The autopilot of `caselog watch` over a simulated week on the mock's clock: with
``[contact] auto_send = ["follow_up"]`` and a daily cap of one, the watch job (two rounds a
day) sends follow-ups by itself, never more than the cap on any day of the account, never a
second nudge to a case within the quiet period (Amazon stays silent all week, so every
follow-up stays due), each message reaches the site once, shows in the outbox, and is a
notice of its own; the round's log line says what was sent and what was held back, and why.

In-process: the watch's own job and round (:class:`agent.app.watch.Watch`,
:func:`agent.app.round.run_round`) on the session's Chromium, with the mock's clock as the
agent's; test_watch_e2e.py runs `caselog watch` itself."""

from __future__ import annotations

import itertools
import logging
from collections import Counter
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from act_agent import US, agent, signed_in

from agent.app.notify import Notifier
from agent.app.round import RoundOutcome, run_round
from agent.app.watch import Watch
from agent.config import ContactSettings, RuleSettings
from agent.core.businesstime import BusinessCalendar, add_business_days
from agent.core.contact import Origin, OutboxState, normal_text
from agent.site.session import BrowserSession

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SILENT = {  # Amazon answers nothing for a year: every follow-up stays due
    "answer_delay_hours": [9000, 9000],
    "followup_delay_hours": [9000, 9000],
    "seller_activity_hours": None,
}
LA = ZoneInfo("America/Los_Angeles")


def test_the_autopilot_keeps_the_daily_cap_and_the_quiet_period_over_a_week(
    e2e_site: Any,
    agent_session: Any,
    browser: Any,
    tmp_path: Any,
    notice_sink: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    site = e2e_site
    site.admin.reset(scenario="demo", params={"simulator": SILENT})
    site.admin.clear_faults()
    state = signed_in(site, BrowserSession(browser=browser), tmp_path)
    me = agent(
        site,
        agent_session,
        tmp_path,
        maps={US: "modern-en-US"},
        contact=ContactSettings(auto_send=["follow_up"], auto_send_daily_cap=1),
        # the follow-up ladder all week (no escalation takes its place)
        rules=RuleSettings(escalate_after_follow_ups=10, escalate_unresolved_days=365),
        state=state,
    )
    notifier = Notifier([notice_sink.url])
    outcomes: list[RoundOutcome] = []

    def one_round(account: Any) -> RoundOutcome:
        outcome = run_round(
            agent_session,
            account,
            me.settings,
            me.home,
            notifier,
            clock=me.now,
            credentials=lambda _a: me.secrets,
        )
        outcomes.append(outcome)
        return outcome

    watch = Watch(me.settings, [me.account], one_round, notifier, clock=me.now)
    first = site.admin.now().astimezone(LA).date()  # Friday 20 Nov 2026, 09:00 in LA
    with caplog.at_level(logging.INFO, logger="caselog.watch"):
        for day in range(7):
            for hour in (9, 15):
                at = datetime.combine(first + timedelta(days=day), time(hour), LA)
                if at > site.admin.now():
                    site.admin.set_time(at)
                watch.job(me.account)
    assert len(outcomes) == 14 and watch.health["acting"].failures == 0

    sent = [e for e in me.outbox() if e.origin is Origin.AUTOPILOT]
    assert sent and all(e.state is OutboxState.SENT for e in sent), sent
    assert [e for e in me.outbox() if e.origin is not Origin.AUTOPILOT] == []
    # the daily cap: at most one a day, the account's day
    per_day = Counter(e.created_at.astimezone(LA).date() for e in sent)
    assert max(per_day.values()) == 1, per_day
    # the quiet period: three business days between two nudges to one case
    calendar = BusinessCalendar.of(me.account)
    by_case: dict[str, list[datetime]] = {}
    for e in sent:
        by_case.setdefault(e.case_id, []).append(e.created_at)
    for case_id, times in by_case.items():
        for earlier, later in itertools.pairwise(times):
            assert later >= add_business_days(earlier, 3, calendar), (case_id, times)
    # both held something back, not only in theory
    held = Counter(why for o in outcomes if o.autopilot for why in o.autopilot.held.values())
    assert held["daily_cap"] > 0 and held["quiet_period"] > 0, held

    # each message reached the site once, as the outbox says
    replies = [a for a in site.admin.received_actions() if a["kind"] == "reply"]
    assert sorted((a["case_id"], normal_text(a["body"])) for a in replies) == sorted(
        (e.case_id, normal_text(e.body)) for e in sent
    )
    assert all(a["accepted"] for a in replies)
    # one notice per message sent, naming its case, with the message in it
    told = [n for n in notice_sink.received if ": sent a follow-up to case " in n["title"]]
    assert sorted(n["title"] for n in told) == sorted(
        f"caselog acting: sent a follow-up to case {e.case_id}" for e in sent
    )
    for e in sent:
        [notice] = [n for n in told if f"(outbox entry {e.entry_id};" in n["message"]]
        assert notice["title"].endswith(e.case_id)
        assert normal_text(e.body) in normal_text(notice["message"])
    lines = [r.getMessage() for r in caplog.records if ": complete in " in r.getMessage()]
    assert sum("autopilot sent 1 (case " in line for line in lines) == len(sent)
    assert any("(daily_cap)" in line for line in lines)
    assert any("(quiet_period)" in line for line in lines)
    print(
        f"\n{len(sent)} follow-ups sent over 7 days to {len(by_case)} cases "
        f"({dict(Counter(len(t) for t in by_case.values()))} sends per case); held back: "
        f"{dict(held)}"
    )
