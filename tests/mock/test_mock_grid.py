"""The grid Case Log (the 2027 redesign): ARIA grid, chips, <time datetime>, <article> and
<template>, no ids, hashed classes per build; reached per marketplace and switched by admin."""

from __future__ import annotations

import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from caselog_mock import AdminClient, AdminError, MockServer, SellerClient
from caselog_mock.locales import get_locale
from caselog_mock.model import Status
from mocksite import (
    CLASSIC_LOBBY,
    CN,
    GRID_DETAIL,
    GRID_LOBBY,
    HOSTILE_GRID,
    KITCHEN,
    MODERN_LOBBY,
    OUTDOOR,
    UK,
    UNSTABLE_HOOKS,
    US,
    articles,
    by_subject,
    grid_rows,
    in_marketplace,
    recent,
    select_path,
)
from playwright.sync_api import Page, expect

UNAVAILABLE = "The service is currently unavailable. Please try again later."
ZONES = {"en-US": "America/Los_Angeles", "en-GB": "Europe/London", "zh-CN": "Asia/Shanghai"}
HEADERS = {
    "en-US": ["Subject", "Case ID", "Status", "Opened", "Last activity"],
    "en-GB": ["Subject", "Case ID", "Status", "Opened", "Last activity"],
    "zh-CN": ["主题", "问题编号", "状态", "创建于", "最近活动"],
}
CLASS = re.compile(r'class="([^"]*)"')


def local(utc_iso: str, locale: str) -> datetime:
    """A ground-truth UTC time in the locale's zone, computed here (not by the mock)."""
    return datetime.fromisoformat(utc_iso.replace("Z", "+00:00")).astimezone(
        ZoneInfo(ZONES[locale])
    )


def short_day(dt: datetime, locale: str) -> str:
    month = dt.strftime("%b")
    return {
        "en-US": f"{month} {dt.day}",
        "en-GB": f"{dt.day} {month}",
        "zh-CN": f"{dt.month}月{dt.day}日",
    }[locale]


def detail_path(case: dict, page: int = 1) -> str:
    suffix = f"&page={page}" if page > 1 else ""
    return select_path(
        f"{GRID_DETAIL}?caseID={case['case_id']}{suffix}",
        case["merchant_id"],
        case["marketplace_id"],
    )


def label(locale: str, status: str) -> str:
    return get_locale(locale).status_label(Status[status])


@pytest.fixture
def grid_us(admin: AdminClient) -> AdminClient:
    """The demo, with Demo Outdoor's US Case Log redesigned (modern -> grid)."""
    admin.set_ui(OUTDOOR, US, "grid")
    return admin


@pytest.mark.browser
def test_lobby_is_an_aria_grid_whose_rows_match_the_ground_truth(
    seller_page: Page, grid_us: AdminClient
) -> None:
    page = seller_page
    expected = recent(grid_us.ground_truth(), OUTDOOR, US)
    page.goto(select_path(GRID_LOBBY, OUTDOOR, US))
    assert page.locator("table, [data-testid]").count() == 0
    assert page.evaluate(UNSTABLE_HOOKS) == []
    grid = page.get_by_role("grid", name="Your cases")
    expect(grid.get_by_role("columnheader")).to_have_text(HEADERS["en-US"])
    expect(page.get_by_role("status")).to_have_text(
        f"Showing 1–{len(expected)} of {len(expected)} cases"
    )
    shown = grid_rows(page)
    assert [r["Case ID"] for r in shown] == [c["case_id"] for c in expected]
    for row, case in zip(shown, expected, strict=True):
        assert row["Subject"] == case["subject"]
        assert row["Status"] == label("en-US", case["status"])
        assert row["Status@label"] == f"Status: {row['Status']}"
        opened = local(case["created_at"], "en-US")
        assert row["Opened@datetime"] == opened.isoformat()
        assert row["Opened"] == short_day(opened, "en-US")
        assert row["Last activity@datetime"] == local(case["last_updated_at"], "en-US").isoformat()
    assert "Needs Your Attention" in {r["Status"] for r in shown}
    # the subject is the link to the case
    top = expected[0]
    grid.get_by_role("link", name=top["subject"]).click()
    expect(page).to_have_url(re.compile(rf"/case-log/case\?caseID={top['case_id']}$"))
    summary = page.get_by_role("region", name="Case summary")
    expect(summary.locator("dd").first).to_have_text(top["case_id"])
    assert page.evaluate(UNSTABLE_HOOKS) == []


def test_no_ids_test_ids_or_tables_on_any_grid_page(
    seller: SellerClient, grid_us: AdminClient
) -> None:
    case = by_subject(grid_us.ground_truth(), "Inbound pallets missing")
    grid_us.set_options(grid_messages_per_page=5)
    seller.get(select_path("/home", OUTDOOR, US))
    pages = {
        "lobby": seller.get(GRID_LOBBY + "?range=all&rows=10&page=2"),
        "search": seller.get(GRID_LOBBY + "?q=no+such+subject"),
        "detail": seller.get(f"{GRID_DETAIL}?caseID={case['case_id']}&page=2"),
        "not found": seller.get(f"{GRID_DETAIL}?caseID=12345678901"),
    }
    grid_us.set_faults(blank=True)
    pages["blank"] = seller.get(GRID_LOBBY)
    grid_us.set_faults(blank=False, error_rate=1.0)
    pages["error"] = seller.get(GRID_LOBBY)
    grid_us.clear_faults()
    assert [(name, p.status) for name, p in pages.items()] == [
        ("lobby", 200),
        ("search", 200),
        ("detail", 200),
        ("not found", 404),
        ("blank", 200),
        ("error", 500),
    ]
    for name, p in pages.items():
        assert not re.search(r"\sid=", p.text), name
        assert "data-test" not in p.text and "<table" not in p.text, name
        assert CLASS.search(p.text), name
        assert all(
            re.fullmatch(r"c-[0-9a-f]{6}", c) for m in CLASS.findall(p.text) for c in m.split()
        ), name
    assert "12345678901" in pages["not found"].text
    assert "Sorry! Something went wrong on our end" in pages["error"].text


def test_class_names_are_hashed_per_build_and_change_between_starts(
    seller: SellerClient, grid_us: AdminClient
) -> None:
    seller.get(select_path("/home", OUTDOOR, US))
    first = seller.get(GRID_LOBBY).text
    build = grid_us.build()
    used = {c for m in CLASS.findall(first) for c in m.split()}
    assert used <= set(build["classes"].values()) and len(used) > 10
    grid_class = build["classes"]["grid"]
    assert 'role="grid" aria-label="Your cases" aria-rowcount=' in first
    assert re.search(rf'role="grid"[^>]*class="{grid_class}"', first)
    # a second start: another build id, other class names, the same page otherwise
    other = MockServer(scenario="demo", ui={f"{OUTDOOR}/{US}": "grid"}).start()
    try:
        other_admin = AdminClient(other.url, other.admin_token)
        other_build = other_admin.build()
        assert other_build["build_id"] != build["build_id"]
        assert other_build["classes"]["grid"] != grid_class
        client = SellerClient(other.url)
        client.sign_in(other.login["email"], other.login["password"], other.login["totp_secret"])
        second = client.get(select_path(GRID_LOBBY, OUTDOOR, US)).text
        assert {c for m in CLASS.findall(second) for c in m.split()} != used
        assert (
            CLASS.sub("", second).split("<main", 1)[1] == CLASS.sub("", first).split("<main", 1)[1]
        )
        # the start option chose the generation of that one marketplace only
        uis = {
            (m["merchant_id"], mk["marketplace_id"]): mk["ui"]
            for m in other_admin.ground_truth()["merchants"]
            for mk in m["marketplaces"]
        }
        assert uis[(OUTDOOR, US)] == "grid" and uis[(KITCHEN, US)] == "classic"
    finally:
        other.stop()
    # the drift fault renames them again, and columns move; header texts still say which is which
    grid_us.set_faults(drift=True)
    drifted = seller.get(GRID_LOBBY).text
    assert grid_class not in drifted and grid_us.build()["classes"]["grid"] in drifted
    heads = re.findall(r'role="columnheader"[^>]*>([^<]*)<', drifted)
    assert heads != HEADERS["en-US"] and sorted(heads) == sorted(HEADERS["en-US"])


@pytest.mark.browser
@pytest.mark.parametrize(
    ("merchant", "marketplace", "locale", "subject", "examples"),
    [
        (
            OUTDOOR,
            US,
            "en-US",
            "Inbound pallets missing",  # PDT until Nov 1, 2026 09:00 UTC, then PST
            {
                "2026-10-30T07:00:00-07:00": "Oct 30, 7:00 AM",
                "2026-11-01T08:00:00-08:00": "Nov 1, 8:00 AM",
            },
        ),
        (
            OUTDOOR,
            UK,
            "en-GB",
            "VAT invoice missing",  # BST until Oct 25, 2026 01:00 UTC, then GMT (+00:00, not Z)
            {
                "2026-10-24T15:00:00+01:00": "24 Oct, 15:00",
                "2026-10-26T15:00:00+00:00": "26 Oct, 15:00",
            },
        ),
        (
            KITCHEN,
            CN,
            "zh-CN",
            "账户状况",
            {},
        ),
    ],
)
def test_time_datetime_has_the_marketplace_offset_and_visible_dates_no_year(
    seller_page: Page,
    admin: AdminClient,
    merchant: str,
    marketplace: str,
    locale: str,
    subject: str,
    examples: dict[str, str],
) -> None:
    page = seller_page
    admin.set_ui(merchant, marketplace, "grid")
    case = by_subject(admin.ground_truth(), subject)
    page.goto(detail_path(case))
    shown = articles(page)
    expected = list(reversed(case["messages"]))
    assert [a["datetime"] for a in shown] == [
        local(m["sent_at"], locale).isoformat() for m in expected
    ]
    for a, m in zip(shown, expected, strict=True):
        assert a["when"].startswith(short_day(local(m["sent_at"], locale), locale))
        assert "2026" not in a["when"] and "Z" not in a["datetime"]
    assert examples.items() <= {a["datetime"]: a["when"] for a in shown}.items()
    if locale == "zh-CN":
        assert all(a["datetime"].endswith("+08:00") for a in shown)
        assert all(re.fullmatch(r"\d{1,2}月\d{1,2}日 \d{2}:\d{2}", a["when"]) for a in shown)
    created = page.get_by_role("region", name=get_locale(locale).t("grid_summary")).locator("time")
    expect(created.first).to_have_attribute(
        "datetime", local(case["created_at"], locale).isoformat()
    )


@pytest.mark.browser
def test_template_holds_the_exact_full_text_of_a_long_hostile_message(
    seller_page: Page, admin: AdminClient
) -> None:
    page = seller_page
    admin.reset(scenario="hostile")
    truth = admin.ground_truth()
    case = next(c for c in truth["cases"] if c["subject"].startswith("Long message: <script>"))
    body = case["messages"][0]["body"]
    assert len(body) > 1000 and "\r\n" in body and "\r" in body.replace("\r\n", "")
    assert "</template>" in body[1000:] and "\u202e" in body and "👩\u200d👩" in body
    page.goto(detail_path(case))
    newest, oldest = articles(page)  # newest first
    assert oldest["full"] == body  # byte for byte: CR, CRLF, markup, emoji, bidi controls
    assert oldest["text"] == body[:1000] + "…"
    assert oldest["button"] == "Show full message"
    assert oldest["attachments"] == ["<img src=x onerror=alert(1)>.pdf"]
    assert (
        newest["text"] == case["messages"][1]["body"] == "Please send the invoices.\r\nThank you."
    )
    assert newest["full"] is None and newest["button"] is None
    # nothing the text says became an element, nothing ran
    assert page.locator("article").count() == 2 and page.locator("template").count() == 1
    assert page.locator("img, b, h3 ~ h3").count() == 0
    assert page.dialogs == []  # type: ignore[attr-defined]
    summary = page.get_by_role("region", name="Case summary")
    expect(summary.locator("dd").nth(2)).to_have_text(case["subject"])
    expect(summary.locator("dd li")).to_have_text(case["cc"])
    nav = page.get_by_role("navigation", name="Account")
    assert nav.get_by_label("Merchant").text_content() == truth["merchants"][1]["name"]
    # the button swaps in the full text, and back
    button = page.locator("article > button")
    expect(button).to_have_attribute("aria-expanded", "false")
    button.click()
    expect(button).to_have_text("Show less")
    expect(button).to_have_attribute("aria-expanded", "true")
    assert articles(page)[1]["text"] == body
    button.click()
    assert articles(page)[1]["text"] == body[:1000] + "…"
    assert page.dialogs == []  # type: ignore[attr-defined]
    # the list shows every subject exactly (tabs, double spaces), old cases with range=all
    page.goto(select_path(GRID_LOBBY + "?range=all", HOSTILE_GRID, UK))
    mine = in_marketplace(truth, HOSTILE_GRID, UK)
    assert {r["Case ID"]: r["Subject"] for r in grid_rows(page)} == {
        c["case_id"]: c["subject"] for c in mine
    }


@pytest.mark.browser
def test_list_paging_all_history_and_search(seller_page: Page, grid_us: AdminClient) -> None:
    page = seller_page
    mine = in_marketplace(grid_us.ground_truth(), OUTDOOR, US)
    everything = [c["case_id"] for c in sorted(mine, key=lambda c: c["created_at"], reverse=True)]
    n = len(everything)
    assert n > 10
    page.goto(select_path(GRID_LOBBY, OUTDOOR, US))
    assert len(grid_rows(page)) < n  # the 30-day default hides old cases
    page.get_by_label("Time range").select_option("all")
    page.get_by_role("button", name="Search").click()
    page.get_by_label("Rows per page").select_option("10")
    page.wait_for_url(re.compile(r"rows=10"))
    assert "range=all" in page.url
    seen, counts = [], []
    while True:
        seen += [r["Case ID"] for r in grid_rows(page)]
        counts.append(page.get_by_role("status").inner_text())
        following = page.locator("nav[aria-label=Pages] a[rel=next]")
        if following.count() == 0:
            break
        following.click()
    assert seen == everything
    assert (
        counts[0] == f"Showing 1–10 of {n} cases" and counts[-1] == f"Showing 11–{n} of {n} cases"
    )
    assert "page=2" in page.url
    expect(page.locator("a[aria-current=page]")).to_have_text("2")
    # search: subject keywords only (never bodies), or a case ID even outside the default
    search = page.get_by_role("searchbox")
    search.fill("tarpaulin")
    with page.expect_navigation():  # the search form is a GET: read the page it loads
        search.press("Enter")
    assert grid_rows(page) == []
    expect(page.get_by_role("status")).to_have_text("Showing 0–0 of 0 cases")
    expect(page.get_by_text("There are no cases to display.")).to_be_visible()
    search.fill("PALLET")
    with page.expect_navigation():
        search.press("Enter")
    assert sorted(r["Subject"] for r in grid_rows(page)) == sorted(
        c["subject"] for c in mine if "pallet" in c["subject"].lower()
    )
    old = by_subject(grid_us.ground_truth(), "Old policy warning")
    page.goto(select_path(GRID_LOBBY, OUTDOOR, US))
    assert old["case_id"] not in [r["Case ID"] for r in grid_rows(page)]
    search.fill(old["case_id"])
    with page.expect_navigation():
        search.press("Enter")
    assert [r["Case ID"] for r in grid_rows(page)] == [old["case_id"]]


@pytest.mark.browser
def test_thread_pages_newest_first_with_a_link_to_older_messages(
    seller_page: Page, admin: AdminClient
) -> None:
    page = seller_page
    # demo: a 14-message thread, 10 a page
    admin.set_ui(OUTDOOR, US, "grid")
    admin.set_options(grid_messages_per_page=10)
    pallets = by_subject(admin.ground_truth(), "Inbound pallets missing")
    page.goto(detail_path(pallets))
    assert len(articles(page)) == 10
    expect(page.get_by_text("Messages 1–10 of 14")).to_be_visible()
    page.get_by_role("link", name="Show older messages").click()
    expect(page).to_have_url(re.compile(r"caseID=\d+&page=2$"))
    assert [a["text"] for a in articles(page)] == [
        m["body"] for m in reversed(pallets["messages"][:4])
    ]
    expect(page.get_by_role("link", name="Show older messages")).to_have_count(0)
    # hostile: 25 messages, the default of 20 a page
    admin.reset(scenario="hostile")
    case = next(c for c in admin.ground_truth()["cases"] if len(c["messages"]) == 25)
    page.goto(detail_path(case))
    first = articles(page)
    expect(page.get_by_text("Messages 1–20 of 25")).to_be_visible()
    expect(page.get_by_role("link", name="Show newer messages")).to_have_count(0)
    page.get_by_role("link", name="Show older messages").click()
    second = articles(page)
    expect(page.get_by_text("Messages 21–25 of 25")).to_be_visible()
    assert [a["text"] for a in first + second] == [m["body"] for m in reversed(case["messages"])]
    assert [a["sender"] for a in second] == ["You", "Amazon", "You", "Amazon", "You"]
    page.get_by_role("link", name="Show newer messages").click()
    assert articles(page) == first


@pytest.mark.browser
@pytest.mark.parametrize(
    ("merchant", "marketplace", "locale", "count", "chip", "day"),
    [
        (OUTDOOR, UK, "en-GB", "Showing 1–{n} of {n} cases", "Status: ", r"\d{1,2} [A-Z][a-z]{2}"),
        (KITCHEN, CN, "zh-CN", "第 1–{n} 个，共 {n} 个问题", "状态：", r"\d{1,2}月\d{1,2}日"),
    ],
)
def test_locale_labels_statuses_and_dates(
    seller_page: Page,
    admin: AdminClient,
    merchant: str,
    marketplace: str,
    locale: str,
    count: str,
    chip: str,
    day: str,
) -> None:
    page = seller_page
    admin.set_ui(merchant, marketplace, "grid")
    expected = recent(admin.ground_truth(), merchant, marketplace)
    page.goto(select_path(GRID_LOBBY, merchant, marketplace))
    assert page.get_attribute("html", "lang") == locale
    expect(page.get_by_role("columnheader")).to_have_text(HEADERS[locale])
    expect(page.get_by_role("status")).to_have_text(count.format(n=len(expected)))
    shown = grid_rows(page)
    status, opened = HEADERS[locale][2], HEADERS[locale][3]
    assert [r[status] for r in shown] == [label(locale, c["status"]) for c in expected]
    assert all(r[f"{status}@label"] == chip + r[status] for r in shown)
    assert [r[opened] for r in shown] == [
        short_day(local(c["created_at"], locale), locale) for c in expected
    ]
    assert all(re.fullmatch(day, r[opened]) for r in shown)
    if locale == "en-GB":
        assert "Re-opened" in {r[status] for r in shown}  # en-GB's own label, not "Reopened"


def test_switching_a_marketplace_and_wrong_generation_redirects(
    seller: SellerClient, admin: AdminClient
) -> None:
    case = by_subject(admin.ground_truth(), "Royal Mail tracking")  # Outdoor UK, classic
    seller.get(select_path("/home", OUTDOOR, UK))
    assert seller.get(GRID_LOBBY, follow=False).headers["Location"] == CLASSIC_LOBBY
    answer = admin.set_ui(OUTDOOR, UK, "grid")  # "Amazon redesigned the UK Case Log now"
    assert answer == {
        "merchant_id": OUTDOOR,
        "marketplace_id": UK,
        "ui": "grid",
        "previous": "classic",
    }
    detail = f"/case-log/case?caseID={case['case_id']}"
    for old, new in [
        (CLASSIC_LOBBY, GRID_LOBBY),
        (f"/gp/case-dashboard/view-case.html?caseID={case['case_id']}", detail),
        (f"/gp/case-dashboard/view-case.html/?ie=UTF8&caseID={case['case_id']}", detail),
        (MODERN_LOBBY, GRID_LOBBY),
        (f"/cu/case-dashboard/view-case?caseID={case['case_id']}", detail),
        ("/gp/case-dashboard/export.csv", GRID_LOBBY),
    ]:
        res = seller.get(old, follow=False)
        assert (res.status, res.headers["Location"]) == (302, new), old
    assert 'id="manage-cases" href="/case-log/"' in seller.get("/home").text
    assert case["subject"] in seller.get(detail).text
    uis = {
        mk["marketplace_id"]: mk["ui"]
        for mk in admin.ground_truth()["merchants"][0]["marketplaces"]
    }
    assert uis == {US: "modern", UK: "grid"}
    # and on to another generation: the grid pages now send the seller there
    admin.set_ui(OUTDOOR, UK, "modern")
    assert seller.get(GRID_LOBBY, follow=False).headers["Location"] == MODERN_LOBBY
    assert (
        seller.get(detail, follow=False).headers["Location"]
        == f"/cu/case-dashboard/view-case?caseID={case['case_id']}"
    )
    with pytest.raises(AdminError, match="unknown ui 'table'"):
        admin.set_ui(OUTDOOR, UK, "table")
    with pytest.raises(AdminError, match="no marketplace AAHKV2X7AFYLW for merchant"):
        admin.set_ui(OUTDOOR, CN, "grid")
    admin.reset()
    assert admin.ground_truth()["merchants"][0]["marketplaces"][1]["ui"] == "classic"


def test_faults_on_grid_pages(seller: SellerClient, grid_us: AdminClient) -> None:
    seller.get(select_path("/home", OUTDOOR, US))
    case = by_subject(grid_us.ground_truth(), "Buy Shipping label refund")
    # blank: the sentence, no grid, no count; the detail page still works
    grid_us.set_faults(blank=True)
    blank = seller.get(GRID_LOBBY).text
    assert '<div role="alert"' in blank and UNAVAILABLE in blank
    assert 'role="grid"' not in blank and 'role="status"' not in blank
    assert case["subject"] in seller.get(f"{GRID_DETAIL}?caseID={case['case_id']}").text
    grid_us.clear_faults()
    # a case missing from one listing, back in the next
    grid_us.set_faults(drop_case=case["case_id"])
    assert case["case_id"] not in seller.get(GRID_LOBBY).text
    assert case["case_id"] in seller.get(GRID_LOBBY).text
    # latency, 500, 429 with Retry-After
    grid_us.set_faults(latency_ms=300)
    started = time.monotonic()
    assert seller.get(GRID_LOBBY).status == 200
    assert time.monotonic() - started >= 0.3
    grid_us.set_faults(latency_ms=0, error_rate=1.0)
    failed = seller.get(f"{GRID_DETAIL}?caseID={case['case_id']}")
    assert failed.status == 500 and "Something went wrong" in failed.text
    grid_us.set_faults(error_rate=0.0, rate_limit_per_second=1)
    answers = [seller.get(GRID_LOBBY) for _ in range(4)]
    refused = [a for a in answers if a.status == 429]
    assert refused and refused[0].headers["Retry-After"] == "1"
    assert "Too many requests" in refused[0].text
    grid_us.clear_faults()
    # session expiry: to the sign-in page, coming back to the same grid page
    grid_us.expire_sessions()
    res = seller.get(f"{GRID_LOBBY}?range=all&page=2", follow=False)
    assert res.status == 302
    assert res.headers["Location"] == "/ap/signin?returnTo=/case-log/%3Frange%3Dall%26page%3D2"


@pytest.mark.browser
def test_reply_with_cc_limit_attachment_and_edit(
    seller_page: Page, admin: AdminClient, tmp_path
) -> None:
    page = seller_page
    admin.set_ui(KITCHEN, US, "grid")
    case = by_subject(admin.ground_truth(), "Category approval needed")
    page.goto(detail_path(case))
    reply = page.get_by_role("region", name="Reply")
    cc_301 = "a" * 289 + "@example.com"
    reply.get_by_label("Message").fill("Label photo attached.\nSecond line.")
    reply.get_by_label("Add Cc").fill(cc_301)
    reply.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_have_text(
        "The Cc list is too long: 301 characters, at most 300 allowed"
        " (including commas and spaces)."
    )
    expect(reply.get_by_label("Message")).to_have_value("Label photo attached.\nSecond line.")
    assert by_subject(admin.ground_truth(), "Category approval")["messages"] == case["messages"]
    cc_300 = "b" * 288 + "@example.com"
    photo = tmp_path / "label.pdf"
    photo.write_bytes(b"%PDF-1.4 " + b"x" * 200)
    reply.get_by_label("Add Cc").fill(cc_300)
    reply.get_by_label("Attach files").set_input_files(str(photo))
    reply.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_have_text("Your message has been sent.")
    summary = page.get_by_role("region", name="Case summary")
    expect(summary.get_by_label("Status: Pending Amazon Action")).to_be_visible()
    newest = articles(page)[0]
    assert (newest["sender"], newest["text"], newest["attachments"]) == (
        "You",
        "Label photo attached.\nSecond line.",
        ["label.pdf"],
    )
    after = by_subject(admin.ground_truth(), "Category approval")
    assert after["cc"] == [cc_300] and after["status"] == "PENDING_AMAZON_ACTION"
    assert after["messages"][-1]["body"] == "Label photo attached.\nSecond line."
    assert newest["datetime"] == local(after["messages"][-1]["sent_at"], "en-US").isoformat()
    # edit the short description (an empty one is refused)
    summary.get_by_text("Edit", exact=True).click()
    form = page.get_by_role("form", name="Edit short description")
    form.get_by_label("Short description").fill("   ")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_have_text("Enter a short description.")
    form.get_by_label("Short description").fill("Grocery approval:  olive oil")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("The short description has been updated.")
    expect(summary.locator("dd").nth(2)).to_have_text("Grocery approval: olive oil")
    assert admin.history()[-1]["kind"] == "seller_subject_edited"


@pytest.mark.browser
def test_reopen_within_the_window_and_not_after_en_gb(
    seller_page: Page, admin: AdminClient
) -> None:
    page = seller_page
    admin.set_ui(OUTDOOR, UK, "grid")
    case = by_subject(admin.ground_truth(), "Royal Mail tracking")  # answered 10 days ago
    page.goto(detail_path(case))
    expect(
        page.get_by_text("This case has been answered. To follow up, reopen it.")
    ).to_be_visible()
    admin.set_options(reopen_window_days=7)
    page.reload()
    expect(page.get_by_role("button", name="Reopen this case")).to_have_count(0)
    expect(page.get_by_text("can no longer be reopened", exact=False)).to_be_visible()
    admin.set_options(reopen_window_days=14)
    page.reload()
    page.get_by_role("button", name="Reopen this case").click()
    expect(page.get_by_role("status")).to_have_text("The case has been reopened.")
    expect(page.get_by_label("Status: Re-opened")).to_be_visible()
    assert by_subject(admin.ground_truth(), "Royal Mail tracking")["status"] == "REOPENED"
    expect(page.get_by_role("region", name="Reply").get_by_label("Message")).to_be_visible()


def test_large_scenario_on_the_grid_ui(seller: SellerClient, admin: AdminClient) -> None:
    admin.reset(
        scenario="large", params={"cases": 60, "messages": 2, "ui": "grid", "locale": "zh-CN"}
    )
    page = seller.get(GRID_LOBBY + "?range=all&rows=100")
    assert page.status == 200
    assert page.text.count('<div role="row" aria-rowindex=') == 61  # the header row + 60
    assert "第 1–60 个，共 60 个问题" in page.text
    with pytest.raises(AdminError, match="unknown ui 'grid2'"):
        admin.reset(scenario="large", params={"ui": "grid2"})
