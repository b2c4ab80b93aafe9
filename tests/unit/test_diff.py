"""Snapshot diffs: every event kind, the first-sync baseline, incomplete runs, stable ids."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agent.core.diff import Absences, absences, diff_snapshots
from agent.core.models import (
    CaseState,
    CaseStatus,
    Direction,
    Event,
    EventKind,
    IncompleteReason,
    Message,
    Snapshot,
)

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
A, B, C = "11111111111", "22222222222", "33333333333"


def state(
    status: CaseStatus = CaseStatus.OPEN,
    raw: str | None = None,
    subject: str = "Listing suppressed",
    cc: tuple[str, ...] = (),
) -> CaseState:
    return CaseState(status=status, status_raw=raw or status.value.title(), subject=subject, cc=cc)


def snap(snapshot_id: str, cases: Mapping[str, CaseState], complete: bool = True) -> Snapshot:
    return Snapshot(
        snapshot_id=snapshot_id,
        account="acme",
        taken_at=NOW,
        profile="classic-en-US",
        complete=complete,
        reason=None if complete else IncompleteReason.BLANK_PAGE,
        cases=dict(cases),
    )


def msg(message_id: str, direction: Direction, minutes: int, case_id: str = A) -> Message:
    return Message(
        message_id=message_id,
        case_id=case_id,
        direction=direction,
        sender="Amazon" if direction is Direction.FROM_AMAZON else "You",
        sent_at=NOW - timedelta(minutes=minutes),
        body=f"  Message {message_id}\n\n   with   spaces  ",
    )


def kinds(events: list[Event]) -> list[tuple[str, EventKind]]:
    return [(e.case_id, e.kind) for e in events]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(state(), state(), [], id="unchanged"),
        pytest.param(
            state(CaseStatus.OPEN, "Open"),
            state(CaseStatus.ANSWERED, "Answered"),
            [
                (
                    EventKind.STATUS_CHANGED,
                    {"status": "OPEN", "status_raw": "Open"},
                    {"status": "ANSWERED", "status_raw": "Answered"},
                )
            ],
            id="status-changed-with-raw-labels",
        ),
        pytest.param(
            state(CaseStatus.OPEN, "Open"), state(CaseStatus.OPEN, "Offen"), [], id="raw-relabel"
        ),
        pytest.param(
            state(CaseStatus.UNKNOWN, "Investigating"),
            state(CaseStatus.UNKNOWN, "Cancelled"),
            [
                (
                    EventKind.STATUS_CHANGED,
                    {"status": "UNKNOWN", "status_raw": "Investigating"},
                    {"status": "UNKNOWN", "status_raw": "Cancelled"},
                )
            ],
            id="unknown-raw-label-changed",
        ),
        pytest.param(
            state(subject="Listing suppressed"),
            state(subject="Listing suppressed - ASIN B00X"),
            [(EventKind.SUBJECT_CHANGED, "Listing suppressed", "Listing suppressed - ASIN B00X")],
            id="subject-changed",
        ),
        pytest.param(
            state(subject="Listing  suppressed"),
            state(subject=" Listing suppressed "),
            [],
            id="subject-whitespace-only",
        ),
        pytest.param(
            state(cc=("a@x.com",)),
            state(cc=("a@x.com", "b@x.com")),
            [(EventKind.CC_CHANGED, ["a@x.com"], ["a@x.com", "b@x.com"])],
            id="cc-added",
        ),
        pytest.param(
            state(cc=("a@x.com", "B@x.com")),
            state(cc=("b@x.com", "a@x.com")),
            [],
            id="cc-reordered",
        ),
        pytest.param(
            state(CaseStatus.OPEN, subject="Old"),
            state(CaseStatus.CLOSED, subject="New"),
            [
                (
                    EventKind.STATUS_CHANGED,
                    {"status": "OPEN", "status_raw": "Open"},
                    {"status": "CLOSED", "status_raw": "Closed"},
                ),
                (EventKind.SUBJECT_CHANGED, "Old", "New"),
            ],
            id="status-and-subject",
        ),
    ],
)
def test_changes_of_a_case_seen_twice(
    old: CaseState, new: CaseState, expected: list[tuple[EventKind, Any, Any]]
) -> None:
    events = diff_snapshots(snap("s1", {A: old}), snap("s2", {A: new}), [], now=NOW)
    assert [(e.kind, e.before, e.after) for e in events] == expected
    assert all(
        (e.account, e.case_id, e.snapshot_id, e.detected_at) == ("acme", A, "s2", NOW)
        for e in events
    )


@pytest.mark.parametrize(
    ("prev", "new", "kw", "expected"),
    [
        pytest.param(
            {A: state()}, {A: state(), B: state()}, {}, [(B, EventKind.CASE_NEW)], id="new"
        ),
        pytest.param(
            {A: state(), B: state()}, {A: state()}, {}, [(B, EventKind.CASE_MISSING)], id="missing"
        ),
        pytest.param(
            {A: state()},
            {A: state()},
            {"previously_missing": [B], "gone_confirmed": [B]},
            [(B, EventKind.CASE_GONE)],
            id="gone-when-search-confirms",
        ),
        pytest.param(
            {A: state()},
            {A: state()},
            {"previously_missing": [B]},
            [],
            id="still-missing-unconfirmed",
        ),
        pytest.param(
            {A: state(), B: state()},
            {A: state()},
            {"gone_confirmed": [B]},
            [(B, EventKind.CASE_MISSING)],
            id="never-gone-on-the-first-absence",
        ),
        pytest.param(
            {A: state()},
            {A: state()},
            {"previously_missing": [B], "previously_gone": [B], "gone_confirmed": [B]},
            [],
            id="gone-is-said-once",
        ),
        pytest.param(
            {A: state()},
            {A: state(), B: state()},
            {"previously_missing": [B]},
            [(B, EventKind.CASE_BACK)],
            id="back-after-missing",
        ),
        pytest.param(
            {A: state()},
            {A: state(), B: state()},
            {"previously_gone": [B]},
            [(B, EventKind.CASE_BACK)],
            id="back-after-gone",
        ),
        pytest.param(
            {A: state()},
            {A: state(), B: state(CaseStatus.ANSWERED)},
            {"previously_missing": [B], "last_known": {B: state(CaseStatus.OPEN)}},
            [(B, EventKind.CASE_BACK), (B, EventKind.STATUS_CHANGED)],
            id="back-with-a-status-changed-while-away",
        ),
        pytest.param(
            {A: state(), C: state()},
            {A: state(), B: state()},
            {},
            [(B, EventKind.CASE_NEW), (C, EventKind.CASE_MISSING)],
            id="one-in-one-out",
        ),
    ],
)
def test_cases_appearing_and_disappearing(
    prev: dict[str, CaseState],
    new: dict[str, CaseState],
    kw: dict[str, Any],
    expected: list[tuple[str, EventKind]],
) -> None:
    assert kinds(diff_snapshots(snap("s1", prev), snap("s2", new), [], now=NOW, **kw)) == expected


def test_event_payloads_for_membership_events() -> None:
    b_state = state(CaseStatus.WORK_IN_PROGRESS, "Work in progress", cc=("ops@x.com",))
    missing = diff_snapshots(
        snap("s1", {A: state(), B: b_state}), snap("s2", {A: state()}), [], now=NOW
    )
    assert missing[0].before == b_state.model_dump(mode="json")
    assert missing[0].after is None
    new = diff_snapshots(snap("s1", {}), snap("s2", {B: b_state}), [], now=NOW)
    assert new[0].after == {
        "status": "WORK_IN_PROGRESS",
        "status_raw": "Work in progress",
        "subject": "Listing suppressed",
    }
    back = diff_snapshots(
        snap("s1", {}), snap("s2", {B: b_state}), [], previously_gone=[B], now=NOW
    )
    assert (back[0].before, back[0].after["status"]) == ("gone", "WORK_IN_PROGRESS")


def test_message_events_one_per_new_message_in_time_order() -> None:
    messages = [
        msg("m2", Direction.FROM_SELLER, 10),
        msg("m1", Direction.FROM_AMAZON, 30),
        msg("m2", Direction.FROM_SELLER, 10),  # passed twice: still one event
        msg("m3", Direction.FROM_AMAZON, 5, case_id=B),
    ]
    events = diff_snapshots(snap("s1", {A: state()}), snap("s2", {A: state()}), messages, now=NOW)
    assert kinds(events) == [
        (A, EventKind.MESSAGE_FROM_AMAZON),
        (A, EventKind.MESSAGE_FROM_SELLER),
        (B, EventKind.MESSAGE_FROM_AMAZON),
    ]
    first = events[0]
    assert first.before is None
    assert first.after == {
        "message_id": "m1",
        "sent_at": (NOW - timedelta(minutes=30)).isoformat(),
        "excerpt": "Message m1 with spaces",
    }


def test_new_case_comes_with_its_message_events() -> None:
    events = diff_snapshots(
        snap("s1", {}), snap("s2", {A: state()}), [msg("m1", Direction.FROM_SELLER, 1)], now=NOW
    )
    assert kinds(events) == [(A, EventKind.CASE_NEW), (A, EventKind.MESSAGE_FROM_SELLER)]


def test_first_complete_sync_is_a_baseline_without_events() -> None:
    new = snap("s1", {A: state(), B: state()})
    messages = [msg("m1", Direction.FROM_AMAZON, 3)]
    assert diff_snapshots(None, new, messages, previously_missing=[C], now=NOW) == []


def test_incomplete_snapshot_gives_no_events() -> None:
    prev = snap("s1", {A: state(), B: state()})
    blank = snap("s2", {A: state(CaseStatus.CLOSED)}, complete=False)
    messages = [msg("m1", Direction.FROM_AMAZON, 3)]
    events = diff_snapshots(
        prev, blank, messages, previously_missing=[C], gone_confirmed=[C], now=NOW
    )
    assert events == []


def test_ids_are_deterministic_so_a_rerun_adds_nothing() -> None:
    prev = snap("s1", {A: state(), B: state()})
    new = snap("s2", {A: state(CaseStatus.ANSWERED), C: state()})
    messages = [msg("m1", Direction.FROM_AMAZON, 3)]
    first = diff_snapshots(prev, new, messages, now=NOW)
    again = diff_snapshots(prev, new, messages, now=NOW + timedelta(minutes=5))
    rerun = diff_snapshots(prev, snap("s2-rerun", new.cases), messages, now=NOW)
    assert len(first) == 4
    assert len({e.event_id for e in first}) == 4
    assert [e.event_id for e in again] == [e.event_id for e in first]
    assert [e.event_id for e in rerun] == [e.event_id for e in first]


def test_the_same_change_from_another_baseline_is_another_event() -> None:
    one = diff_snapshots(
        snap("s1", {A: state()}), snap("s2", {A: state(CaseStatus.ANSWERED)}), [], now=NOW
    )
    two = diff_snapshots(
        snap("s3", {A: state()}), snap("s4", {A: state(CaseStatus.ANSWERED)}), [], now=NOW
    )
    assert one[0].event_id != two[0].event_id
    m = [msg("m1", Direction.FROM_AMAZON, 3)]
    msg_one = diff_snapshots(snap("s1", {}), snap("s2", {}), m, now=NOW)
    msg_two = diff_snapshots(snap("s3", {}), snap("s4", {}), m, now=NOW)
    assert msg_one[0].event_id == msg_two[0].event_id  # keyed by the message id alone


def test_missing_then_gone_then_back_across_syncs() -> None:
    """Snapshots hold what each sync saw; the stored events carry the absence forward."""
    was_open = state(CaseStatus.OPEN, "Open")
    syncs = [
        ("s1", {A: state(), B: was_open}, set()),
        ("s2", {A: state()}, set()),  # B left out of a complete listing
        ("s3", {A: state()}, set()),  # search found B: still missing, not gone
        ("s4", {A: state()}, {B}),  # search finds nothing: gone
        ("s5", {A: state()}, {B}),  # still gone: said once
        ("s6", {A: state(), B: state(CaseStatus.ANSWERED, "Answered")}, set()),
        ("s7", {A: state(), B: state(CaseStatus.ANSWERED, "Answered")}, set()),
    ]
    stored: dict[str, Event] = {}
    prev: Snapshot | None = None
    seen: list[list[EventKind]] = []
    for i, (sid, cases, not_found) in enumerate(syncs):
        new = snap(sid, cases)
        absent = absences(stored.values())
        confirmed = not_found & set(absent.to_search(new))
        events = diff_snapshots(
            prev,
            new,
            [],
            gone_confirmed=confirmed,
            previously_missing=absent.missing,
            previously_gone=absent.gone,
            last_known=absent.last_known,
            now=NOW + timedelta(hours=i),
        )
        stored.update({e.event_id: e for e in events})
        seen.append([e.kind for e in events])
        prev = new
    assert seen == [
        [],
        [EventKind.CASE_MISSING],
        [],
        [EventKind.CASE_GONE],
        [],
        [EventKind.CASE_BACK, EventKind.STATUS_CHANGED],
        [],
    ]
    assert absences(stored.values()) == Absences()


def test_absences_fold_the_latest_lifecycle_event() -> None:
    def ev(kind: EventKind, case_id: str, hour: int, before: Any = None) -> Event:
        return Event(
            event_id=f"{kind}-{case_id}-{hour}",
            account="acme",
            case_id=case_id,
            kind=kind,
            before=before,
            detected_at=NOW + timedelta(hours=hour),
            snapshot_id=f"s{hour}",
        )

    last = state(CaseStatus.TRANSFERRED, "Transferred")
    events = [
        ev(EventKind.CASE_GONE, B, 2),
        ev(EventKind.CASE_MISSING, B, 1, last.model_dump(mode="json")),
        ev(EventKind.CASE_MISSING, C, 1, {"not": "a state"}),
        ev(EventKind.CASE_MISSING, A, 1),
        ev(EventKind.CASE_BACK, A, 3),
        ev(EventKind.STATUS_CHANGED, C, 4),
    ]
    result = absences(events)
    assert (result.missing, result.gone) == (frozenset({C}), frozenset({B}))
    assert dict(result.last_known) == {B: last}
    assert result.to_search(snap("s9", {C: state()})) == []
    assert result.to_search(snap("s9", {})) == [C]


def test_refuses_naive_now_and_mixed_accounts() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        diff_snapshots(snap("s1", {}), snap("s2", {}), [], now=datetime(2026, 11, 20))
    other = snap("s1", {}).model_copy(update={"account": "other"})
    with pytest.raises(ValueError, match="cannot diff"):
        diff_snapshots(other, snap("s2", {}), [], now=NOW)
