"""The turn thread a store keeps for the to-do decides exactly what the whole thread does.

Thousands of generated threads (directions, times that tie and go backwards against the
site's order, escalations, follow-ups), every status that can carry a flag, with and without
status history, evaluated at several moments: whose turn and every flag must be the same
from :func:`turn_thread` as from the whole thread. A store then answers the to-do from its
turn table, and that table follows the messages and statuses it was made from.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from test_rules import ACCOUNT, AMAZON, CASE_ID, RULES, SELLER, case, la, msg, status_event

from agent.core.models import Case, CaseStatus, Event, Flag, Message
from agent.core.rules import evaluate
from agent.core.turn import can_flag, turn_thread, whose_turn
from agent.store import Store

BODIES = [
    "Any news?",
    "Please see the attached invoice.",
    "Urgent Escalation Request: case open for two weeks",
    "Could you escalate this, please?",
    "We need more information.",
]
OPEN = [s for s in CaseStatus if can_flag(s)]


def thread(rng: random.Random) -> list[Message]:
    start = la(16, 9)
    msgs = []
    for i in range(rng.randint(0, 9)):
        direction = rng.choice([AMAZON, SELLER, SELLER])
        minutes = rng.choice([0, 0, 30, 600, 2000, -30])  # ties and times out of order
        sent = start + timedelta(minutes=minutes * i + rng.randint(0, 3))
        m = msg(direction, sent, rng.choice(BODIES) + f" ({i})")
        msgs.append(m.model_copy(update={"seq": i}))
    return msgs


def flags(c: Case, msgs: list[Message], events: list[Event], now: datetime) -> list[Flag]:
    return evaluate([c], {CASE_ID: msgs}, events, {}, rules=RULES, account=ACCOUNT, now=now)


@pytest.mark.parametrize("seed", range(40))
def test_the_turn_thread_decides_as_the_whole_thread_does(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(60):
        status = rng.choice(OPEN)
        c = case(status, created=la(16, 8))
        msgs = thread(rng)
        events = [status_event(rng.choice(OPEN), la(17))] if rng.random() < 0.5 else []
        short = turn_thread(msgs)
        assert set(m.message_id for m in short) <= {m.message_id for m in msgs}
        assert whose_turn(c, short, events) == whose_turn(c, msgs, events)
        for now in (la(18), la(25), la(30, month=11) + timedelta(days=20)):
            whole = evaluate(
                [c], {CASE_ID: msgs}, events, {}, rules=RULES, account=ACCOUNT, now=now
            )
            kept = evaluate(
                [c], {CASE_ID: short}, events, {}, rules=RULES, account=ACCOUNT, now=now
            )
            assert kept == whole


def test_the_store_keeps_turn_threads_of_cases_that_can_carry_a_flag() -> None:
    rng = random.Random(7)
    msgs = thread(rng) or [msg(SELLER, la(16))]
    with Store.open(None) as store:
        store.put_cases([case(CaseStatus.PENDING_AMAZON_ACTION, created=la(16, 8))])
        store.put_messages(msgs)
        store.commit()
        kept = store.turn_threads([CASE_ID])[CASE_ID]
        assert [m.message_id for m in kept] == [m.message_id for m in turn_thread(msgs)]

        store.put_cases([case(CaseStatus.RESOLVED, created=la(16, 8))])  # final: none kept
        store.commit()
        assert store.turn_threads([CASE_ID]) == {}

        store.put_cases([case(CaseStatus.REOPENED, created=la(16, 8))])  # back: kept again
        reply = msg(AMAZON, la(24), "We have reopened your case.")
        store.put_messages([reply])
        store.commit()
        kept = store.turn_threads([CASE_ID])[CASE_ID]
        assert kept[0].message_id == reply.message_id  # Amazon's last message starts it
