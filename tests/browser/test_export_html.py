"""The exported HTML report, opened from disk in Chromium (``page.goto(path.as_uri())``).

Search finds words that only a message body holds; case pages show the whole thread; the
charts draw; hostile subjects and bodies never run and show literally; nothing is fetched
from the network; 10,000 cases stay a paged table.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Dialog, Page, Request, expect

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
from agent.export.archive import AccountArchive, Archive
from agent.export.facts import account_bundles
from agent.export.render import write_archive
from agent.export.to_html import index_html

pytestmark = pytest.mark.browser

T0 = datetime(2026, 6, 1, 15, 0, tzinfo=UTC)
PWN = "window.__pwned=1;alert(1)"
# Account names are slugs (they name files), so the hostile text is in the records only.
HOSTILE_ACCOUNT = "hostile-test.co"
HOSTILE = [
    "<script>alert(1)</script> Refund request",
    f"<img src=x onerror={PWN}> payment missing",
    f'"><svg onload={PWN}> listing',
    f"</script><script>{PWN}</script>",
    '</div></div><div class="msg">forged card</div>',
    "{{7*7}} ${7*7} <%= 7*7 %> &amp; &lt;b&gt;",
    f'<a href="javascript:{PWN}">click</a>',
    '=HYPERLINK("http://evil.example","click me")',
    "طلب استرداد المبلغ للطلب رقم 113",
    "📦 Package lost 😡 — émojis & ünïcode ✓",
]
BIG_BODY = ("<script>alert('big')</script> " + "y" * 170 + "\n") * 1000  # ~200 KB
BODY_ONLY_WORD = "quetzalcoatlus"
ACTIVE = "img, iframe, object, embed, a[href^=javascript]"  # elements a payload could create
NORMAL_CASES = 250


def hostile_account() -> AccountArchive:
    name = HOSTILE_ACCOUNT
    cases, messages, events = [], [], []
    for i, text in enumerate(HOSTILE):
        cid = f"{31_000_000_000 + i}"
        cases.append(
            Case(
                case_id=cid,
                account=name,
                marketplace=text,
                subject=text,
                status=CaseStatus.NEEDS_YOUR_ATTENTION if i % 2 else CaseStatus.OPEN,
                status_raw=text,
                created_at=T0 + timedelta(days=i),
                last_amazon_reply_at=T0 + timedelta(days=i, hours=5),
                primary_email=text,
                cc=(text,),
                first_seen_at=T0,
                last_seen_at=T0 + timedelta(days=20),
            )
        )
        for j, body in enumerate([text, f"reply to: {text}\n{HOSTILE[(i + 1) % len(HOSTILE)]}"]):
            messages.append(
                Message(
                    message_id=f"{cid}-{j}",
                    case_id=cid,
                    direction=Direction.FROM_SELLER if j == 0 else Direction.FROM_AMAZON,
                    sender=text,
                    sender_email=text,
                    sent_at=T0 + timedelta(days=i, hours=j * 5),
                    body=body,
                    attachments=(text,),
                )
            )
        events.append(
            Event(
                event_id=f"{cid}-e",
                account=name,
                case_id=cid,
                kind=EventKind.SUBJECT_CHANGED,
                before=text,
                after={"subject": text},
                detected_at=T0 + timedelta(days=i, hours=6),
                snapshot_id="s1",
            )
        )
    big = f"{31_000_000_999}"
    cases.append(
        Case(
            case_id=big,
            account=name,
            subject="Huge message (200 KB)",
            status=CaseStatus.ANSWERED,
            status_raw="Answered",
            created_at=T0,
            first_seen_at=T0,
            last_seen_at=T0,
        )
    )
    messages.append(
        Message(
            message_id="big",
            case_id=big,
            direction=Direction.FROM_AMAZON,
            sender="Seller Support",
            sent_at=T0 + timedelta(hours=3),
            body=BIG_BODY,
        )
    )
    flags = [
        Flag(
            flag_id="f1",
            account=name,
            case_id=cases[1].case_id,
            kind=FlagKind.REPLY_DUE,
            severity=Severity.URGENT,
            due_at=T0 + timedelta(days=2),
            reason=HOSTILE[0],
        )
    ]
    return AccountArchive(
        account=name,
        timezone="America/New_York",
        cases=cases,
        messages=messages,
        events=events,
        flags=flags,
    )


STATUSES = [
    CaseStatus.PENDING_AMAZON_ACTION,
    CaseStatus.RESOLVED,
    CaseStatus.NEEDS_YOUR_ATTENTION,
    CaseStatus.WORK_IN_PROGRESS,
    CaseStatus.CLOSED,
]
SUBJECTS = [
    "Disbursement on hold for settlement",
    "Listing suppressed for missing images",
    "FBA inbound shipment received short",
    "Stranded inventory question",
    "Account health warning",
]


def normal_account() -> AccountArchive:
    cases, messages, events = [], [], []
    for i in range(NORMAL_CASES):
        cid = f"{12_000_000_000 + i}"
        status = STATUSES[i % len(STATUSES)]
        created = T0 - timedelta(days=200) + timedelta(days=i * 0.8)
        cases.append(
            Case(
                case_id=cid,
                account="acme",
                subject=f"{SUBJECTS[i % len(SUBJECTS)]} #{i}",
                status=status,
                status_raw=status.value.replace("_", " ").title(),
                created_at=created,
                first_seen_at=created,
                last_seen_at=created,
            )
        )
        bodies = ["Hello, please look into this.", "We are checking.", "Thanks, any news?"]
        if i == 77:
            bodies.append(f"Our note: the {BODY_ONLY_WORD} shipment reference is attached.")
        for j, body in enumerate(bodies):
            messages.append(
                Message(
                    message_id=f"{cid}-{j}",
                    case_id=cid,
                    direction=Direction.FROM_SELLER if j % 2 == 0 else Direction.FROM_AMAZON,
                    sender="Me" if j % 2 == 0 else "Seller Support",
                    sent_at=created + timedelta(hours=6 + j * 20 + i % 7),
                    body=body,
                )
            )
        events.append(
            Event(
                event_id=f"{cid}-e",
                account="acme",
                case_id=cid,
                kind=EventKind.STATUS_CHANGED,
                before="PENDING_AMAZON_ACTION",
                after=status.value,
                detected_at=created + timedelta(days=3),
                snapshot_id="s1",
            )
        )
    return AccountArchive(
        account="acme",
        timezone="America/New_York",
        cases=cases,
        messages=messages,
        events=events,
        flags=[],
    )


@pytest.fixture(scope="module")
def archive() -> Archive:
    return Archive(
        generated_at=T0 + timedelta(days=30), accounts=[hostile_account(), normal_account()]
    )


@pytest.fixture(scope="module")
def site(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export")
    write_archive(archive, out, {"html"}, now=T0 + timedelta(days=31))
    return out / "html"


class Watch:
    """Dialogs, console errors and any request that is not a local file."""

    def __init__(self, page: Page) -> None:
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.remote: list[str] = []
        page.on("dialog", self._dialog)
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("request", self._request)

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, msg: ConsoleMessage) -> None:
        if msg.type in ("error", "warning"):
            self.errors.append(msg.text)

    def _request(self, request: Request) -> None:
        if not request.url.startswith("file://"):
            self.remote.append(request.url)

    def assert_clean(self, page: Page) -> None:
        assert self.dialogs == []
        assert self.errors == []  # also: no CSP violation, so our own hashes are right
        assert self.remote == []
        assert page.evaluate("() => window.__pwned === undefined")


@pytest.fixture
def watched(page: Page) -> Iterator[tuple[Page, Watch]]:
    watch = Watch(page)
    yield page, watch
    watch.assert_clean(page)


def open_index(page: Page, site: Path, fragment: str = "") -> None:
    page.goto((site / "index.html").as_uri() + fragment)
    page.wait_for_selector("body[data-ready='1']")


def row_ids(page: Page) -> list[str]:
    return page.locator("#rows tr td:first-child").all_inner_texts()


def search(page: Page, text: str) -> None:
    page.fill("#q", text)
    page.press("#q", "Enter")


def test_index_opens_from_disk_with_a_paged_table(
    watched: tuple[Page, Watch], site: Path, archive: Archive
) -> None:
    page, _ = watched
    open_index(page, site)
    total = sum(len(a.cases) for a in archive.accounts)
    expect(page.locator("#count")).to_have_text(f"Showing 1–100 of {total} cases.")
    expect(page.locator("#rows tr")).to_have_count(100)
    expect(page.locator("#page")).to_have_text("Page 1 of 3")
    page.click("#next")
    expect(page.locator("#page")).to_have_text("Page 2 of 3")
    page.click("#next")
    expect(page.locator("#rows tr")).to_have_count(total - 200)
    expect(page.locator("#next")).to_be_disabled()


def test_search_finds_a_word_that_only_a_message_body_holds(
    watched: tuple[Page, Watch], site: Path, archive: Archive
) -> None:
    page, _ = watched
    everything = [c.subject for a in archive.accounts for c in a.cases]
    assert not [s for s in everything if BODY_ONLY_WORD in s.lower()]
    open_index(page, site)
    search(page, BODY_ONLY_WORD.upper())
    expect(page.locator("#rows tr")).to_have_count(1)
    assert row_ids(page) == ["12000000077"]
    # the row says where the word is: a snippet of the message words, the match marked
    expect(page.locator("#rows td.subject .snippet mark")).to_have_text(BODY_ONLY_WORD)
    expect(page.locator("#rows td.subject .snippet")).to_contain_text("reference is attached")
    search(page, "quetzal shipment")  # every term must match, prefixes count
    expect(page.locator("#rows tr")).to_have_count(1)
    search(page, "no-such-word-anywhere")
    expect(page.locator("#count")).to_have_text(f"No cases match (of {len(everything)}).")
    search(page, "reference attached")  # two body words, not adjacent
    expect(page.locator("#rows tr")).to_have_count(1)
    page.click("#clear")
    expect(page.locator("#rows tr")).to_have_count(100)


def test_filters_and_sorting(watched: tuple[Page, Watch], site: Path) -> None:
    page, _ = watched
    open_index(page, site)
    page.select_option("#status", "RESOLVED")
    expect(page.locator("#rows tr")).to_have_count(50)
    assert set(page.locator("#rows .badge").all_inner_texts()) == {"Resolved"}
    page.select_option("#status", "open")
    badges = set(page.locator("#rows .badge").all_inner_texts())
    assert badges and not badges & {"Resolved", "Closed"}
    page.select_option("#status", "")
    page.select_option("#category", "payments")
    cats = set(page.locator("#rows td:nth-child(4)").all_inner_texts())
    assert cats == {"payments"}
    page.select_option("#category", "")
    page.select_option("#account", "acme")
    page.click("th[data-key='id'] button")
    expect(page.locator("th[data-key='id']")).to_have_attribute("aria-sort", "ascending")
    assert row_ids(page)[:2] == ["12000000000", "12000000001"]
    page.click("th[data-key='id'] button")
    assert row_ids(page)[0] == "12000000249"
    # The state lives in the URL fragment, so a reload (or Back from a case) keeps it.
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert row_ids(page)[0] == "12000000249"
    expect(page.locator("#account")).to_have_value("acme")


def test_a_case_page_shows_the_whole_thread_and_its_timeline(
    watched: tuple[Page, Watch], site: Path, archive: Archive
) -> None:
    page, _ = watched
    open_index(page, site)
    search(page, "12000000077")
    page.click("a[href='cases/12000000077.html']")
    page.wait_for_url("**/cases/12000000077.html")
    acme = archive.accounts[1]
    thread = sorted(
        (m for m in acme.messages if m.case_id == "12000000077"), key=lambda m: m.sent_at
    )
    assert len(thread) == 4
    expect(page.locator("article.msg")).to_have_count(4)
    assert page.locator("article.msg .body").all_inner_texts() == [m.body for m in thread]
    directions = [
        "From you" if m.direction is Direction.FROM_SELLER else "From Amazon" for m in thread
    ]
    assert page.locator("article.msg .dir").all_inner_texts() == directions
    expect(page.locator("ol.timeline li")).to_have_count(2)  # created + one status change
    expect(page.locator("ol.timeline li").nth(1)).to_contain_text("Status changed")
    page.go_back()
    page.wait_for_selector("body[data-ready='1']")
    assert row_ids(page) == ["12000000077"]


def test_charts_render(watched: tuple[Page, Watch], site: Path) -> None:
    page, _ = watched
    open_index(page, site)
    charts = page.locator("svg.chart-svg")
    expect(charts).to_have_count(4)
    for i in range(4):
        chart = charts.nth(i)
        box = chart.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 80
        bars = chart.locator("rect.bar")
        assert bars.count() > 0, chart.get_attribute("data-chart")
        first = bars.first.bounding_box()
        assert first is not None and first["width"] > 0 and first["height"] > 0


def test_hostile_content_never_runs_and_shows_literally(
    watched: tuple[Page, Watch], site: Path, archive: Archive
) -> None:
    page, _ = watched
    open_index(page, site)
    page.select_option("#account", HOSTILE_ACCOUNT)
    expect(page.locator("#rows tr")).to_have_count(len(HOSTILE) + 1)
    shown = set(page.locator("#rows td.subject").all_inner_texts())
    assert set(HOSTILE) <= shown
    rtl = page.locator("#rows td.subject", has_text="طلب استرداد")
    assert rtl.get_attribute("dir") == "auto"
    assert page.locator(ACTIVE + ", svg[onload]").count() == 0

    hostile = archive.accounts[0]
    for case in hostile.cases[: len(HOSTILE)]:
        page.goto((site / "cases" / f"{case.case_id}.html").as_uri())
        expect(page.locator("h1 .subject")).to_have_text(case.subject)
        assert page.title() == f"Case {case.case_id}: {case.subject}"
        bodies = [
            m.body
            for m in sorted(hostile.messages, key=lambda m: m.sent_at)
            if m.case_id == case.case_id
        ]
        assert page.locator("article.msg .body").all_inner_texts() == bodies
        expect(page.locator("article.msg .sender").first).to_have_text(case.subject)
        expect(page.locator("ul.attachments li").first).to_have_text(case.subject)
        expect(page.locator("ol.timeline li").nth(1)).to_contain_text(case.subject)
        assert page.locator(ACTIVE + ", script, svg").count() == 0
        # "All cases", and http(s) addresses in messages: opened apart, without a referrer
        links = page.locator("a")
        assert links.first.get_attribute("href") == "../index.html"
        for i in range(1, links.count()):
            assert links.nth(i).get_attribute("href").startswith(("http://", "https://"))
            assert links.nth(i).get_attribute("rel") == "noopener noreferrer"

    big = hostile.cases[-1]
    page.goto((site / "cases" / f"{big.case_id}.html").as_uri())
    body = page.locator("article.msg .body")
    assert body.inner_text().rstrip("\n") == BIG_BODY.rstrip("\n")
    assert page.evaluate("() => document.querySelector('.body').textContent.length") == len(
        BIG_BODY
    )


def test_ten_thousand_cases_stay_a_fast_paged_table(
    watched: tuple[Page, Watch], tmp_path: Path
) -> None:
    page, _ = watched
    n = 10_000
    cases = [
        Case.model_construct(
            case_id=f"{50_000_000_000 + i}",
            account="big",
            marketplace="US",
            subject=f"Refund request {i}",
            status=STATUSES[i % 5],
            status_raw=STATUSES[i % 5].value,
            created_at=T0 + timedelta(minutes=i),
            last_updated_at=None,
            last_amazon_reply_at=None,
            primary_email="",
            cc=(),
            message_count=1,
            first_seen_at=T0,
            last_seen_at=T0,
        )
        for i in range(n)
    ]
    messages = [
        Message.model_construct(
            message_id=f"m{i}",
            case_id=c.case_id,
            direction=Direction.FROM_SELLER,
            sender="Me",
            sender_email="",
            sent_at=T0 + timedelta(minutes=i, hours=1),
            body=f"body of case {i} with token{i}x",
            attachments=(),
        )
        for i, c in enumerate(cases)
    ]
    acc = AccountArchive.model_construct(
        account="big", timezone="UTC", cases=cases, messages=messages, events=[], flags=[]
    )
    page_html = index_html([account_bundles(acc)], generated_at=T0, now=T0)
    (tmp_path / "index.html").write_text(page_html, encoding="utf-8")

    started = time.perf_counter()
    open_index(page, tmp_path)
    load_s = time.perf_counter() - started
    expect(page.locator("#count")).to_have_text(f"Showing 1–100 of {n:,} cases.")
    assert page.locator("#rows tr").count() == 100  # paged: 10,000 rows are never all in the DOM
    started = time.perf_counter()
    search(page, "token9876x")
    expect(page.locator("#rows tr")).to_have_count(1)
    search_s = time.perf_counter() - started
    assert row_ids(page) == [f"{50_000_009_876}"]
    # Generous bounds (this machine is shared): a table that rendered every row, or a
    # search that rebuilt the DOM for all cases, would blow through them.
    assert load_s < 10 and search_s < 5, (load_s, search_s)
