"""Reminders through apprise URLs (desktop, e-mail, chat webhooks): batched per run, and
only for what is newly changed or newly due; nothing is said twice.

Each URL is sent to on its own, so that a target that is down is known by name: with a
:class:`~agent.app.journal.NotifyJournal`, each target's last success and last failure (with
apprise's reason) are kept for ``caselog status``. Targets are named as apprise shows them
with their secrets masked (:func:`target_name`), never by the URL itself.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from agent.app.journal import NotifyJournal
from agent.core.models import Case, Event, EventKind, Flag
from agent.core.text import visible

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


@dataclass(frozen=True)
class Notice:
    title: str
    body: str


def describe_event(event: Event, subject: str) -> str:
    case = f"case {event.case_id}" + (f" ({subject})" if subject else "")
    kind = event.kind
    if kind is EventKind.STATUS_CHANGED:
        before = event.before.get("status") if isinstance(event.before, dict) else event.before
        after = event.after.get("status") if isinstance(event.after, dict) else event.after
        return f"{case}: status {before} -> {after}"
    if kind is EventKind.MESSAGE_FROM_AMAZON:
        excerpt = event.after.get("excerpt", "") if isinstance(event.after, dict) else ""
        return f"{case}: Amazon wrote: {excerpt}"
    return f"{case}: {kind.value.replace('_', ' ')}"


def compose(
    account: str,
    events: Sequence[Event],
    due: Sequence[Flag],
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
        lines.append(f"The Case Log changed its pages: {repair}.")
    if due:
        lines.append(f"Needs action ({len(due)}):")
        lines += [f"- case {f.case_id}: {f.reason}" for f in due]
    if news:
        lines.append(f"What changed ({len(news)}):")
        lines += [f"- {describe_event(e, subjects.get(e.case_id, ''))}" for e in news]
    parts = ["new selector map"] if repair else []
    if due:
        parts.append(f"{len(due)} need action")
    if news:
        parts.append(f"{len(news)} change(s)")
    body = "\n".join(visible(line, one_line=True) for line in lines)
    return Notice(f"caselog {account}: {', '.join(parts)}", body)


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
    """Sends notices to the configured apprise URLs; an empty list sends nothing."""

    def __init__(self, urls: Sequence[str], journal: NotifyJournal | None = None) -> None:
        self.urls = list(urls)
        self.journal = journal

    def send(self, notice: Notice) -> bool:
        """Deliver ``notice`` to every URL; True when all accepted it (or there are none)."""
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
