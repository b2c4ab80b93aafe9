"""The classic Case Log in Chromium: default view, filters, search, sort, paging, export, detail."""

from __future__ import annotations

import csv
import io
import re

import pytest
from caselog_mock import AdminClient, SellerClient
from caselog_mock.locales import get_locale
from mocksite import (
    CLASSIC_LOBBY,
    KITCHEN,
    OUTDOOR,
    UK,
    US,
    by_subject,
    in_marketplace,
    select_path,
    table,
)
from playwright.sync_api import Page, expect

LOBBY_KITCHEN = select_path(CLASSIC_LOBBY, KITCHEN, US)
EN_US_DATE = re.compile(r"^[A-Z][a-z]{2} \d{2}, \d{4} \d{1,2}:\d{2} [AP]M P[SD]T$")
EN_GB_DATE = re.compile(r"^\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2} (GMT|BST)$")


def submit(page: Page, button: str) -> None:
    """Click a form's button or a link and wait for the page it leads to (a click does not
    wait: reading at once may read the page being left, or one not built yet)."""
    with page.expect_navigation():
        page.click(button)


def ids(page: Page) -> list[str]:
    return [r["Case ID"] for r in table(page)]


@pytest.mark.browser
def test_default_view_hides_old_cases_and_a_date_filter_shows_them(
    seller_page: Page, admin: AdminClient
) -> None:
    page = seller_page
    truth = admin.ground_truth()
    old = by_subject(truth, "Old listing quality alert")  # created and answered ~84 days ago
    page.goto(LOBBY_KITCHEN)
    shown = ids(page)
    assert old["case_id"] not in shown
    recent = by_subject(truth, "Reserve balance not released")
    assert shown[0] == recent["case_id"]  # newest first
    mine = in_marketplace(truth, KITCHEN, US)
    cutoff = "2026-10-21T17:00:00Z"  # 30 days before the clock
    expected = {
        c["case_id"] for c in mine if c["created_at"] >= cutoff or c["last_updated_at"] >= cutoff
    }
    assert set(shown) == expected and len(mine) - len(expected) >= 3
    n = len(expected)
    expect(page.locator("#case-count")).to_have_text(f"Showing 1-{n} of {n} cases")
    rows = table(page)
    assert list(rows[0]) == [
        "Case ID",
        "Status",
        "Short description",
        "Case creation date",
        "Last updated",
        "Primary e-mail",
        "",
    ]
    assert rows[0]["Status"] == "Open"
    assert rows[0]["Short description"] == recent["subject"]
    assert all(EN_US_DATE.match(r["Case creation date"]) for r in rows)
    assert rows[0]["Case creation date"] == "Nov 19, 2026 7:00 AM PST"
    page.fill("#filter-from", "2026-01-01")
    submit(page, "#filter-apply")
    assert old["case_id"] in ids(page)
    expect(page.locator("#case-count")).to_have_text("Showing 1-12 of 12 cases")


@pytest.mark.browser
def test_each_filter(seller_page: Page, admin: AdminClient) -> None:
    page = seller_page
    truth = admin.ground_truth()
    mine = in_marketplace(truth, KITCHEN, US)
    page.goto(LOBBY_KITCHEN)
    # e-mail
    page.fill("#filter-email", "lee.chen@demo-kitchen.example")
    page.fill("#filter-from", "2026-01-01")
    submit(page, "#filter-apply")
    assert sorted(ids(page)) == sorted(
        c["case_id"] for c in mine if c["primary_email"] == "lee.chen@demo-kitchen.example"
    )
    # date range (creation date, Pacific time)
    page.fill("#filter-email", "")
    page.fill("#filter-from", "2026-10-20")
    page.fill("#filter-to", "2026-11-11")
    submit(page, "#filter-apply")
    assert "from=2026-10-20" in page.url and "to=2026-11-11" in page.url
    assert sorted(ids(page)) == sorted(
        c["case_id"]
        for c in mine
        if "2026-10-20T07:00Z" <= c["created_at"].replace(":00Z", "Z") <= "2026-11-12T07:59Z"
    )
    # status check boxes: answered + requires attention + re-opened, over all dates
    page.fill("#filter-from", "2026-01-01")
    page.fill("#filter-to", "")
    for status in ("answered", "attention", "reopened"):
        page.check(f"#filter-status-{status}")
    submit(page, "#filter-apply")
    expected = {
        c["case_id"]
        for c in mine
        if c["status"] in ("ANSWERED", "NEEDS_YOUR_ATTENTION", "REOPENED")
    }
    assert set(ids(page)) == expected and len(expected) >= 5
    # Cases Needing Attention
    submit(page, "#view-attention")
    assert set(ids(page)) == {c["case_id"] for c in mine if c["status"] == "NEEDS_YOUR_ATTENTION"}
    assert {r["Status"] for r in table(page)} == {"Needs Your Attention"}


@pytest.mark.browser
def test_search_matches_subjects_only(seller_page: Page, admin: AdminClient) -> None:
    page = seller_page
    truth = admin.ground_truth()
    safe_t = by_subject(truth, "SAFE-T claim denied")
    assert "mixer" in safe_t["messages"][0]["body"] and "mixer" not in safe_t["subject"]
    page.goto(LOBBY_KITCHEN)
    page.fill("#search-query", "mixer")
    submit(page, "#search-submit")
    assert ids(page) == []
    expect(page.locator("#no-cases")).to_be_visible()
    expect(page.locator("#case-count")).to_have_text("Showing 0-0 of 0 cases")
    page.fill("#search-query", "safe-t CLAIM")
    submit(page, "#search-submit")
    assert ids(page) == [safe_t["case_id"]]
    old = by_subject(truth, "Pricing error flagged")
    page.fill("#search-query", old["case_id"])
    submit(page, "#search-submit")
    assert ids(page) == [old["case_id"]]  # by case ID, even outside the 30-day default


@pytest.mark.browser
def test_sort_arrows_rows_per_page_and_paging(seller_page: Page, admin: AdminClient) -> None:
    page = seller_page
    mine = in_marketplace(admin.ground_truth(), KITCHEN, US)
    page.goto(LOBBY_KITCHEN + "&from=2026-01-01")
    page.select_option("#rows-per-page", "10")
    page.wait_for_url(re.compile(r"rows=10"))
    expect(page.locator("#case-count")).to_have_text("Showing 1-10 of 12 cases")
    submit(page, "#sort-caseid-asc")
    first_page = ids(page)
    page.click("#next-page")
    expect(page.locator("#case-count")).to_have_text("Showing 11-12 of 12 cases")
    expect(page.locator("#next-page")).to_have_count(0)
    all_ids = first_page + ids(page)
    assert all_ids == sorted((c["case_id"] for c in mine), key=lambda i: (len(i), i))
    assert len(all_ids[0]) == 10 and len(all_ids[-1]) == 11
    submit(page, "#sort-created-asc")
    created = [c["case_id"] for c in sorted(mine, key=lambda c: c["created_at"])]
    assert ids(page) == created[:10]


@pytest.mark.browser
def test_export_report_has_every_displayed_case(seller_page: Page, admin: AdminClient) -> None:
    page = seller_page
    mine = {c["case_id"]: c for c in in_marketplace(admin.ground_truth(), KITCHEN, US)}
    page.goto(LOBBY_KITCHEN + "&from=2026-01-01&rows=10")
    with page.expect_download() as info:
        page.click("#export-report")
    with open(info.value.path(), encoding="utf-8") as f:
        text = f.read()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [
        "Case ID",
        "Status",
        "Short description",
        "Case creation date",
        "Last updated",
        "Primary e-mail",
    ]
    assert sorted(r["Case ID"] for r in rows) == sorted(mine)  # both pages, not just page 1
    for row in rows:
        assert row["Short description"] == mine[row["Case ID"]]["subject"]
    assert "Hello," not in text  # summary only: no message content
    page.goto(LOBBY_KITCHEN + "&q=no+such+subject+anywhere")
    page.click("#export-report")
    expect(page.locator("#export-error")).to_contain_text("nothing to export")


@pytest.mark.browser
def test_detail_see_more_and_history(seller_page: Page, admin: AdminClient) -> None:
    page = seller_page
    case = by_subject(admin.ground_truth(), "Food safety complaint")
    long_body = case["messages"][-1]["body"]
    assert len(long_body) > 1000
    page.goto(LOBBY_KITCHEN + "&from=2026-01-01")
    page.locator("tr.case-row", has_text=case["subject"]).locator("a.view-respond").click()
    expect(page.locator("#case-id")).to_have_text(case["case_id"])
    expect(page.locator("#case-status")).to_have_text("Answered")
    expect(page.locator("#case-cc li")).to_have_text(case["cc"])
    cards = page.locator("#contact-history .case-message")
    expect(cards).to_have_count(2)
    newest = cards.nth(0)
    expect(newest.locator(".message-sender")).to_have_text("Amazon")
    expect(newest.locator(".message-date")).to_have_text("Oct 31, 2026")
    expect(newest.locator(".message-time")).to_have_text("7:00 AM PDT")
    body = newest.locator(".message-body")
    expect(body).to_be_hidden()
    expect(newest.locator(".message-body-preview")).to_be_visible()
    newest.locator(".see-more").click()
    expect(body).to_be_visible()
    assert body.text_content() == long_body
    expect(newest.locator(".see-more")).to_have_text("See less")
    newest.locator(".see-more").click()
    expect(body).to_be_hidden()
    expect(newest.locator(".see-more")).to_have_text("See more")
    oldest = cards.nth(1)
    expect(oldest.locator(".message-sender")).to_have_text("You")
    assert oldest.locator(".message-body").text_content() == case["messages"][0]["body"]
    expect(oldest.locator(".message-attachment")).to_have_text(["fda-compliance.pdf"])


@pytest.mark.browser
def test_reply_cc_limit_attachments_and_edit(
    seller_page: Page, admin: AdminClient, tmp_path
) -> None:
    page = seller_page
    case = by_subject(admin.ground_truth(), "Category approval needed")
    page.goto(
        select_path(
            f"/gp/case-dashboard/view-case.html/?ie=UTF8&caseID={case['case_id']}", KITCHEN, US
        )
    )
    cc_301 = ",".join(f"user{i:02d}@example.com" for i in range(15)) + ",ab@example.com"
    cc_301 = cc_301 + "x" * (301 - len(cc_301))
    cc_301 = cc_301[:301]
    assert len(cc_301) == 301
    page.fill("#reply-message", "Label photo attached.\nSecond line.")
    page.fill("#reply-cc", cc_301)
    page.click("#reply-send")
    expect(page.locator("#action-error")).to_contain_text("301 characters, at most 300")
    cc_300 = ", ".join(f"person{i:02d}@example.com" for i in range(13))
    cc_300 += ", " + "z" * (300 - len(cc_300) - 2 - len("@example.com")) + "@example.com"
    assert len(cc_300) == 300
    bad = tmp_path / "tool.exe"
    bad.write_bytes(b"MZ")
    page.fill("#reply-cc", cc_300)
    page.set_input_files("#reply-attachment", str(bad))
    page.click("#reply-send")
    expect(page.locator("#action-error")).to_contain_text("tool.exe cannot be attached")
    good = tmp_path / "label.pdf"
    good.write_bytes(b"%PDF-1.4 " + b"x" * 2000)
    admin.set_options(attachment_max_bytes=1000)
    page.set_input_files("#reply-attachment", str(good))
    page.click("#reply-send")
    expect(page.locator("#action-error")).to_contain_text("label.pdf is too large")
    admin.set_options(attachment_max_bytes=10 * 1024 * 1024)
    page.set_input_files("#reply-attachment", str(good))
    page.click("#reply-send")
    expect(page.locator("#action-notice")).to_have_text("Your message has been sent.")
    expect(page.locator("#case-status")).to_have_text("Pending Amazon Action")
    first = page.locator("#contact-history .case-message").first
    assert first.locator(".message-body").text_content() == "Label photo attached.\nSecond line."
    expect(first.locator(".message-attachment")).to_have_text(["label.pdf"])
    after = by_subject(admin.ground_truth(), "Category approval needed")
    assert ", ".join(after["cc"]) == cc_300
    assert after["messages"][-1]["attachments"] == ["label.pdf"]
    # edit the short description
    page.click("#edit-subject-button")
    page.fill("#edit-subject-input", "Grocery approval: olive oil (label photo sent)")
    page.click("#edit-subject-save")
    expect(page.locator("#case-subject")).to_have_text(
        "Grocery approval: olive oil (label photo sent)"
    )
    assert admin.ground_truth()["history"][-1]["kind"] == "seller_subject_edited"


@pytest.mark.browser
def test_reopen_within_and_after_the_window_en_gb(seller_page: Page, admin: AdminClient) -> None:
    page = seller_page
    case = by_subject(admin.ground_truth(), "Royal Mail tracking")  # answered 10 days ago
    url = select_path(f"/gp/case-dashboard/view-case.html?caseID={case['case_id']}", OUTDOOR, UK)
    page.goto(url)
    expect(page.locator("#case-created")).to_have_text("9 Nov 2026 13:00 GMT")
    assert EN_GB_DATE.match(page.locator("#case-last-updated").inner_text())
    expect(page.locator("#reply-unavailable")).to_be_visible()
    admin.set_options(reopen_window_days=7)
    page.reload()
    expect(page.locator("#reopen-button")).to_have_count(0)
    expect(page.locator("#reopen-expired")).to_contain_text("can no longer be reopened")
    admin.set_options(reopen_window_days=14)
    page.reload()
    page.click("#reopen-button")
    expect(page.locator("#action-notice")).to_have_text("The case has been reopened.")
    expect(page.locator("#case-status")).to_have_text("Re-opened")
    assert by_subject(admin.ground_truth(), "Royal Mail tracking")["status"] == "REOPENED"
    expect(page.locator("#reply-form")).to_be_visible()


def test_reopen_refused_after_the_window_over_http(
    seller: SellerClient, admin: AdminClient
) -> None:
    case = by_subject(admin.ground_truth(), "Shipping template not applied")  # answered 18 days ago
    token = seller.csrf_token(
        select_path(f"/gp/case-dashboard/view-case.html?caseID={case['case_id']}", KITCHEN, US)
    )
    res = seller.post_form(
        "/gp/case-dashboard/reopen", {"caseID": case["case_id"], "anti-csrftoken-a2z": token}
    )
    assert res.status == 400 and "cannot be reopened" in res.text
    assert by_subject(admin.ground_truth(), "Shipping template")["status"] == "ANSWERED"


def test_locale_formats_match_the_documented_examples() -> None:
    from datetime import UTC, datetime

    instant = datetime(2026, 11, 22, 0, 35, tzinfo=UTC)
    assert get_locale("en-US").datetime(instant) == "Nov 21, 2026 4:35 PM PST"
    assert get_locale("en-GB").datetime(instant) == "22 Nov 2026 00:35 GMT"
    assert get_locale("zh-CN").datetime(instant) == "2026/11/22 08:35"
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert get_locale("en-US").datetime(summer) == "Jul 01, 2026 5:00 AM PDT"
    assert get_locale("en-GB").datetime(summer) == "1 Jul 2026 13:00 BST"
