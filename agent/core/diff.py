"""What changed between two complete snapshots, as append-only events (pure).

Decisions
- **Baseline.** With no previous complete snapshot (the first complete sync of an account)
  there is nothing to compare with: the sync records what exists and yields *no* events, not
  hundreds of ``case_new`` and message events for history that happened before the agent.
- **Incomplete snapshots** yield no events at all (a failed read is never a change).
- **Ids are deterministic**, so a rerun that stores the same events again (append-only,
  keyed by id) adds nothing: a message event is keyed by its message id; any other event by
  (account, case, kind, before, after, *previous* snapshot id). Keying by the previous
  snapshot rather than the new one means the same change seen from the same baseline has
  the same id even when a rerun takes a fresh snapshot id.
- **Missing cases** are carried by the events, not by the snapshots: a snapshot holds only
  what its sync saw. ``case_missing`` stores the case's last known :class:`CaseState` in
  ``before``; :func:`absences` folds an account's stored events into the cases currently
  missing or gone and their last known state, which the caller passes back in
  (``previously_missing``, ``previously_gone``, ``last_known``). So missing -> gone -> back
  works across any number of syncs, and a case that comes back is compared with the state it
  had when it went missing (a status change while it was away is reported too).
- ``case_gone`` needs a case to be already missing (from an earlier sync), still absent, and
  named in ``gone_confirmed`` (the caller searched its ID and found nothing).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from agent.core.models import CaseState, CaseStatus, Direction, Event, EventKind, Message, Snapshot
from agent.core.text import squash
from agent.core.times import key_time, require_aware

__all__ = ["Absences", "absences", "diff_snapshots"]

_LIFECYCLE = (EventKind.CASE_NEW, EventKind.CASE_MISSING, EventKind.CASE_GONE, EventKind.CASE_BACK)


@dataclass(frozen=True)
class Absences:
    """Cases absent from the listing, as the stored events say (see :func:`absences`)."""

    missing: frozenset[str] = frozenset()
    gone: frozenset[str] = frozenset()
    last_known: Mapping[str, CaseState] = field(default_factory=dict)

    def to_search(self, new: Snapshot) -> list[str]:
        """Missing cases still absent from ``new``: search each ID to confirm it is gone."""
        return sorted(self.missing - new.cases.keys())


def absences(events: Iterable[Event]) -> Absences:
    """Fold an account's events into the cases now missing or gone, and their last state."""
    missing: set[str] = set()
    gone: set[str] = set()
    last_known: dict[str, CaseState] = {}
    ordered = sorted(events, key=lambda e: e.detected_at)
    for event in (e for e in ordered if e.kind in _LIFECYCLE):
        cid = event.case_id
        missing.discard(cid)
        gone.discard(cid)
        if event.kind is EventKind.CASE_MISSING:
            missing.add(cid)
            state = _state_from(event.before)
            if state is not None:
                last_known[cid] = state
        elif event.kind is EventKind.CASE_GONE:
            gone.add(cid)
        else:
            last_known.pop(cid, None)
    return Absences(frozenset(missing), frozenset(gone), last_known)


def diff_snapshots(
    prev: Snapshot | None,
    new: Snapshot,
    new_messages: Sequence[Message],
    *,
    gone_confirmed: Collection[str] = (),
    previously_missing: Collection[str] = (),
    previously_gone: Collection[str] = (),
    last_known: Mapping[str, CaseState] | None = None,
    now: datetime,
) -> list[Event]:
    """The events between ``prev`` (the previous complete snapshot) and ``new``.

    ``new_messages`` are the messages stored for the first time by this sync; each gives one
    ``message_from_amazon`` / ``message_from_seller`` event. Case events come first, by case
    ID, then message events by time.
    """
    require_aware(now, "now")
    if not new.complete or prev is None:
        return []
    if prev.account != new.account:
        raise ValueError(f"cannot diff account {new.account!r} against {prev.account!r}")
    cmp = _Comparison(prev, new, now)
    gone = set(previously_gone)
    missing = set(previously_missing) - gone
    events = _present_events(cmp, missing, gone, last_known or {})
    events += _absent_events(cmp, missing | gone, set(gone_confirmed) & missing)
    events += _message_events(cmp, new_messages)
    return events


@dataclass(frozen=True)
class _Comparison:
    prev: Snapshot
    new: Snapshot
    now: datetime

    def event(
        self,
        case_id: str,
        kind: EventKind,
        before: Any = None,
        after: Any = None,
        *,
        key: Sequence[str] | None = None,
    ) -> Event:
        """An event of this sync; ``key`` replaces (before, after, previous snapshot) in its id."""
        if key is None:
            key = [_canonical_json(before), _canonical_json(after), self.prev.snapshot_id]
        return Event(
            event_id=_event_id(self.new.account, case_id, kind, key),
            account=self.new.account,
            case_id=case_id,
            kind=kind,
            before=before,
            after=after,
            detected_at=self.now,
            snapshot_id=self.new.snapshot_id,
        )


def _present_events(
    cmp: _Comparison, missing: set[str], gone: set[str], last_known: Mapping[str, CaseState]
) -> list[Event]:
    events: list[Event] = []
    for cid in sorted(cmp.new.cases):
        state = cmp.new.cases[cid]
        if cid in missing or cid in gone:
            was = "gone" if cid in gone else "missing"
            events.append(cmp.event(cid, EventKind.CASE_BACK, was, _summary(state)))
            if cid in last_known:
                events += _changes(cmp, cid, last_known[cid], state)
        elif cid in cmp.prev.cases:
            events += _changes(cmp, cid, cmp.prev.cases[cid], state)
        else:
            events.append(cmp.event(cid, EventKind.CASE_NEW, None, _summary(state)))
    return events


def _absent_events(cmp: _Comparison, absent_before: set[str], confirmed: set[str]) -> list[Event]:
    events: list[Event] = []
    for cid in sorted(cmp.prev.cases.keys() - cmp.new.cases.keys() - absent_before):
        before = cmp.prev.cases[cid].model_dump(mode="json")
        events.append(cmp.event(cid, EventKind.CASE_MISSING, before, None))
    for cid in sorted(confirmed - cmp.new.cases.keys()):
        events.append(cmp.event(cid, EventKind.CASE_GONE, "missing", "gone"))
    return events


def _changes(cmp: _Comparison, cid: str, old: CaseState, new: CaseState) -> list[Event]:
    events: list[Event] = []
    if _status_differs(old, new):
        events.append(cmp.event(cid, EventKind.STATUS_CHANGED, _status(old), _status(new)))
    if squash(old.subject) != squash(new.subject):
        events.append(cmp.event(cid, EventKind.SUBJECT_CHANGED, old.subject, new.subject))
    if _norm_cc(old.cc) != _norm_cc(new.cc):
        events.append(cmp.event(cid, EventKind.CC_CHANGED, list(old.cc), list(new.cc)))
    return events


def _status_differs(old: CaseState, new: CaseState) -> bool:
    """Canonical status changed; or, both unknown, the raw label changed."""
    if old.status is not new.status:
        return True
    both_unknown = new.status is CaseStatus.UNKNOWN
    return both_unknown and squash(old.status_raw) != squash(new.status_raw)


def _message_events(cmp: _Comparison, messages: Sequence[Message]) -> list[Event]:
    unique = {m.message_id: m for m in messages}
    events: list[Event] = []
    for msg in sorted(unique.values(), key=lambda m: m.order):
        kind = (
            EventKind.MESSAGE_FROM_AMAZON
            if msg.direction is Direction.FROM_AMAZON
            else EventKind.MESSAGE_FROM_SELLER
        )
        after = {
            "message_id": msg.message_id,
            "sent_at": key_time(msg.sent_at),
            "excerpt": msg.excerpt(),
        }
        events.append(cmp.event(msg.case_id, kind, None, after, key=[msg.message_id]))
    return events


def _status(state: CaseState) -> dict[str, str]:
    return {"status": state.status.value, "status_raw": state.status_raw}


def _summary(state: CaseState) -> dict[str, str]:
    return {**_status(state), "subject": state.subject}


def _state_from(value: Any) -> CaseState | None:
    if not isinstance(value, dict):
        return None
    try:
        return CaseState.model_validate(value)
    except ValidationError:
        return None


def _norm_cc(cc: Sequence[str]) -> list[str]:
    return sorted({address.strip().casefold() for address in cc if address.strip()})


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _event_id(account: str, case_id: str, kind: EventKind, parts: Sequence[str]) -> str:
    raw = "\x1f".join([account, case_id, kind.value, *parts])
    return "e" + hashlib.sha256(raw.encode()).hexdigest()[:24]
