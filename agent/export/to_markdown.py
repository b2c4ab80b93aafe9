"""Markdown archive: ``md/index.md`` and one ``md/<case_id>.md`` per case.

Everything that came from the site goes through :func:`md_inline` or :func:`md_lines`, which
backslash-escape Markdown syntax and HTML so a hostile subject or body shows literally: no
link, image, raw HTML, heading, list or table break, and no bare-URL or e-mail autolink
(GitHub-flavoured Markdown links ``www.``/``scheme://``/``a@b`` text on its own; the escapes
break those patterns without changing the text a reader sees).

A case file depends on its case alone (never on ``now``), so a re-export leaves it unchanged
unless the case changed. Times are shown in the account's timezone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

from agent.core.labels import STATUS_LABELS, flag_label, marketplace_name
from agent.core.models import Direction
from agent.core.present import event_sentence
from agent.core.text import squash, visible
from agent.core.times import iso_utc, local_time
from agent.export.facts import (
    AccountBundles,
    CaseBundle,
    active_flags,
    days_waiting,
)
from agent.export.today import Today

__all__ = ["case_md", "index_md", "md_inline", "md_lines"]

# Characters with meaning anywhere in a line (CommonMark, GFM tables/strikethrough/math), and
# "@" so that "user@host" is never an e-mail autolink.
_ANYWHERE = str.maketrans({c: "\\" + c for c in "\\`*_[]<>&|~#$!@"})
# The other autolink triggers: "scheme://" and "www.".
_WWW = re.compile(r"(?<![^\W_])([wW]{3})\.")
# Block syntax at the start of a line: list bullets, setext underlines, ordered lists.
_LINE_START = re.compile(r"^([ \t]*)([-+=]|\d{1,9}(?=[.)]))")


def _escape(text: str) -> str:
    text = visible(text).translate(_ANYWHERE)  # controls as visible escapes, then Markdown
    if "://" in text:
        text = text.replace("://", "\\://")
    if "w." in text or "W." in text:
        text = _WWW.sub(r"\1\\.", text)
    return text


def _line_start(line: str) -> str:
    """Escape block syntax at the start of an already escaped line."""
    first = line.lstrip(" \t")[:1]
    if first and first in "-+=0123456789":
        m = _LINE_START.match(line)
        if m:
            lead, token = m.group(1), m.group(2)
            rest = line[m.end() :]
            if token.isdigit():  # "1." / "1)" -> "1\." / "1\)"
                return f"{lead}{token}\\{rest}"
            return f"{lead}\\{token}{rest}"
    return line


@lru_cache(maxsize=8192)  # senders, accounts, statuses repeat across thousands of cases
def md_inline(text: str) -> str:
    """Escape ``text`` for one line of Markdown (a heading, list item or table cell)."""
    return _line_start(_escape(squash(text)))


def md_lines(text: str, prefix: str = "") -> str:
    """Escape a multi-line body; line breaks kept (hard breaks), blank lines as paragraphs."""
    text = _escape(text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [line.rstrip() for line in text.split("\n")]
    out: list[str] = []
    last = len(lines) - 1
    for i, line in enumerate(lines):
        if not line:
            out.append(prefix.rstrip())
            continue
        line = _line_start(line)
        if i < last and lines[i + 1]:
            line += "\\"  # CommonMark hard line break
        out.append(prefix + line)
    return "\n".join(out)


@lru_cache(maxsize=8192)
def _code(text: str) -> str:
    """A code span: shown literally, never linked. Used for IDs and e-mail addresses."""
    text = visible(squash(text))
    if not text:
        return ""
    if "`" not in text:
        return f"`{text}`"
    longest = max((len(r) for r in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _status(b: CaseBundle) -> str:
    return md_inline(STATUS_LABELS[b.case.status])


def case_md(b: CaseBundle) -> str:
    """One case: summary, thread (oldest first), flags and the events timeline."""
    c, tz = b.case, b.tz
    lines = [f"# Case {c.case_id}: {md_inline(c.subject)}", ""]
    facts = [
        ("Status", _status(b)),
        ("Account", md_inline(c.account)),
        ("Marketplace", md_inline(marketplace_name(c.marketplace))),
        ("Seller Central", f"<{md_inline(b.url)}>" if b.url else ""),
        ("Category", b.category),
        ("Created", local_time(c.created_at, tz)),
        ("Last updated", local_time(c.last_updated_at, tz)),
        ("Last Amazon reply", local_time(c.last_amazon_reply_at, tz)),
        ("Primary e-mail", _code(c.primary_email)),
        ("CC", ", ".join(_code(x) for x in c.cc)),
        (
            "Whose turn",
            f"{b.turn.label}, since {local_time(b.since, tz)}" if b.since else "nobody's",
        ),
        ("First seen", local_time(c.first_seen_at, tz)),
        ("Last seen", local_time(c.last_seen_at, tz)),
    ]
    lines += [f"- **{k}:** {v}" for k, v in facts if v]
    lines += ["", f"## Thread ({len(b.messages)} messages, oldest first)", ""]
    if not b.messages:
        lines += ["No messages recorded.", ""]
    for n, m in enumerate(b.messages, 1):
        who = "From Amazon" if m.direction is Direction.FROM_AMAZON else "From you"
        sender = md_inline(m.sender)
        if m.sender_email:
            sender += f" {_code(m.sender_email)}"
        lines += [f"### {n}. {who}: {sender}, {local_time(m.sent_at, tz)}", ""]
        lines += [md_lines(m.body, prefix="> ") if m.body.strip() else "> (empty)", ""]
        if m.attachments:
            lines += ["Attachments: " + ", ".join(_code(a) for a in m.attachments), ""]
    lines += ["## Flags", ""]
    if not b.flags:
        lines.append("None.")
    for f in b.flags:
        state = f.state.value
        if f.snoozed_until:
            state += f" until {local_time(f.snoozed_until, tz)}"
        lines.append(
            f"- **{flag_label(f.kind)}** ({f.severity.value}, {state}), due "
            f"{local_time(f.due_at, tz)}: {md_inline(f.reason)}"
        )
    lines += ["", "## Events", ""]
    if not b.events:
        lines.append("None recorded.")
    for e in b.events:
        lines.append(f"- {local_time(e.detected_at, tz)}: {md_inline(event_sentence(e))}")
    lines.append("")
    return "\n".join(lines)


def _today_md(today: Today) -> list[str]:
    n = len(today.due)
    lines = [f"## Today: {n} thing{'s' if n != 1 else ''} to do", ""]
    if not n:
        return [*lines, "Nothing needs action.", ""]
    for k, entry in enumerate(today.due, 1):
        i = entry.item
        case = f"[case {i.case_id}]({i.case_id}.md)"
        lines.append(
            f"{k}. **{i.label}**: {case} {md_inline(i.subject)} ({md_inline(i.account)}). "
            f"{md_inline(i.action)}, by {md_inline(i.by_when)}. Why: {md_inline(i.why)}"
            + (f" <{md_inline(i.url)}>" if i.url else "")
        )
    return [*lines, ""]


def index_md(
    groups: Sequence[AccountBundles],
    *,
    generated_at: datetime,
    now: datetime,
    today: Today | None = None,
) -> str:
    """Today's to-do, then the list of every case, one table per account, linking to the
    case files."""
    total = sum(len(a.cases) for a in groups)
    lines = [
        "# Case archive",
        "",
        f"{total} cases. Data as of {iso_utc(generated_at)}; days waiting counted to "
        f"{iso_utc(now)}. Times in each account's timezone.",
        "",
        *_today_md(today or Today()),
    ]
    for acc in groups:
        lines += [
            f"## {md_inline(acc.account)} ({md_inline(acc.timezone)}), {len(acc.cases)} cases",
            "",
        ]
        if not acc.cases:
            lines += ["No cases.", ""]
            continue
        lines += [
            "| Case | Status | Subject | Created | Last Amazon reply | Whose turn "
            "| Days waiting | Due now |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for b in acc.cases:
            c = b.case
            waiting = days_waiting(b.since, now)
            flags = ", ".join(
                flag_label(f.kind) for f in active_flags(b.flags, now) if f.due_at <= now
            )
            cells = [
                f"[{c.case_id}]({c.case_id}.md)",
                _status(b),
                md_inline(c.subject),
                local_time(c.created_at, b.tz),
                local_time(c.last_amazon_reply_at, b.tz),
                b.turn.label,
                "" if waiting is None else str(waiting),
                flags,
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)
