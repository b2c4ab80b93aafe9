"""HTML report, without a browser: escaping, embedded data, CSP hashes, charts."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest

from agent.core.models import (
    Case,
    CaseStatus,
    Direction,
    Event,
    EventKind,
    Flag,
    FlagKind,
    Message,
    Severity,
)
from agent.export.archive import AccountArchive
from agent.export.charts import (
    cases_by_category,
    open_by_status,
    response_time_distribution,
    response_times_by_month,
    status_history,
)
from agent.export.facts import AccountBundles, account_bundles, amazon_response_times
from agent.export.to_html import case_html, index_html, script_json, search_text

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "</script><script>alert(2)</script>",
    "'; alert(3); '",
    "<!-- <script>",
    "\u2028\u2029 separators",
    "مرحبا بالعالم",
    "emoji 🚚📦",
]


class Tree(HTMLParser):
    """Every start tag with its attributes, and the text inside <script> and <style>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.raw: dict[str, list[str]] = {"script": [], "style": []}
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in self.raw:
            self._in = tag
            self.raw[tag].append("")

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self.raw[self._in][-1] += data


def parse(page: str) -> Tree:
    tree = Tree()
    tree.feed(page)
    return tree


def sha(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def hostile_account() -> AccountArchive:
    cases, messages, events = [], [], []
    for i, text in enumerate(HOSTILE):
        cid = f"{30_000_000_000 + i}"
        cases.append(
            Case(
                case_id=cid,
                account="acme",
                marketplace=text,
                subject=text,
                status=CaseStatus.PENDING_AMAZON_ACTION,
                status_raw=text,
                created_at=T0 + timedelta(days=i),
                primary_email=text,
                cc=(text,),
                first_seen_at=T0,
                last_seen_at=T0,
            )
        )
        messages.append(
            Message(
                message_id=f"m{i}",
                case_id=cid,
                direction=Direction.FROM_AMAZON,
                sender=text,
                sender_email=text,
                sent_at=T0 + timedelta(days=i, hours=1),
                body=f"{text}\nzanzibar{i}",
                attachments=(text,),
            )
        )
        events.append(
            Event(
                event_id=f"e{i}",
                account="acme",
                case_id=cid,
                kind=EventKind.SUBJECT_CHANGED,
                before=text,
                after={"subject": text},
                detected_at=T0 + timedelta(days=i, hours=2),
                snapshot_id="s",
            )
        )
    flags = [
        Flag(
            flag_id="f",
            account="acme",
            case_id=cases[0].case_id,
            kind=FlagKind.FOLLOW_UP,
            severity=Severity.WARNING,
            due_at=T0 + timedelta(days=3),
            reason=HOSTILE[0],
        )
    ]
    return AccountArchive(
        account="acme",
        timezone="Asia/Shanghai",
        cases=cases,
        messages=messages,
        events=events,
        flags=flags,
    )


def groups() -> list[AccountBundles]:
    return [account_bundles(hostile_account())]


def assert_inert(tree: Tree) -> None:
    names = {t for t, _ in tree.tags}
    assert not names & {"img", "iframe", "object", "embed", "base", "video", "audio", "link"}
    for tag, attrs in tree.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        if tag == "svg":  # our charts and legend swatches only
            assert attrs.get("class") == "chart-svg" or attrs.get("aria-hidden") == "true"


def test_case_pages_escape_everything_from_the_site() -> None:
    for b, text in zip(groups()[0].cases, HOSTILE, strict=True):
        page = case_html(b)
        tree = parse(page)
        assert_inert(tree)
        assert tree.raw["script"] == []
        assert {t for t, _ in tree.tags} <= {
            "html", "head", "meta", "title", "style", "body", "nav", "p", "a", "header", "h1",
            "span", "bdi", "main", "section", "h2", "dl", "dt", "dd", "time", "article", "div",
            "ul", "li", "ol", "footer",
        }  # fmt: skip
        shown = html.escape(text, quote=True)
        assert f"<title>Case {b.case.case_id}: {shown}</title>" in page
        assert f'<div class="body" dir="auto">{shown}\nzanzibar' in page
        assert f"<li><bdi>{shown}</bdi></li>" in page  # attachment
        assert [a["href"] for t, a in tree.tags if t == "a"] == ["../index.html"]


def test_case_page_csp_allows_exactly_its_own_style() -> None:
    page = case_html(groups()[0].cases[0])
    tree = parse(page)
    csp = next(
        a["content"] for t, a in tree.tags if a.get("http-equiv") == "Content-Security-Policy"
    )
    assert csp is not None
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert f"style-src '{sha(tree.raw['style'][0])}'" in csp


def test_case_page_shows_the_thread_oldest_first_in_the_account_timezone() -> None:
    b = groups()[0].cases[1]
    page = case_html(b)
    assert page.count('<article class="msg') == len(b.messages) == 1
    # Sent 2026-03-03 10:00 UTC: 18:00 in Shanghai.
    assert '<time datetime="2026-03-03T10:00:00Z">2026-03-03 18:00 CST</time></header>' in page
    assert '<li class="ev-subject_changed">' in page
    assert '<li class="ev-case_created">' in page


def test_index_embeds_data_that_cannot_close_its_script_element() -> None:
    page = index_html(groups(), generated_at=T0, now=T0 + timedelta(days=30))
    tree = parse(page)
    assert_inert(tree)
    data_block, app = tree.raw["script"]
    assert "</" not in data_block and "<" not in data_block and "\u2028" not in data_block
    data = json.loads(data_block)
    rows = [dict(zip(data["fields"], r, strict=True)) for r in data["rows"]]
    assert sorted(r["subject"] for r in rows) == sorted(HOSTILE)
    assert all(f"zanzibar{i}" in rows[i]["text"] for i in range(len(HOSTILE)))
    csp = next(
        a["content"] for t, a in tree.tags if a.get("http-equiv") == "Content-Security-Policy"
    )
    assert csp is not None
    assert f"script-src '{sha(app)}'" in csp
    assert f"style-src '{sha(tree.raw['style'][0])}'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


@pytest.mark.parametrize(
    "value",
    ["</script>", "<!--", "a & b", "\u2028", {"k": "</SCRIPT >"}, ["<", ">"], 3, None],
)
def test_script_json_round_trips(value: object) -> None:
    text = str(script_json(value))
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == value


def test_search_text_holds_words_of_subjects_and_bodies_once() -> None:
    b = groups()[0].cases[2]
    text = search_text(b)
    assert "zanzibar2" in text.split()
    assert '"><svg' in text.split()
    assert len(text.split()) == len(set(text.split()))


def test_status_history_and_response_times() -> None:
    c = Case(
        case_id="40000000001",
        account="a",
        subject="s",
        status=CaseStatus.RESOLVED,
        status_raw="Resolved",
        created_at=T0,
        last_updated_at=T0 + timedelta(days=9),
        first_seen_at=T0,
        last_seen_at=T0,
    )
    acc = AccountArchive(account="a", timezone="UTC", cases=[c], messages=[], events=[], flags=[])
    b = account_bundles(acc).cases[0]
    # No recorded change: unknown until the last update, resolved since.
    assert status_history(b) == [
        (T0, CaseStatus.UNKNOWN),
        (T0 + timedelta(days=9), CaseStatus.RESOLVED),
    ]
    ev = [
        Event(
            event_id=f"e{i}",
            account="a",
            case_id=c.case_id,
            kind=EventKind.STATUS_CHANGED,
            before=before,
            after=after,
            detected_at=T0 + timedelta(days=i + 1),
            snapshot_id="s",
        )
        for i, (before, after) in enumerate(
            [("Pending Amazon Action", "NEEDS_YOUR_ATTENTION"), ({"status": "OPEN"}, "RESOLVED")]
        )
    ]
    b2 = account_bundles(acc.model_copy(update={"events": ev})).cases[0]
    assert status_history(b2) == [
        (T0, CaseStatus.PENDING_AMAZON_ACTION),
        (T0 + timedelta(days=1), CaseStatus.NEEDS_YOUR_ATTENTION),
        (T0 + timedelta(days=2), CaseStatus.RESOLVED),
    ]
    S, A = Direction.FROM_SELLER, Direction.FROM_AMAZON
    thread = [
        Message(
            message_id=str(i),
            case_id=c.case_id,
            direction=d,
            sender="x",
            sent_at=T0 + timedelta(hours=h),
            body="b",
        )
        for i, (d, h) in enumerate([(S, 0), (S, 5), (A, 10), (A, 11), (S, 20), (A, 44), (S, 50)])
    ]
    assert amazon_response_times(thread) == [(T0, 10.0), (T0 + timedelta(hours=20), 24.0)]


def bars(svg: str) -> int:
    return len(re.findall(r'<rect class="bar"', svg))


def test_charts_draw_bars_for_data_and_say_so_when_empty() -> None:
    g = groups()
    assert bars(open_by_status(g, until=T0 + timedelta(days=30))) > 0
    assert bars(cases_by_category(g)) > 0
    empty = [
        account_bundles(
            AccountArchive(account="e", timezone="UTC", cases=[], messages=[], events=[], flags=[])
        )
    ]
    for svg in (
        open_by_status(empty, until=T0),
        response_times_by_month(empty),
        response_time_distribution(empty),
        cases_by_category(empty),
    ):
        assert 'class="chart-svg"' in svg and bars(svg) == 0
        assert "No " in svg


def test_open_cases_chart_counts_by_status_at_each_period() -> None:
    acc = hostile_account()
    svg = open_by_status([account_bundles(acc)], until=T0 + timedelta(days=12))
    # Daily bars: the n-th day has n+1 pending cases (one created per day, none closed).
    tips = re.findall(r"<title>([^<]*)</title>", svg)
    assert "03-02: 1 Pending Amazon Action" in tips
    assert "03-10: 9 Pending Amazon Action" in tips
    assert "03-14: 9 Pending Amazon Action" in tips
