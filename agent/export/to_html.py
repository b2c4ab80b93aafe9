"""The HTML report: a static site that opens from disk, with no network and no library.

``html/index.html``: summary charts (inline SVG from :mod:`agent.export.charts`) and a table
of every case, drawn by a small inline script from data embedded as JSON in a
``<script type="application/json">`` block (sortable, filterable by status, category and
account, paged so 10,000 cases stay fast), with full-text search over subjects and message
bodies (each case carries the distinct lower-cased words of its subject and messages).
``html/cases/<case_id>.html``: one page per case with the whole thread and its timeline.

Safety: every text that came from Seller Central goes through Jinja2 autoescaping on the
pages, or through ``textContent`` in the script; the embedded JSON has ``<``, ``>``, ``&``
and U+2028/2029 escaped so nothing in it can close the script element. Each page carries a
Content-Security-Policy that allows only our own script and style, by SHA-256 hash: even a
markup injection that slipped through could not run.

A case page depends on its case alone, so a re-export only rewrites the pages of changed cases.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import orjson
from markupsafe import Markup

from agent.core.labels import STATUS_LABELS, flag_label, marketplace_name
from agent.core.models import CaseStatus, Direction, Event
from agent.core.present import event_sentence
from agent.core.times import iso_utc, local_time
from agent.export import charts as export_charts
from agent.export.facts import (
    AccountBundles,
    CaseBundle,
    active_flags,
    category_order,
    days_waiting,
)
from agent.export.today import Today

__all__ = ["case_html", "index_html", "linkify", "script_json", "search_text"]

CHANGED_CASES_SHOWN = 100
_URL = re.compile(r"""\bhttps?://[^\s<>"'`]+""", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""


def linkify(text: str) -> str:
    """``text`` escaped for HTML, with each http(s) address made a link that opens apart and
    sends no referrer (``rel="noopener noreferrer"``). Any other scheme stays text."""
    if "://" not in text:  # most messages: no address at all
        return html.escape(text, quote=True)
    out: list[str] = []
    pos = 0
    for m in _URL.finditer(text):
        url = m.group().rstrip(_TRAILING)
        end = m.start() + len(url)
        out.append(html.escape(text[pos : m.start()], quote=True))
        href = html.escape(url, quote=True)
        out.append(f'<a href="{href}" rel="noopener noreferrer" target="_blank">{href}</a>')
        pos = end
    out.append(html.escape(text[pos:], quote=True))
    return "".join(out)


LONG_BODY = 4000  # characters; longer bodies scroll inside their own box


@cache
def _asset(name: str) -> str:
    return resources.files("agent.export").joinpath("templates", "html", name).read_text("utf-8")


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("agent.export", "templates/html"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def script_json(data: Any) -> Markup:
    """JSON safe to embed in ``<script type="application/json">``: ``</script>`` cannot occur."""
    raw = orjson.dumps(data)
    for char, esc in (
        (b"<", b"\\u003c"),
        (b">", b"\\u003e"),
        (b"&", b"\\u0026"),
        ("\u2028".encode(), b"\\u2028"),
        ("\u2029".encode(), b"\\u2029"),
    ):
        raw = raw.replace(char, esc)
    return Markup(raw.decode())


def search_text(b: CaseBundle) -> str:
    """The distinct lower-cased words of a case's subject, messages, senders and attachments.

    Words are split on whitespace only and keep their punctuation ("order," or
    "112-1234567-8"): the page matches each query term as a substring, so both "order"
    and "1234567" still find them.
    """
    parts = [b.case.subject, b.case.status_raw]
    for m in b.messages:
        parts += [m.sender, m.body, *m.attachments]
    return " ".join(dict.fromkeys("\n".join(parts).lower().split()))


def _status_text(b: CaseBundle) -> str:
    """The status as the seller reads it: our label (Amazon's own wording is in the title)."""
    return STATUS_LABELS[b.case.status]


# --------------------------------------------------------------------------- case pages


def _e(value: object) -> str:
    """Escape text for HTML element content and double-quoted attributes."""
    return html.escape(str(value), quote=True)


def _time(value: datetime | None, tz: ZoneInfo) -> str:
    return f'<time datetime="{iso_utc(value)}">{_e(local_time(value, tz))}</time>'


@cache
def _case_head() -> tuple[str, str]:
    css = _asset("base.css") + _asset("case.css")
    csp = (
        f"default-src 'none'; style-src '{_sha256(css)}'; img-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )
    return csp, css


def case_html(b: CaseBundle) -> str:
    """One case page: summary, the whole thread oldest first, flags, and the timeline.

    Written directly rather than through Jinja2 (10,000 pages must render in seconds):
    every value passes through :func:`_e`, and every attribute is double-quoted.
    """
    c, tz = b.case, b.tz
    csp, css = _case_head()
    status = _e(_status_text(b))
    out = [
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Case {_e(c.case_id)}: {_e(c.subject)}</title>\n<style>{css}</style>\n"
        '</head>\n<body class="case-page">\n'
        '<nav class="top"><p><a href="../index.html">&larr; All cases</a></p></nav>\n'
        '<header class="top">\n'
        f'<h1 id="case-title"><span class="case-id">Case {_e(c.case_id)}</span>: '
        f'<bdi class="subject" dir="auto">{_e(c.subject)}</bdi></h1>\n'
        f'<p><span class="badge s-{c.status.value}" title="{_e(c.status_raw)}">{status}</span>'
    ]
    if b.since is not None:
        out.append(
            f' <span class="turn">{_e(b.turn.label)}\'s turn since {_time(b.since, tz)}</span>'
        )
    if b.url:
        out.append(
            f' <a class="sc-link" href="{_e(b.url)}" rel="noopener noreferrer" '
            'target="_blank">Open on Seller Central</a>'
        )
    out.append(
        '</p>\n</header>\n<main>\n<section aria-labelledby="h-summary">\n'
        '<h2 id="h-summary">Summary</h2>\n<dl class="facts">\n'
    )
    facts = [
        ("Account", _e(c.account)),
        ("Marketplace", _e(marketplace_name(c.marketplace))),
        ("Status", status),
        ("Category", _e(b.category)),
        ("Created", _time(c.created_at, tz)),
        ("Last updated", c.last_updated_at and _time(c.last_updated_at, tz)),
        ("Last Amazon reply", c.last_amazon_reply_at and _time(c.last_amazon_reply_at, tz)),
        ("Primary e-mail", _e(c.primary_email)),
        ("CC", _e(", ".join(c.cc))),
        ("First seen", _time(c.first_seen_at, tz)),
        ("Last seen", _time(c.last_seen_at, tz)),
    ]
    out += [f'<dt>{k}</dt><dd dir="auto">{v}</dd>\n' for k, v in facts if v]
    n = len(b.messages)
    out.append(
        '</dl>\n</section>\n<section class="thread" aria-labelledby="h-thread">\n'
        f'<h2 id="h-thread">Thread: {n} message{"" if n == 1 else "s"}, oldest first</h2>\n'
    )
    if not n:
        out.append('<p class="muted">No messages recorded.</p>\n')
    for i, m in enumerate(b.messages, 1):
        amazon = m.direction is Direction.FROM_AMAZON
        email = (
            f' <span class="email">&lt;{_e(m.sender_email)}&gt;</span>' if m.sender_email else ""
        )
        long = " long" if len(m.body) > LONG_BODY else ""
        out.append(
            f'<article class="msg {m.direction.value}" id="m{i}">\n<header>'
            f'<span class="dir">{"From Amazon" if amazon else "From you"}</span> '
            f'<bdi class="sender">{_e(m.sender)}</bdi>{email} {_time(m.sent_at, tz)}</header>\n'
            f'<div class="body{long}" dir="auto">{linkify(m.body)}</div>\n'
        )
        if m.attachments:
            items = "".join(f"<li><bdi>{_e(a)}</bdi></li>" for a in m.attachments)
            out.append(f'<ul class="attachments" aria-label="Attachments">{items}</ul>\n')
        out.append("</article>\n")
    out.append('</section>\n<section aria-labelledby="h-flags">\n<h2 id="h-flags">Flags</h2>\n')
    if b.flags:
        out.append('<ul class="flags">\n')
        for f in b.flags:
            state = f.state.value
            if f.snoozed_until:
                state += f" until {local_time(f.snoozed_until, tz)}"
            out.append(
                f'<li><span class="sev-{f.severity.value}">{flag_label(f.kind)}</span> '
                f"({f.severity.value}, {_e(state)}), due {_time(f.due_at, tz)}: "
                f'<bdi dir="auto">{_e(f.reason)}</bdi></li>\n'
            )
        out.append("</ul>\n")
    else:
        out.append('<p class="muted">None.</p>\n')
    out.append(
        '</section>\n<section aria-labelledby="h-timeline">\n'
        '<h2 id="h-timeline">Timeline</h2>\n<ol class="timeline">\n'
        f'<li class="ev-case_created">{_time(c.created_at, tz)}'
        '<span class="what">Case created</span></li>\n'
    )
    for e in b.events:
        out.append(
            f'<li class="ev-{e.kind.value}">{_time(e.detected_at, tz)}'
            f'<bdi class="what" dir="auto">{_e(event_sentence(e))}</bdi></li>\n'
        )
    out.append(
        "</ol>\n</section>\n</main>\n"
        f"<footer>Exported by caselog-agent. Times in {_e(tz.key)}. This page was written "
        "from the seller's own records; nothing on it loads from the network.</footer>\n"
        "</body>\n</html>\n"
    )
    return "".join(out)


# --------------------------------------------------------------------------- index page

FIELDS = (
    "id", "account", "subject", "status", "statusText", "category", "created", "createdText",
    "reply", "replyText", "turn", "days", "flags", "msgs", "text",
)  # fmt: skip


def _row(b: CaseBundle, now: datetime) -> list[Any]:
    c, tz = b.case, b.tz
    reply = c.last_amazon_reply_at
    return [
        c.case_id,
        c.account,
        c.subject,
        c.status.value,
        _status_text(b),
        b.category,
        int(c.created_at.timestamp()),
        local_time(c.created_at, tz),
        None if reply is None else int(reply.timestamp()),
        local_time(reply, tz),
        b.turn.label,
        days_waiting(b.since, now),
        ", ".join(flag_label(f.kind) for f in active_flags(b.flags, now) if f.due_at <= now),
        len(b.messages),
        search_text(b),
    ]


def _charts(groups: Sequence[AccountBundles], generated_at: datetime) -> list[dict[str, Any]]:
    tzname = export_charts.chart_timezone(groups).key
    times = export_charts.all_response_times(groups)
    return [
        {
            "name": "open-by-status",
            "title": "Open cases by status over time",
            "svg": export_charts.open_by_status(groups, until=generated_at),
            "note": "Cases in an open status (Open, Pending Amazon Action, Needs Your "
            "Attention, Work in progress, Transferred, Reopened) at the end of each period, by "
            f"the status they had then (periods in {tzname}); Answered is not open. "
            + export_charts.status_coverage_note(groups),
        },
        {
            "name": "response-by-month",
            "title": "Amazon's response time, median per month",
            "svg": export_charts.response_times_by_month(groups, times),
            "note": "Hours from your message to Amazon's next answer, by the month you wrote.",
        },
        {
            "name": "response-distribution",
            "title": "Amazon's response times",
            "svg": export_charts.response_time_distribution(groups, times),
            "note": "How many of Amazon's answers came within each delay.",
        },
        {
            "name": "by-category",
            "title": "Cases by category",
            "svg": export_charts.cases_by_category(groups),
            "note": "Guessed from keywords in the subject.",
        },
    ]


def _today(groups: Sequence[AccountBundles], today: Today) -> list[dict[str, Any]]:
    known = {(g.account, b.case.case_id) for g in groups for b in g.cases}
    out = []
    for entry in today.due:
        i = entry.item
        out.append(
            {
                "item": i,
                "page": f"cases/{i.case_id}.html" if (i.account, i.case_id) in known else "",
                "due_iso": iso_utc(i.due_at),
                "draft": entry.draft,
            }
        )
    return out


def _changed(groups: Sequence[AccountBundles], since: datetime | None) -> dict[str, Any]:
    """The cases with events detected after ``since``, the newest first, as sentences."""
    if since is None:
        return {"since": None, "cases": [], "more": 0, "events": 0}
    found: list[tuple[datetime, CaseBundle, list[Event]]] = []
    for g in groups:
        for b in g.cases:
            recent = [e for e in b.events if e.detected_at > since]
            if recent:
                found.append((recent[-1].detected_at, b, recent))
    found.sort(key=lambda t: (t[0], t[1].case.case_id), reverse=True)
    tz = export_charts.chart_timezone(groups)
    shown = [
        {
            "case": b.case,
            "events": [
                {"iso": iso_utc(e.detected_at), "when": local_time(e.detected_at, b.tz),
                 "text": event_sentence(e)}
                for e in events
            ],
        }
        for _, b, events in found[:CHANGED_CASES_SHOWN]
    ]  # fmt: skip
    return {
        "since": {"iso": iso_utc(since), "local": local_time(since, tz)},
        "cases": shown,
        "more": max(0, len(found) - CHANGED_CASES_SHOWN),
        "events": sum(len(t[2]) for t in found),
    }


def index_html(
    groups: Sequence[AccountBundles],
    *,
    generated_at: datetime,
    now: datetime,
    today: Today | None = None,
) -> str:
    """The index page: Today (what to do, why, by when, with drafts), what changed since the
    last export, the charts, then the case table with its embedded data and script."""
    today = today or Today()
    cases = [b for g in groups for b in g.cases]
    status_n = Counter(b.case.status for b in cases)
    cat_n = Counter(b.category for b in cases)
    tz = export_charts.chart_timezone(groups)
    css = _asset("base.css") + _asset("index.css")
    script = _asset("app.js")
    data = {"fields": FIELDS, "rows": [_row(b, now) for b in cases]}
    return (
        _env()
        .get_template("index.html.j2")
        .render(
            total=len(cases),
            accounts=[{"account": g.account, "count": len(g.cases)} for g in groups],
            generated_iso=iso_utc(generated_at),
            generated_local=local_time(generated_at, tz),
            now_iso=iso_utc(now),
            now_local=local_time(now, tz),
            charts=_charts(groups, generated_at),
            today=_today(groups, today),
            drafts_up_to=today.drafts_up_to,
            changed=_changed(groups, today.changes_since),
            statuses=[
                {"value": s.value, "label": STATUS_LABELS[s], "count": status_n[s]}
                for s in CaseStatus
                if status_n[s]
            ],
            categories=[
                {"value": c, "count": cat_n[c]} for c in category_order(groups) if cat_n[c]
            ],
            data=script_json(data),
            css=Markup(css),
            script=Markup(script),
            style_hash=_sha256(css),
            script_hash=_sha256(script),
        )
    )
