"""Reminders through apprise URLs (desktop, e-mail, chat webhooks): batched per run, and
only for what is newly changed or newly due; nothing is said twice."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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


class Notifier:
    """Sends notices to the configured apprise URLs; an empty list sends nothing."""

    def __init__(self, urls: Sequence[str]) -> None:
        self.urls = list(urls)

    def send(self, notice: Notice) -> bool:
        """Deliver ``notice`` to every URL; True when all accepted it (or there are none)."""
        if not self.urls:
            return True
        import apprise

        sender = apprise.Apprise()
        for url in self.urls:
            sender.add(url)
        return bool(sender.notify(title=notice.title, body=notice.body))
