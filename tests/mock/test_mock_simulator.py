"""The virtual clock and the deterministic simulator of Amazon's side (no browser)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from caselog_mock import AdminClient, AdminError, SellerClient
from mocksite import API, by_subject


def _run(admin: AdminClient, seed: int) -> dict:
    admin.reset(scenario="demo", seed=seed)
    admin.advance(hours=7)
    admin.advance(days=1, minutes=30)
    admin.set_time(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    admin.advance(days=4)
    return admin.ground_truth()


def test_same_seed_same_history(admin: AdminClient) -> None:
    first = _run(admin, seed=7)
    second = _run(admin, seed=7)
    assert first == second
    assert len(first["history"]) > 10
    kinds = {e["kind"] for e in first["history"]}
    assert {"amazon_reply", "auto_closed", "case_opened"} <= kinds
    other = _run(admin, seed=8)
    assert other["history"] != first["history"]


def test_events_fire_in_time_order_on_whole_minutes(admin: AdminClient) -> None:
    events = admin.advance(days=3)
    times = [e["at"] for e in events]
    assert times == sorted(times)
    assert all(t.endswith(":00Z") for t in times)
    truth = admin.ground_truth()
    assert truth["now"] == "2026-11-23T17:00:00Z"
    assert truth["history"] == events
    for event in events:
        case = next(c for c in truth["cases"] if c["case_id"] == event["case_id"])
        if event["kind"] == "amazon_reply":
            message = next(m for m in case["messages"] if m["message_id"] == event["message_id"])
            assert message["direction"] == "from_amazon"
            assert message["sent_at"] == event["at"]
    with pytest.raises(AdminError, match="cannot go back"):
        admin.set_time(datetime(2026, 11, 21, tzinfo=UTC))


def test_auto_close_after_the_configured_silence(admin: AdminClient) -> None:
    truth = admin.ground_truth()
    waiting = by_subject(truth, "Category approval needed")  # Needs Your Attention for 2 days
    assert waiting["status"] == "NEEDS_YOUR_ATTENTION"
    admin.set_options(auto_close_days=3)
    events = admin.advance(hours=21)  # silent since 2 days 2 hours: closes in 22 hours
    assert waiting["case_id"] not in {e["case_id"] for e in events}
    events = admin.advance(hours=2)
    closing = [e for e in events if e["case_id"] == waiting["case_id"]]
    assert [e["kind"] for e in closing] == ["auto_closed"]
    case = by_subject(admin.ground_truth(), "Category approval needed")
    assert case["status"] == "CLOSED"
    assert case["messages"][-1]["direction"] == "from_amazon"
    assert "closing this case" in case["messages"][-1]["body"]


def test_a_reply_gets_an_answer_later(seller: SellerClient, admin: AdminClient) -> None:
    truth = admin.ground_truth()
    case = by_subject(truth, "Brand Registry: add new trademark")
    token = seller.csrf_token("/cu/case-lobby")
    res = seller.post_json(
        f"{API}/ReplyToCase",
        {"caseId": case["case_id"], "message": "Photo attached.", "ccList": ""},
        {"anti-csrftoken-a2z": token},
    )
    assert res.status == 200, res.text
    after = by_subject(admin.ground_truth(), "Brand Registry: add new trademark")
    assert after["status"] == "PENDING_AMAZON_ACTION"
    assert after["messages"][-1]["body"] == "Photo attached."
    assert after["messages"][-1]["sent_at"] == "2026-11-20T17:00:00Z"
    events = admin.advance(days=4)
    answers = [e for e in events if e["case_id"] == case["case_id"]]
    assert answers and answers[0]["kind"] == "amazon_reply"
    assert answers[0]["status_before"] == "PENDING_AMAZON_ACTION"
    history = admin.history()
    assert history[0]["kind"] == "seller_reply" and history[0]["source"] == "seller"


def test_params_override_the_scenarios_simulator(admin: AdminClient) -> None:
    """A test that needs Amazon silent for a while says so in the reset's params."""
    slow = {"answer_delay_hours": [9000, 9000], "followup_delay_hours": [9000, 9000]}
    admin.reset(scenario="demo", params={"simulator": {**slow, "seller_activity_hours": None}})
    events = admin.advance(days=7)
    assert [e for e in events if e["kind"] == "amazon_reply"] == []
    admin.reset(scenario="demo")  # the scenario's own simulator again
    assert [e for e in admin.advance(days=7) if e["kind"] == "amazon_reply"] != []
    with pytest.raises(AdminError, match=r"params\.simulator must be an object"):
        admin.reset(scenario="demo", params={"simulator": [1]})
