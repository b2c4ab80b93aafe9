"""Markdown archive: hostile text shows literally (no link, no HTML), threads and timelines."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from markdown_it import MarkdownIt

from agent.core.models import Case, CaseStatus, Direction, Event, EventKind, Message
from agent.export.archive import AccountArchive
from agent.export.facts import account_bundles
from agent.export.to_markdown import case_md, index_md, md_inline, md_lines

T0 = datetime(2026, 11, 21, 16, 35, tzinfo=UTC)

# CommonMark with raw HTML on, plus the GFM table and strikethrough rules.
MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "[click me](javascript:alert(1))",
    "![pixel](http://evil.example/p.png)",
    "<http://evil.example>",
    "[ref]: http://evil.example",
    "**bold** _it_ ~~gone~~ `code`",
    "# not a heading",
    "- not a list",
    "+ not a list either",
    "1. not ordered",
    "2) not ordered",
    "> not a quote",
    "| not | a | table |",
    "&lt;b&gt; stays as typed &amp;",
    "a\\b\\\\c",
    "<!-- hidden -->",
    "back`tick``s",
    "$x^2$ and $$y$$",
    "مرحبا <b>بالعالم</b>",
    "emoji 🚚 📦",
    "===",
    "---",
    "    four spaces",
]

AUTOLINKS = [
    "https://evil.example/x?a=1",
    "see www.evil.example now",
    "mail x@evil.example",
    "HTTP://EVIL.EXAMPLE",
]


def text_of(rendered: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", rendered))


def tags_of(rendered: str) -> set[str]:
    return {t.lower() for t in re.findall(r"<\s*([a-zA-Z][a-zA-Z0-9]*)", rendered)}


@pytest.mark.parametrize("value", HOSTILE + AUTOLINKS)
def test_inline_text_renders_literally(value: str) -> None:
    rendered = MD.render(md_inline(value))
    assert tags_of(rendered) <= {"p"}, rendered
    assert text_of(rendered).strip() == " ".join(value.split())


@pytest.mark.parametrize("value", HOSTILE)
def test_table_cells_stay_in_their_cell(value: str) -> None:
    table = f"| a | b |\n|---|---|\n| {md_inline(value)} | z |\n"
    rendered = MD.render(table)
    assert tags_of(rendered) <= {"table", "thead", "tbody", "tr", "th", "td"}, rendered
    cells = re.findall(r"<td>(.*?)</td>", rendered, flags=re.S)
    assert [html.unescape(c) for c in cells] == [" ".join(value.split()), "z"]


def test_multi_line_bodies_keep_their_lines_and_render_literally() -> None:
    body = "\n".join(HOSTILE) + "\n\n" + "\n".join(AUTOLINKS) + "\r\nlast line\rafter CR"
    rendered = MD.render(md_lines(body, prefix="> "))
    assert tags_of(rendered) <= {"blockquote", "p", "br"}, rendered
    lines = [ln.strip() for ln in text_of(rendered).splitlines() if ln.strip()]
    expected = [ln.strip() for ln in re.split(r"\r\n|\r|\n", body) if ln.strip()]
    assert lines == expected


@pytest.mark.parametrize("value", AUTOLINKS)
def test_bare_urls_and_addresses_cannot_autolink(value: str) -> None:
    escaped = md_inline(value)
    # GFM's extended autolinks need "scheme://", "www." or "a@b" as plain text.
    assert not re.search(r"(?<!\\)://|(?i:www)(?<!\\)\.|\w(?<!\\)@", escaped)


def case_record(subject: str) -> Case:
    return Case(
        case_id="12345678901",
        account="acme",  # account names are slugs (validated), so nothing to escape
        marketplace="US",
        subject=subject,
        status=CaseStatus.NEEDS_YOUR_ATTENTION,
        status_raw="Requires attention",
        created_at=T0,
        last_amazon_reply_at=T0 + timedelta(days=2),
        primary_email="me@example.com",
        cc=("[x](javascript:1)@example.com",),
        first_seen_at=T0,
        last_seen_at=T0 + timedelta(days=2),
    )


def account(subject: str, bodies: list[str]) -> AccountArchive:
    c = case_record(subject)
    messages = [
        Message(
            message_id=f"m{i}",
            case_id=c.case_id,
            direction=Direction.FROM_SELLER if i % 2 == 0 else Direction.FROM_AMAZON,
            sender="Seller Support [bot](http://x)" if i % 2 else "Me",
            sent_at=T0 + timedelta(days=len(bodies) - i),  # given newest first on purpose
            body=body,
            attachments=("inv<oice>.pdf",) if i == 0 else (),
        )
        for i, body in enumerate(bodies)
    ]
    events = [
        Event(
            event_id="e1",
            account=c.account,
            case_id=c.case_id,
            kind=EventKind.SUBJECT_CHANGED,
            before="old <b>subject</b>",
            after=subject,
            detected_at=T0 + timedelta(days=1),
            snapshot_id="s1",
        ),
        Event(
            event_id="e2",
            account=c.account,
            case_id=c.case_id,
            kind=EventKind.STATUS_CHANGED,
            before="PENDING_AMAZON_ACTION",
            after="NEEDS_YOUR_ATTENTION",
            detected_at=T0 + timedelta(days=2),
            snapshot_id="s2",
        ),
        Event(
            event_id="e3",
            account=c.account,
            case_id=c.case_id,
            kind=EventKind.SUBJECT_CHANGED,
            before="OPEN",
            after=subject,
            detected_at=T0 + timedelta(days=2),
            snapshot_id="s2",
        ),
        Event(
            event_id="e0",
            account=c.account,
            case_id=c.case_id,
            kind=EventKind.CASE_NEW,
            detected_at=T0 + timedelta(minutes=5),
            snapshot_id="s0",
        ),
    ]
    return AccountArchive(
        account=c.account,
        timezone="America/Los_Angeles",
        cases=[c],
        messages=messages,
        events=events,
        flags=[],
    )


def test_case_file_has_summary_thread_oldest_first_and_timeline() -> None:
    bodies = ["third, oldest", "second", "first, newest"]
    text = case_md(account_bundles(account("Refund <script>alert(1)</script>", bodies)).cases[0])
    assert text.startswith("# Case 12345678901: Refund \\<script\\>alert(1)\\</script\\>\n")
    # Oldest first: message 2 was sent first (days=1), message 0 last (days=3).
    order = [text.index(b) for b in ("first, newest", "second", "third, oldest")]
    assert order == sorted(order)
    # Times in the account's timezone (PST in November).
    assert "### 1. From you: Me, 2026-11-22 08:35 PST" in text
    assert "2026-11-21 08:40 PST: First seen" in text
    assert 'Subject changed from "old \\<b\\>subject\\</b\\>" to "Refund \\<script\\>' in text
    assert "Status changed from Pending Amazon Action to Needs Your Attention." in text
    assert 'Subject changed from "OPEN" to "Refund' in text  # a subject is never a status
    # the seller answered Amazon's question: Amazon's turn again, whatever the status label
    assert "**Whose turn:** Amazon, since 2026-11-24 08:35 PST" in text
    rendered = MD.render(text)
    assert tags_of(rendered) <= {
        "h1",
        "h2",
        "h3",
        "ul",
        "li",
        "strong",
        "p",
        "blockquote",
        "br",
        "code",
    }
    assert "<script>" not in rendered and "javascript:" not in re.sub(
        r"<code>.*?</code>", "", rendered
    )


def test_index_links_every_case_and_escapes_subjects() -> None:
    groups = [account_bundles(account("[evil](http://x) | pipe", ["b"]))]
    text = index_md(groups, generated_at=T0, now=T0 + timedelta(days=3))
    assert "[12345678901](12345678901.md)" in text
    rendered = MD.render(text)
    links = re.findall(r'<a href="([^"]*)"', rendered)
    assert links == ["12345678901.md"]
    cells = re.findall(r"<td>(.*?)</td>", rendered)
    assert "[evil](http://x) | pipe" in [html.unescape(c) for c in cells]
