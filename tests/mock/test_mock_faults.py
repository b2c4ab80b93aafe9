"""Faults on demand, seen from Chromium (and over plain HTTP where headers matter)."""

from __future__ import annotations

import re
import time

import pytest
from caselog_mock import AdminClient, MockServer, SellerClient
from caselog_mock.faults import FAULT_KEYS
from mocksite import (
    API,
    CLASSIC_LOBBY,
    KITCHEN,
    MODERN_LOBBY,
    OUTDOOR,
    READY,
    US,
    by_subject,
    rows,
    search_body,
    select_path,
    table,
)
from playwright.sync_api import Page, expect

LOBBY_KITCHEN = select_path(CLASSIC_LOBBY, KITCHEN, US)
LOBBY_OUTDOOR = select_path(MODERN_LOBBY, OUTDOOR, US)
UNAVAILABLE = "The service is currently unavailable. Please try again later."


def test_every_fault_is_described_with_what_fired(admin: AdminClient) -> None:
    described = admin.faults()
    assert set(FAULT_KEYS) | {"fired"} <= set(described)
    assert (described["accept_then_fail_mode"], described["fired"]) == ("http_500", {})


@pytest.mark.browser
def test_latency(seller_page: Page, admin: AdminClient) -> None:
    page = seller_page
    page.goto(LOBBY_KITCHEN)
    admin.set_faults(latency_ms=400)
    started = time.monotonic()
    page.reload()
    assert time.monotonic() - started >= 0.4
    expect(page.locator("#case-log-table")).to_be_visible()


@pytest.mark.browser
def test_error_rate_gives_http_500(
    seller_page: Page, admin: AdminClient, seller: SellerClient
) -> None:
    page = seller_page
    admin.set_faults(error_rate=1.0)
    response = page.goto(LOBBY_KITCHEN)
    assert response is not None and response.status == 500
    expect(page.locator("#error-page")).to_contain_text("Something went wrong")
    # 0.5: deterministically every second case request fails, starting with the second
    admin.set_faults(error_rate=0.5)
    page.goto(LOBBY_OUTDOOR)  # the shell succeeds, the page's SearchForCases call fails
    expect(page.locator("[data-testid=error-message]")).to_have_text(
        "Something went wrong. Please try again."
    )
    expect(page.locator("[data-testid=case-lobby]")).to_have_attribute("data-state", "error")
    answers = [seller.post_json(f"{API}/SearchForCases", search_body()) for _ in range(4)]
    assert [a.status for a in answers] == [200, 500, 200, 500]
    assert answers[1].json()["error"] == "InternalServerError"


@pytest.mark.browser
def test_rate_limit_gives_429_with_retry_after(
    seller_page: Page, admin: AdminClient, seller: SellerClient
) -> None:
    page = seller_page
    first = page.goto(LOBBY_KITCHEN)
    assert first is not None and first.status == 200
    admin.set_faults(rate_limit_per_second=2)
    for _ in range(5):  # two quick requests over HTTP, then the page within the same second
        seller.get(LOBBY_KITCHEN)
        seller.get(LOBBY_KITCHEN)
        response = page.goto(LOBBY_KITCHEN)
        assert response is not None
        if response.status == 429:
            break
    assert response.status == 429
    assert response.headers["retry-after"] == "1"
    expect(page.locator("#error-page")).to_contain_text("Too many requests")
    time.sleep(1.05)  # honour Retry-After: the window is one second of real time
    again = page.goto(LOBBY_KITCHEN)
    assert again is not None and again.status == 200


@pytest.mark.browser
def test_blank_case_log(seller_page: Page, admin: AdminClient, seller: SellerClient) -> None:
    page = seller_page
    admin.set_faults(blank=True)
    page.goto(LOBBY_KITCHEN)
    expect(page.locator("#case-log-unavailable")).to_have_text(UNAVAILABLE)
    expect(page.locator("#case-log-table")).to_have_count(0)
    expect(page.locator("#case-count")).to_have_count(0)
    page.goto(LOBBY_OUTDOOR)
    expect(page.locator("[data-testid=error-message]")).to_have_text(UNAVAILABLE)
    expect(page.locator("[data-testid=case-table]")).to_have_count(0)
    seller.get(LOBBY_OUTDOOR)
    res = seller.post_json(f"{API}/SearchForCases", search_body())
    assert res.status == 200
    assert res.json() == {
        "status": "ERROR",
        "errorCode": "ServiceUnavailable",
        "message": UNAVAILABLE,
    }


@pytest.mark.browser
def test_drop_case_from_the_next_listing_only(seller_page: Page, admin: AdminClient) -> None:
    page = seller_page
    truth = admin.ground_truth()
    victim = by_subject(truth, "Buy Shipping label refund")
    page.goto(LOBBY_OUTDOOR)
    before = rows(page)
    total = len(before)  # page 1 of 10
    count = page.locator("[data-testid=case-count]").inner_text()
    n = int(count.rsplit(" ", 1)[1])
    assert victim["case_id"] in [r["id"] for r in before]
    admin.set_faults(drop_case=victim["case_id"])
    page.reload()
    page.wait_for_selector(READY, state="attached")
    missing = [r["id"] for r in rows(page)]
    assert victim["case_id"] not in missing
    expect(page.locator("[data-testid=case-count]")).to_have_text(f"Cases 1 to 10 of {n - 1}")
    page.locator("[data-testid=next-page]").click()  # the last page ends this listing
    expect(page.locator("[data-testid=case-count]")).to_have_text(f"Cases 11 to {n - 1} of {n - 1}")
    assert victim["case_id"] not in [r["id"] for r in rows(page)]
    assert admin.faults()["drop_case"] == []
    page.goto(LOBBY_OUTDOOR)
    assert victim["case_id"] in [r["id"] for r in rows(page)]
    assert len(rows(page)) == total
    # classic, keeping the true total in the count line
    admin.set_faults(drop_case=by_subject(truth, "SAFE-T")["case_id"], drop_keep_total=True)
    page.goto(LOBBY_KITCHEN)
    shown = table(page)
    count_text = page.locator("#case-count").inner_text()
    assert count_text.endswith(f"of {len(shown) + 1} cases")
    page.reload()
    assert len(table(page)) == len(shown) + 1


@pytest.mark.browser
def test_session_expiry_mid_run_in_the_modern_ui(seller_page: Page, admin: AdminClient) -> None:
    page = seller_page
    page.goto(LOBBY_OUTDOOR)
    rows(page)
    admin.expire_sessions()
    page.locator("[data-testid=next-page]").click()  # the API says 401; the page goes to sign-in
    page.wait_for_url(re.compile(r"/ap/signin\?returnTo="))
    expect(page.locator("#ap_email")).to_be_visible()


@pytest.mark.browser
def test_layout_drift(seller_page: Page, admin: AdminClient) -> None:
    page = seller_page
    page.goto(LOBBY_KITCHEN)
    normal = table(page)
    normal_heads = page.locator("#case-log-table thead th").all_inner_texts()
    normal_class = page.locator("tr.case-row td").first.get_attribute("class")
    page.goto(LOBBY_OUTDOOR)
    rows(page)
    modern_class = page.locator("[data-testid=case-row]").first.get_attribute("class")
    admin.set_faults(drift=True)
    page.goto(LOBBY_KITCHEN)
    drifted_heads = page.locator("#case-log-table thead th").all_inner_texts()
    assert drifted_heads != normal_heads and sorted(drifted_heads) == sorted(normal_heads)
    assert page.locator("tr.case-row td").first.get_attribute("class") != normal_class
    assert page.locator(".cl-td").count() == 0
    assert table(page) == normal  # same data, read through the header texts
    page.goto(LOBBY_OUTDOOR)
    rows(page)
    drifted = page.locator("[data-testid=case-row]").first.get_attribute("class")
    assert drifted != modern_class and re.fullmatch(r"css-[0-9a-z]{5,7}", drifted or "")


def test_faults_from_options_apply_at_start_and_after_reset() -> None:
    server = MockServer(options={"faults": {"blank": True}, "admin_token": "t0ken"}).start()
    try:
        admin = AdminClient(server.url, "t0ken")
        assert admin.faults()["blank"] is True
        admin.clear_faults()
        assert admin.faults()["blank"] is False
        admin.reset()
        assert admin.faults()["blank"] is True
        with pytest.raises(Exception, match="unknown fault"):
            admin.set_faults(typo=True)
    finally:
        server.stop()


def test_sessions_expire_after_n_requests(mock_server, mock_admin) -> None:  # type: ignore[no-untyped-def]
    from caselog_mock import SellerClient

    mock_admin.reset(scenario="demo")
    client = SellerClient(mock_server.url)
    login = mock_server.login
    client.sign_in(login["email"], login["password"], login["totp_secret"])
    mock_admin.set_faults(expire_after_requests=3)
    paths = ["/cu/case-lobby"] * 4  # the default selection is a modern marketplace
    landed = [client.get(p).url for p in paths]
    assert all("/ap/signin" not in u for u in landed[:2])
    assert all("/ap/signin" in u for u in landed[2:])
    assert mock_admin.faults()["expire_after_requests"] == 0
    mock_admin.clear_faults()
