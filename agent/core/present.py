"""What the seller reads about a case, said one way everywhere (pure).

The terminal (``due``, ``changes``, ``history``), the notices, the calendar, the Markdown and
the HTML report all take their sentences from here, so a flag, an event or a deadline never
reads differently in two places:

- :class:`TodoItem` / :func:`todo_items`: one line of the to-do (account, case, subject, what
  to do, why in one sentence, by when in the account's time zone, the Seller Central link);
  ``caselog due --json`` and the report's "Today" are both :meth:`TodoItem.as_json`.
- :func:`event_sentence`: an event as a sentence ("Status changed from Pending Amazon Action
  to Work in progress."), never the stored JSON.
- :func:`case_url`: the case's page on Seller Central, from the selector map's ``urls.detail``.

Codes stay codes in JSON (``kind``: ``reply_due``); the words are added beside them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from agent.core.labels import flag_label, marketplace_name, status_label
from agent.core.models import Case, Event, EventKind, Flag, FlagKind, FlagState, Severity
from agent.core.rules import due_now
from agent.core.text import excerpt, squash
from agent.core.times import iso_utc, local_time

__all__ = [
    "ACTIONS",
    "TodoItem",
    "case_url",
    "event_sentence",
    "group_by_case",
    "most_urgent_first",
    "todo_item",
    "todo_items",
]

ACTIONS: dict[FlagKind, str] = {
    FlagKind.REPLY_DUE: "Reply to Amazon on the case",
    FlagKind.CLOSES_SOON: "Reply now, before Amazon auto-closes the case",
    FlagKind.FOLLOW_UP: "Send Amazon a follow-up",
    FlagKind.ESCALATE: "Ask Amazon to escalate the case",
    FlagKind.REOPEN_WINDOW: "Reopen the case if it is not settled, or mark it done",
}
"""What to do about each kind of flag, as an instruction."""


def case_url(base_url: str, detail_path: str, case_id: str) -> str:
    """The case's page: ``detail_path`` (``/...?caseID={case_id}``) on the site's root."""
    if not base_url or not detail_path:
        return ""
    return base_url.rstrip("/") + detail_path.replace("{case_id}", quote(case_id, safe=""))


@dataclass(frozen=True, slots=True)
class TodoItem:
    """One thing to do about one case, as every output shows it."""

    account: str
    case_id: str
    subject: str
    marketplace: str  # the site's name, "amazon.com"
    status: str  # the status label, "Needs Your Attention"
    kind: FlagKind
    label: str  # "Reply due"
    action: str  # "Reply to Amazon on the case"
    why: str  # the flag's one-sentence reason
    severity: Severity
    due_at: datetime
    by_when: str  # due_at in the account's zone, with the zone: "2026-11-21 08:35 PST"
    timezone: str
    url: str
    flag_id: str
    step: int | None = None
    snoozed_until: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        """The item as ``due --json`` prints it and the HTML report embeds it."""
        return {
            "account": self.account,
            "case_id": self.case_id,
            "subject": self.subject,
            "marketplace": self.marketplace,
            "status": self.status,
            "kind": self.kind.value,
            "label": self.label,
            "action": self.action,
            "why": self.why,
            "severity": self.severity.value,
            "due_at": iso_utc(self.due_at),
            "by_when": self.by_when,
            "timezone": self.timezone,
            "url": self.url,
            "flag_id": self.flag_id,
            "step": self.step,
        }


_RANK = {Severity.URGENT: 0, Severity.WARNING: 1, Severity.INFO: 2}


def most_urgent_first(items: Iterable[TodoItem]) -> list[TodoItem]:
    """Items of one or several accounts in the order ``caselog due`` lists them: most urgent,
    then longest overdue, then by case (the order of :func:`agent.core.rules.due_now`)."""
    return sorted(
        items, key=lambda i: (_RANK[i.severity], i.due_at, i.case_id, i.kind.value, i.account)
    )


def todo_item(flag: Flag, case: Case | None, zone: ZoneInfo, url: str = "") -> TodoItem:
    """``flag`` as a to-do line; ``case`` gives the subject, status and marketplace."""
    action = ACTIONS[flag.kind]
    if flag.kind is FlagKind.FOLLOW_UP and flag.step and flag.step > 1:
        action = f"{action} (follow-up {flag.step})"
    return TodoItem(
        account=flag.account,
        case_id=flag.case_id,
        subject=case.subject if case else "",
        marketplace=marketplace_name(case.marketplace) if case else "",
        status=status_label(case.status.value) if case else "",
        kind=flag.kind,
        label=flag_label(flag.kind),
        action=action,
        why=flag.reason,
        severity=flag.severity,
        due_at=flag.due_at,
        by_when=local_time(flag.due_at, zone),
        timezone=zone.key,
        url=url,
        flag_id=flag.flag_id,
        step=flag.step,
        snoozed_until=flag.snoozed_until if flag.state is FlagState.SNOOZED else None,
    )


def todo_items(
    flags: Iterable[Flag],
    cases: Mapping[str, Case],
    zone: ZoneInfo,
    now: datetime,
    url: Callable[[Case], str] = lambda case: "",
) -> tuple[list[TodoItem], list[TodoItem]]:
    """(due now, most urgent first; upcoming, soonest first) for one account's flags."""
    flags = list(flags)
    due = due_now(flags, now)
    ids = {f.flag_id for f in due}
    upcoming = sorted(
        (f for f in flags if f.flag_id not in ids and f.state is not FlagState.DONE),
        key=lambda f: (f.due_at, f.case_id, f.kind.value),
    )

    def item(f: Flag) -> TodoItem:
        case = cases.get(f.case_id)
        return todo_item(f, case, zone, url(case) if case else "")

    return [item(f) for f in due], [item(f) for f in upcoming]


# --------------------------------------------------------------------------- events


def _status_of(value: Any) -> str:
    if isinstance(value, dict):
        code = str(value.get("status") or "")
        raw = squash(str(value.get("status_raw") or ""))
        label = status_label(code) if code else raw
        return raw if code == "UNKNOWN" and raw else label
    return status_label(str(value)) if value else ""


def _quoted(value: Any) -> str:
    return f'"{excerpt(str(value), 120)}"' if value else "(none)"


def event_sentence(event: Event) -> str:
    """The event as one sentence, in the seller's words (no codes, no JSON)."""
    kind, before, after = event.kind, event.before, event.after
    if kind is EventKind.CASE_NEW:
        status = _status_of(after)
        return f"First seen, {status}." if status else "First seen."
    if kind is EventKind.STATUS_CHANGED:
        return f"Status changed from {_status_of(before) or '(none)'} to {_status_of(after)}."
    if kind in (EventKind.MESSAGE_FROM_AMAZON, EventKind.MESSAGE_FROM_SELLER):
        who = "Amazon wrote" if kind is EventKind.MESSAGE_FROM_AMAZON else "You wrote"
        text = after.get("excerpt", "") if isinstance(after, dict) else ""
        return f'{who}: "{excerpt(str(text), 160)}"' if text else f"{who} a message."
    if kind is EventKind.SUBJECT_CHANGED:
        return f"Subject changed from {_quoted(before)} to {_quoted(after)}."
    if kind is EventKind.CC_CHANGED:
        return f"CC changed from {_cc(before)} to {_cc(after)}."
    if kind is EventKind.CASE_MISSING:
        return "Missing from the case list (it will be looked up by its ID next time)."
    if kind is EventKind.CASE_GONE:
        return "Gone from the case list: a search by its ID no longer finds it."
    if kind is EventKind.CASE_BACK:
        status = _status_of(after)
        return f"Back in the case list ({status})." if status else "Back in the case list."
    return kind.value.replace("_", " ").capitalize() + "."  # pragma: no cover


def _cc(value: Any) -> str:
    if isinstance(value, (list, tuple)) and value:
        return ", ".join(str(v) for v in value)
    return "(none)"


def group_by_case(events: Sequence[Event]) -> list[tuple[str, list[Event]]]:
    """Events grouped by case, cases in order of their newest event (newest first), each
    case's events oldest first."""
    groups: dict[str, list[Event]] = {}
    for e in sorted(events, key=lambda e: (e.detected_at, e.event_id)):
        groups.setdefault(e.case_id, []).append(e)
    return sorted(groups.items(), key=lambda kv: kv[1][-1].detected_at, reverse=True)
