"""Reminders through apprise URLs (desktop, e-mail, chat webhooks): batched per run, and
only for what is newly changed or newly due; nothing is said twice.

A notice is meant to be acted on from a phone: its title names the account and what is
due; each item names the case by ID and subject, says what to do, why, by when (the
account's time zone) and gives the case's Seller Central link. When more than
:data:`DETAILED_UP_TO` items are due at once they come as one digest (one line and a link
each, at most :data:`DIGEST_LINES`, then how many more). Text from the site passes through
:func:`agent.core.text.visible`.

A flag counts as notified only once a target accepted the notice: :meth:`Notifier.send`
returns False when there is no target or any target refused, and the caller then keeps the
flag for the next round.

Each URL is sent to on its own, so that a target that is down is known by name: with a
:class:`~agent.app.journal.NotifyJournal`, each target's last success and last failure (with
apprise's reason) are kept for ``caselog status``. Targets are named as apprise shows them
with their secrets masked (:func:`target_name`), never by the URL itself.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from agent.app.journal import NotifyJournal
from agent.core.contact import OutboxEntry
from agent.core.models import Case, Event, EventKind
from agent.core.present import TodoItem, event_sentence
from agent.core.text import squash, visible
from agent.core.times import local_time

__all__ = [
    "DETAILED_UP_TO",
    "DIGEST_LINES",
    "NEWS",
    "Notice",
    "Notifier",
    "compose",
    "digest",
    "sent_notice",
    "target_name",
]

# What a seller wants to hear about; their own messages are not news to them.
NEWS = frozenset(
    {
        EventKind.CASE_NEW,
        EventKind.STATUS_CHANGED,
        EventKind.MESSAGE_FROM_AMAZON,
        EventKind.SUBJECT_CHANGED,
        EventKind.CASE_GONE,
        EventKind.CASE_BACK,
    }
)
DETAILED_UP_TO = 5
DIGEST_LINES = 15
SUBJECT_CHARS = 70


@dataclass(frozen=True)
class Notice:
    title: str
    body: str


def _subject(text: str) -> str:
    flat = squash(text)
    return flat if len(flat) <= SUBJECT_CHARS else flat[: SUBJECT_CHARS - 1].rstrip() + "…"


def _case(case_id: str, subject: str) -> str:
    return f"case {case_id}" + (f' "{_subject(subject)}"' if subject.strip() else "")


def _detailed(item: TodoItem) -> list[str]:
    lines = [
        f"- {_case(item.case_id, item.subject)}: {item.label}, by {item.by_when}",
        f"  What to do: {item.action}.",
        f"  Why: {item.why}",
    ]
    if item.url:
        lines.append(f"  {item.url}")
    return lines


def _brief(item: TodoItem) -> list[str]:
    lines = [f"- {_case(item.case_id, item.subject)}: {item.label}, by {item.by_when}"]
    if item.url:
        lines.append(f"  {item.url}")
    return lines


def _due_lines(due: Sequence[TodoItem]) -> list[str]:
    if len(due) <= DETAILED_UP_TO:
        return [line for item in due for line in _detailed(item)]
    lines = [line for item in due[:DIGEST_LINES] for line in _brief(item)]
    if len(due) > DIGEST_LINES:
        lines.append(f"… and {len(due) - DIGEST_LINES} more: run `caselog due` for the list.")
    return lines


def compose(
    account: str,
    events: Sequence[Event],
    due: Sequence[TodoItem],
    cases: Iterable[Case],
    *,
    repair: str = "",
) -> Notice | None:
    """One notice for one account's run, or None when there is nothing new. ``repair``: what
    the sync did about a page it could not read (a selector map it learned), said first."""
    subjects = {c.case_id: c.subject for c in cases}
    news = [e for e in events if e.kind in NEWS]
    if not news and not due and not repair:
        return None
    lines: list[str] = []
    if repair:
        lines += [f"The Case Log changed its pages: {repair}.", ""]
    if due:
        lines.append(f"Needs action ({len(due)}), most urgent first:")
        lines += _due_lines(due)
    if news:
        if lines:
            lines.append("")
        lines.append(f"What changed ({len(news)}):")
        shown = news[:DIGEST_LINES]
        lines += [
            f"- {_case(e.case_id, subjects.get(e.case_id, ''))}: {event_sentence(e)}" for e in shown
        ]
        if len(news) > DIGEST_LINES:
            lines.append(f"… and {len(news) - DIGEST_LINES} more: run `caselog changes`.")
    parts = ["new selector map"] if repair else []
    if due:
        parts.append(
            f"{due[0].label.lower()}: {_subject(due[0].subject) or 'case ' + due[0].case_id}"
            if len(due) == 1
            else f"{len(due)} cases need action"
        )
    if news:
        parts.append(f"{len(news)} change{'s' if len(news) != 1 else ''}")
    body = "\n".join(visible(line, one_line=True) for line in lines)
    return Notice(visible(f"caselog {account}: {', '.join(parts)}", one_line=True), body)


def digest(items: Sequence[TodoItem]) -> Notice | None:
    """The daily digest of everything due, across accounts; None when nothing is."""
    if not items:
        return None
    lines: list[str] = []
    accounts = list(dict.fromkeys(i.account for i in items))
    for account in accounts:
        mine = [i for i in items if i.account == account]
        lines.append(f"{account} ({len(mine)}):")
        lines += _due_lines(mine)
    body = "\n".join(visible(line, one_line=True) for line in lines)
    n = len(items)
    return Notice(f"caselog daily digest: {n} item{'s' if n != 1 else ''} need action", body)


def sent_notice(
    account: str, entry: OutboxEntry, subject: str, url: str, zone: ZoneInfo, what: str
) -> Notice:
    """What the autopilot of ``caselog watch`` sent (one notice per message): to which case,
    when, the outbox entry that records it, and the message itself."""
    lines = [
        f"The autopilot ([contact] auto_send) sent {what} to {_case(entry.case_id, subject)} "
        f"at {local_time(entry.sent_at or entry.created_at, zone)} (outbox entry "
        f"{entry.entry_id}; `caselog outbox` lists it).",
    ]
    if url:
        lines.append(url)
    lines += ["", *entry.body.rstrip("\n").splitlines()]
    body = "\n".join(visible(line, one_line=True) for line in lines)
    title = f"caselog {account}: sent {what} to case {entry.case_id}"
    return Notice(visible(title, one_line=True), body)


def target_name(url: str) -> str:
    """``url`` as apprise shows it with its secrets masked, without its options."""
    import apprise

    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return url.split("://", 1)[0] + "://… (not a URL apprise knows)"
    return str(plugin.url(privacy=True)).split("?", 1)[0]


class _Complaints(logging.Handler):
    """What apprise says went wrong while it sends (its WARNING and ERROR lines)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


class Notifier:
    """Sends notices to the configured apprise URLs."""

    def __init__(self, urls: Sequence[str], journal: NotifyJournal | None = None) -> None:
        self.urls = list(urls)
        self.journal = journal

    def send(self, notice: Notice) -> bool:
        """Deliver ``notice`` to every URL; True only when there is a target and every target
        accepted it (so nothing is marked notified that nobody received)."""
        if not self.urls:
            return False
        return all([self._send_one(url, notice) for url in self.urls])

    def _send_one(self, url: str, notice: Notice) -> bool:
        import apprise

        sender = apprise.Apprise()
        complaints = _Complaints()
        apprise_log = logging.getLogger("apprise")
        apprise_log.addHandler(complaints)
        try:
            ok = bool(sender.add(url)) and bool(sender.notify(title=notice.title, body=notice.body))
        finally:
            apprise_log.removeHandler(complaints)
        if self.journal is not None:
            why = complaints.lines[-1] if complaints.lines else "apprise refused the URL"
            self.journal.record(target_name(url), ok, "" if ok else visible(why, one_line=True))
        return ok
