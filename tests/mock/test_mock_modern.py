"""The modern Case Log in Chromium: shadow DOM rendering, paging, search, export, detail, zh-CN."""

from __future__ import annotations

import csv
import io
import re

import pytest
from caselog_mock import AdminClient
from caselog_mock.locales import get_locale
from caselog_mock.model import parse_iso
from mocksite import (
    CN,
    KITCHEN,
    MODERN_LOBBY,
    OUTDOOR,
    US,
    by_subject,
    in_marketplace,
    recent,
    rows,
    rows_by_locator,
    select_path,
)
from playwright.sync_api import Page, expect

DETAIL_READY = "[data-testid=case-detail][data-state=ready]"
LOBBY_US = select_path(MODERN_LOBBY, OUTDOOR, US)
LOBBY_CN = select_path(MODERN_LOBBY, KITCHEN, CN)


@pytest.mark.browser
def test_lobby_renders_in_shadow_dom_with_paging(seller_page: Page, admin: AdminClient) -> None:
    page = seller_page
    truth = admin.ground_truth()
    expected = recent(truth, OUTDOOR, US)
    assert len(expected) > 10
    page.goto(LOBBY_US)
    first = rows_by_locator(page)
    assert rows(page) == first
    # rendered inside open shadow roots: invisible to document.querySelectorAll
    assert page.evaluate("document.querySelectorAll('[data-testid=case-row]').length") == 0
    assert (
        page.evaluate("document.querySelector('[data-testid=case-lobby]').shadowRoot.mode")
        == "open"
    )
    assert re.fullmatch(
        r"css-[0-9a-z]{5,7}",
        page.locator("[data-testid=case-row]").first.get_attribute("class") or "",
    )
    expect(page.locator("[data-testid=case-count]")).to_have_text(
        f"Cases 1 to 10 of {len(expected)}"
    )
    assert [r["id"] for r in first] == [c["case_id"] for c in expected[:10]]
    loc = get_locale("en-US")
    top = expected[0]
    assert first[0]["subject"] == top["subject"]
    assert first[0]["created"] == loc.datetime(parse_iso(top["created_at"]))
    assert first[0]["last_reply"] == "No reply"
    answered = next(r for r, c in zip(first, expected, strict=False) if c["last_amazon_reply_at"])
    assert re.fullmatch(
        r"[A-Z][a-z]{2} \d{2}, \d{4} \d{1,2}:\d{2} [AP]M P[SD]T", answered["last_reply"]
    )
    page.locator("[data-testid=next-page]").click()
    expect(page.locator("[data-testid=case-count]")).to_have_text(
        f"Cases 11 to {len(expected)} of {len(expected)}"
    )
    second = rows(page)
    assert [r["id"] for r in second] == [c["case_id"] for c in expected[10:]]
    expect(page.locator("[data-testid=next-page]")).to_have_attribute("aria-disabled", "true")
    page.locator("[data-testid=page-size-dropdown] select").select_option("25")
    expect(page.locator("[data-testid=case-count]")).to_have_text(
        f"Cases 1 to {len(expected)} of {len(expected)}"
    )
    assert len(rows(page)) == len(expected)
    assert "pageSize=25" in page.url
    page.locator("[data-testid=date-range-dropdown] select").select_option("all")
    expect(page.locator("[data-testid=case-count]")).to_have_text(
        re.compile(rf"of {len(in_marketplace(truth, OUTDOOR, US))}$")
    )
    page.locator("[data-testid=sort-case-id]").click()
    ids = [r["id"] for r in rows(page)]
    assert ids == sorted(ids, key=lambda i: (len(i), i), reverse=True)


@pytest.mark.browser
def test_search_bar_and_export(seller_page: Page, admin: AdminClient) -> None:
    page = seller_page
    truth = admin.ground_truth()
    page.goto(LOBBY_US)
    search = page.locator("[data-testid=search-input] input")
    expect(search).to_have_attribute("placeholder", "search by case ID or subject")
    search.fill("tarpaulin")  # only in a message body
    search.press("Enter")
    expect(page.locator("[data-testid=case-count]")).to_have_text("Cases 0 to 0 of 0")
    expect(page.locator("[data-testid=empty-state]")).to_be_visible()
    search.fill("pallet")
    page.locator("[data-testid=search-button]").click()
    expect(page.locator("[data-testid=case-count]")).to_have_text("Cases 1 to 2 of 2")
    found = rows(page)
    assert {r["subject"] for r in found} == {
        by_subject(truth, "Pallet rejected")["subject"],
        by_subject(truth, "Inbound pallets missing")["subject"],
    }
    with page.expect_download() as info:
        page.locator("[data-testid=export-button]").click()
    with open(info.value.path(), encoding="utf-8") as f:
        exported = list(csv.DictReader(io.StringIO(f.read())))
    assert [r["ID"] for r in exported] == [r["id"] for r in found]
    assert list(exported[0]) == ["ID", "Status", "Subject", "Creation Date", "Last Amazon Reply"]
    assert exported[0]["Subject"] == found[0]["subject"]


@pytest.mark.browser
def test_detail_see_more_fetches_the_full_text(seller_page: Page, admin: AdminClient) -> None:
    page = seller_page
    truth = admin.ground_truth()
    case = by_subject(truth, "Account health: listing deactivated")
    body = case["messages"][-1]["body"]
    assert len(body) > 1000
    page.goto(LOBBY_US)
    page.locator(
        "[data-testid=case-row]",
        has=page.locator(f"[data-testid=case-id-link]:text-is('{case['case_id']}')"),
    ).locator("[data-testid=case-id-link]").click()
    page.wait_for_selector(DETAIL_READY, state="attached")
    expect(page.locator("[data-testid=case-detail-id]")).to_have_text(case["case_id"])
    expect(page.locator("[data-testid=case-detail-status]")).to_have_text("Needs Your Attention")
    expect(page.locator("[data-testid=cc-item]")).to_have_text(case["cc"])
    cards = page.locator("[data-testid=contact-card]")
    expect(cards).to_have_count(2)
    newest = cards.first
    assert newest.get_attribute("data-truncated") == "true"
    expect(newest.locator("[data-testid=contact-sender]")).to_have_text("Amazon")
    shown = newest.locator("[data-testid=contact-body]").text_content() or ""
    assert shown == body[:1000] + "…"
    with page.expect_response(re.compile(r"/ViewContact\?")):
        newest.locator("[data-testid=see-more]").click()
    expect(newest.locator("[data-testid=see-more]")).to_have_text("See less")
    assert newest.locator("[data-testid=contact-body]").text_content() == body
    newest.locator("[data-testid=see-more]").click()
    expect(newest.locator("[data-testid=see-more]")).to_have_text("See more")
    oldest = cards.nth(1)
    assert (
        oldest.locator("[data-testid=contact-body]").text_content() == case["messages"][0]["body"]
    )
    expect(oldest.locator("[data-testid=attachment]")).to_have_text(
        ["factory-invoice-2026-08.pdf", "brand-registry-certificate.pdf"]
    )
    expect(oldest.locator("[data-testid=contact-date]")).to_have_text("Nov 11, 2026")
    expect(oldest.locator("[data-testid=contact-time]")).to_have_text("6:00 AM PST")


@pytest.mark.browser
def test_reply_reopen_and_edit(seller_page: Page, admin: AdminClient) -> None:
    page = seller_page
    truth = admin.ground_truth()
    case = by_subject(truth, "Buy Shipping label refund")  # answered 2 days ago
    page.goto(
        select_path(
            f"/cu/case-dashboard/view-case?ie=UTF8&caseID={case['case_id']}&ref=x", OUTDOOR, US
        )
    )
    page.wait_for_selector(DETAIL_READY, state="attached")
    expect(page.locator("[data-testid=reply-unavailable]")).to_be_visible()
    page.locator("[data-testid=reopen-button]").click()
    expect(page.locator("[data-testid=action-notice]")).to_have_text("The case has been reopened.")
    expect(page.locator("[data-testid=case-detail-status]")).to_have_text("Reopened")
    cc_301 = "a" * 289 + "@example.com"
    assert len(cc_301) == 301
    page.locator("[data-testid=reply-message]").fill("The refund has still not arrived.")
    page.locator("[data-testid=reply-cc] input").fill(cc_301)
    page.locator("[data-testid=reply-send]").click()
    expect(page.locator("[data-testid=reply-error]")).to_contain_text("at most 300")
    cc_300 = "b" * 288 + "@example.com"
    page.locator("[data-testid=reply-cc] input").fill(cc_300)
    page.locator("[data-testid=reply-send]").click()
    expect(page.locator("[data-testid=action-notice]")).to_have_text("Your message has been sent.")
    expect(page.locator("[data-testid=case-detail-status]")).to_have_text("Pending Amazon Action")
    expect(page.locator("[data-testid=cc-item]")).to_have_text([cc_300])
    first = page.locator("[data-testid=contact-card]").first
    expect(first.locator("[data-testid=contact-body]")).to_have_text(
        "The refund has still not arrived."
    )
    page.locator("[data-testid=edit-subject-button]").click()
    page.locator("[data-testid=edit-subject-input] input").fill("Voided labels: refund missing")
    page.locator("[data-testid=edit-subject-save]").click()
    expect(page.locator("[data-testid=case-detail-subject]")).to_have_text(
        "Voided labels: refund missing"
    )
    after = by_subject(admin.ground_truth(), "Voided labels")
    assert after["status"] == "PENDING_AMAZON_ACTION" and after["cc"] == [cc_300]
    # after the window: no reopen button, a message instead
    other = by_subject(truth, "Late shipment rate")  # answered 25 days ago
    page.goto(f"/cu/case-dashboard/view-case?caseID={other['case_id']}")
    page.wait_for_selector(DETAIL_READY, state="attached")
    expect(page.locator("[data-testid=reopen-button]")).to_have_count(0)
    expect(page.locator("[data-testid=reopen-expired]")).to_contain_text(
        "can no longer be reopened"
    )


@pytest.mark.browser
def test_zh_cn_labels_and_dates(seller_page: Page, admin: AdminClient) -> None:
    page = seller_page
    truth = admin.ground_truth()
    expected = recent(truth, KITCHEN, CN)
    page.goto(LOBBY_CN)
    shown = rows(page)
    expect(page.locator("[data-testid=case-count]")).to_have_text(f"共 {len(expected)} 个 问题单")
    headers = page.locator("[data-testid=column-header]").all_inner_texts()
    assert [h.strip() for h in headers] == ["编号", "状态", "主题", "创建日期", "亚马逊最近回复"]
    labels = get_locale("zh-CN")
    for row, case in zip(shown, expected, strict=True):
        assert row["id"] == case["case_id"]
        assert row["created"] == labels.datetime(parse_iso(case["created_at"]))
        assert re.fullmatch(r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}", row["created"])
    statuses = {r["status"] for r in shown}
    assert statuses <= set(labels.browser_config()["statusLabels"].values())
    assert "已开启" in statuses and "暂无回复" in {r["last_reply"] for r in shown}
    assert expected[0]["created_at"] == "2026-11-20T09:00:00Z"
    assert shown[0]["created"] == "2026/11/20 17:00"  # Asia/Shanghai, UTC+8


@pytest.mark.browser
def test_detail_pages_older_contacts(seller_page: Page, admin: AdminClient) -> None:
    page = seller_page
    case = by_subject(admin.ground_truth(), "Inbound pallets missing")
    page.goto(select_path(f"/cu/case-dashboard/view-case?caseID={case['case_id']}", OUTDOOR, US))
    page.wait_for_selector(DETAIL_READY, state="attached")
    cards = page.locator("[data-testid=contact-card]")
    expect(cards).to_have_count(10)
    expect(page.locator("[data-testid=contact-list]")).to_have_attribute("data-total", "14")
    page.locator("[data-testid=load-more-contacts]").click()
    expect(cards).to_have_count(14)
    expect(page.locator("[data-testid=load-more-contacts]")).to_have_count(0)
    shown = [c.get_attribute("data-contact-id") for c in cards.all()]
    assert shown == [m["message_id"] for m in reversed(case["messages"])]
