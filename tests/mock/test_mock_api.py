"""The modern UI's JSON API, the admin API's guard, the switcher and UI routing (no browser)."""

from __future__ import annotations

import html
import json
import os
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from caselog_mock import AdminClient, AdminError, MockServer, SellerClient
from mocksite import (
    API,
    CLASSIC_LOBBY,
    CN,
    KITCHEN,
    MODERN_LOBBY,
    OUTDOOR,
    UK,
    US,
    by_subject,
    in_marketplace,
    search_body,
    select_path,
)

NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)


def _search(seller: SellerClient, **overrides: object) -> dict:
    res = seller.post_json(f"{API}/SearchForCases", search_body(**overrides))
    assert res.status == 200, res.text
    return res.json()


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_search_shape_paging_and_default_window(seller: SellerClient, admin: AdminClient) -> None:
    truth = admin.ground_truth()
    mine = in_marketplace(truth, OUTDOOR, US)
    cutoff = NOW - timedelta(days=30)
    recent = {
        c["case_id"]
        for c in mine
        if _parse(c["created_at"]) >= cutoff or _parse(c["last_updated_at"]) >= cutoff
    }
    assert len(recent) < len(mine)  # the demo has older cases the default hides
    first = _search(seller, searchPageSize=10)
    assert first["totalNumberOfResults"] == len(recent)
    second = _search(seller, searchPageSize=10, page=1)
    rows = first["caseSearchResultList"] + second["caseSearchResultList"]
    assert {r["caseId"] for r in rows} == recent
    created = [r["creationDate"] for r in rows]
    assert created == sorted(created, reverse=True)
    row = rows[0]
    assert set(row) == {
        "caseId",
        "status",
        "statusLabel",
        "creationDate",
        "lastUpdatedDate",
        "lastAmazonReplyDate",
        "shortDescription",
        "primaryEmail",
        "numberOfContacts",
    }
    case = next(c for c in mine if c["case_id"] == row["caseId"])
    assert row["status"] == case["status_api"]
    assert row["creationDate"] == int(_parse(case["created_at"]).timestamp())
    assert row["shortDescription"] == case["subject"]
    assert row["numberOfContacts"] == len(case["messages"])
    # a start date lifts the 30-day default: everything of the marketplace
    everything = _search(seller, filters={"startDate": 0})
    assert everything["totalNumberOfResults"] == len(mine)
    count_only = _search(seller, getCountOnly=True, filters={"startDate": 0})
    assert count_only == {"totalNumberOfResults": len(mine), "caseSearchResultList": []}


@pytest.mark.parametrize(
    "change",
    [
        {"searchPageSize": 20},
        {"sortBy": "Subject"},
        {"sortByOrder": "UP"},
        {"page": -1},
        {"caseFilters": {"caseOwner": "Somebody"}},
    ],
)
def test_search_refuses_bad_requests(seller: SellerClient, change: dict) -> None:
    body = {**search_body(), **change}
    res = seller.post_json(f"{API}/SearchForCases", body)
    assert res.status == 400
    assert res.json()["error"] == "ValidationException"


def test_search_filters_sort_and_subject_only(seller: SellerClient, admin: AdminClient) -> None:
    truth = admin.ground_truth()
    mine = in_marketplace(truth, OUTDOOR, US)
    everything = {"startDate": 0}
    by_id = _search(seller, sortBy="CaseId", sortByOrder="ASC", filters=everything)
    ids = [r["caseId"] for r in by_id["caseSearchResultList"]]
    assert ids == sorted(ids, key=lambda i: (len(i), i))
    answered = _search(
        seller, filters={**everything, "statusList": ["Answered", "PendingSellerAction"]}
    )
    assert {r["caseId"] for r in answered["caseSearchResultList"]} == {
        c["case_id"] for c in mine if c["status"] in ("ANSWERED", "NEEDS_YOUR_ATTENTION")
    }
    dana = _search(
        seller, filters={**everything, "primaryEmail": "dana.miller@demo-outdoor.example"}
    )
    assert (
        dana["totalNumberOfResults"]
        == sum(c["primary_email"] == "dana.miller@demo-outdoor.example" for c in mine)
        >= 1
    )
    start = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())
    end = int(datetime(2026, 11, 10, tzinfo=UTC).timestamp())
    window = _search(seller, filters={"startDate": start, "endDate": end})
    assert {r["caseId"] for r in window["caseSearchResultList"]} == {
        c["case_id"] for c in mine if start <= _parse(c["created_at"]).timestamp() <= end
    }
    # keyword search matches subjects only; "tarpaulin" is only in a message body
    assert "tarpaulin" in json.dumps([c["messages"] for c in mine])
    assert _search(seller, filters={"searchText": "tarpaulin"})["totalNumberOfResults"] == 0
    pallet = _search(seller, filters={"searchText": "PALLETS missing"})
    assert [r["shortDescription"] for r in pallet["caseSearchResultList"]] == [
        by_subject(truth, "Inbound pallets missing")["subject"]
    ]
    # an exact case ID finds that case even outside the 30-day default
    old = by_subject(truth, "Old policy warning")
    found = _search(seller, filters={"searchText": old["case_id"]})
    assert [r["caseId"] for r in found["caseSearchResultList"]] == [old["case_id"]]


def test_view_case_paging_truncation_and_view_contact(
    seller: SellerClient, admin: AdminClient
) -> None:
    truth = admin.ground_truth()
    many = by_subject(truth, "Inbound pallets missing")
    first = seller.get(f"{API}/ViewCase?caseId={many['case_id']}&pageSize=10&timeZone=UTC").json()
    meta = first["viewCaseMetaData"]
    assert meta["caseId"] == many["case_id"]
    assert meta["caseStatus"] == "PendingSellerAction"
    assert meta["caseStatusLabel"] == "Needs Your Attention"
    assert meta["caseTitle"] == many["subject"]
    assert first["totalNumberOfContacts"] == len(many["messages"]) == 14
    assert len(first["contactList"]) == 10 and first["currentToken"]
    rest = seller.get(
        f"{API}/ViewCase?caseId={many['case_id']}&pageSize=10&currentToken={first['currentToken']}"
    ).json()
    assert len(rest["contactList"]) == 4 and rest["currentToken"] is None
    contacts = first["contactList"] + rest["contactList"]
    newest_first = list(reversed(many["messages"]))
    assert [c["contactId"] for c in contacts] == [m["message_id"] for m in newest_first]
    for contact, message in zip(contacts, newest_first, strict=True):
        assert contact["outbound"] == (message["direction"] == "from_amazon")
        assert contact["timestamp"] == int(_parse(message["sent_at"]).timestamp() * 1000)
        assert html.unescape(contact["message"].replace("<br>", "\n")) == message["body"]
    long_case = by_subject(truth, "Pallet rejected at receiving dock")
    body = long_case["messages"][0]["body"]
    assert len(body) > 1000
    view = seller.get(f"{API}/ViewCase?caseId={long_case['case_id']}").json()
    contact = view["contactList"][0]
    assert contact["messageTruncated"] is True
    assert html.unescape(contact["message"].replace("<br>", "\n")) == body[:1000]
    assert contact["attachments"] == [{"name": "pallet-photo.png", "size": 902112}]
    full = seller.get(
        f"{API}/ViewContact?caseId={long_case['case_id']}&contactId={contact['contactId']}"
    ).json()
    assert full["messageTruncated"] is False
    assert html.unescape(full["message"].replace("<br>", "\n")) == body
    assert seller.get(f"{API}/ViewCase?caseId=99999999999").status == 404
    bad = seller.get(f"{API}/ViewCase?caseId={many['case_id']}&currentToken=garbage")
    assert bad.status == 400


def test_unsigned_requests(mock_server: MockServer, admin: AdminClient) -> None:
    anonymous = SellerClient(mock_server.url)
    page = anonymous.get(CLASSIC_LOBBY + "?view=attention", follow=False)
    assert page.status == 302
    assert page.headers["Location"] == (
        "/ap/signin?returnTo=/gp/case-dashboard/lobby.html%3Fview%3Dattention"
    )
    api = anonymous.post_json(f"{API}/SearchForCases", search_body())
    assert api.status == 401
    assert api.json()["error"] == "Unauthorized"


def test_admin_api_needs_the_token(mock_server: MockServer, admin: AdminClient) -> None:
    for headers in ({}, {"X-Admin-Token": "wrong"}):
        req = urllib.request.Request(mock_server.url + "/admin/ground-truth", headers=headers)
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=10)
        assert err.value.code == 401
    with pytest.raises(AdminError, match="401"):
        AdminClient(mock_server.url, "not-the-token").now()
    assert admin.now() == NOW


def test_request_log_counts_every_request_but_the_admin_calls(
    seller: SellerClient, admin: AdminClient
) -> None:
    admin.clear_requests()
    assert seller.get(select_path(MODERN_LOBBY, OUTDOOR, US)).status == 200
    assert seller.get("/static/caselog.css").status == 200
    _search(seller, page=1)
    assert seller.get(f"{API}/ViewCase?caseId=1&pageSize=10").status == 404
    admin.now()  # not counted
    got = admin.requests()
    assert got["pid"] == os.getpid()  # this server runs in the test process
    assert got["total"] == 4
    assert got["by_kind"] == {"page": 1, "static": 1, "api": 2}
    assert got["by_route"][f"POST {API}/SearchForCases"] == 1
    lobby, css, search, view = got["log"]
    assert lobby["path"] == select_path(MODERN_LOBBY, OUTDOOR, US)
    assert (lobby["method"], lobby["status"], "body" in lobby) == ("GET", 200, False)
    assert css["kind"] == "static"
    assert json.loads(search["body"])["page"] == 1
    assert (view["status"], view["path"]) == (404, f"{API}/ViewCase?caseId=1&pageSize=10")
    assert lobby["t"] <= css["t"] <= search["t"] <= view["t"]
    assert all(e["ms"] >= 0 for e in got["log"])
    assert "log" not in admin.requests(log=False)
    assert admin.clear_requests() == 4
    assert admin.requests()["total"] == 0


def test_admin_api_is_loopback_only(mock_server: MockServer) -> None:
    client = mock_server.app.test_client()
    token = {"X-Admin-Token": mock_server.admin_token}
    assert client.get("/admin/clock", headers=token).status_code == 200
    remote = client.get("/admin/clock", headers=token, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert remote.status_code == 403
    v6 = client.get("/admin/clock", headers=token, environ_base={"REMOTE_ADDR": "::1"})
    assert v6.status_code == 200
    with pytest.raises(ValueError, match="loopback"):
        MockServer(host="0.0.0.0")


def test_ground_truth_shape(admin: AdminClient) -> None:
    truth = admin.ground_truth()
    assert truth["now"] == "2026-11-20T17:00:00Z"
    merchants = {m["merchant_id"]: m for m in truth["merchants"]}
    assert {
        (mk["marketplace_id"], mk["ui"], mk["locale"], mk["timezone"])
        for mk in merchants[OUTDOOR]["marketplaces"]
    } == {(US, "modern", "en-US", "America/Los_Angeles"), (UK, "classic", "en-GB", "Europe/London")}
    assert {
        (mk["marketplace_id"], mk["ui"], mk["locale"]) for mk in merchants[KITCHEN]["marketplaces"]
    } == {(US, "classic", "en-US"), (CN, "modern", "zh-CN")}
    case = truth["cases"][0]
    assert set(case) >= {
        "case_id",
        "merchant_id",
        "marketplace_id",
        "subject",
        "category",
        "status",
        "status_api",
        "created_at",
        "last_updated_at",
        "last_amazon_reply_at",
        "primary_email",
        "cc",
        "messages",
        "status_label",
    }
    message = case["messages"][0]
    assert set(message) == {
        "message_id",
        "direction",
        "sender",
        "sender_label",
        "sender_email",
        "sent_at",
        "body",
        "attachments",
    }
    for c in truth["cases"]:
        for key in ("created_at", "last_updated_at"):
            assert c[key].endswith(":00Z")
        times = [m["sent_at"] for m in c["messages"]]
        assert times == sorted(times)
    assert truth["history"] == []


def test_selection_switcher_and_ui_routing(seller: SellerClient) -> None:
    switcher = seller.get("/account-switcher/default/merchantMarketplace?returnTo=/cu/case-lobby")
    assert switcher.status == 200
    assert switcher.text.count('class="switcher-link') == 4
    # the default selection (first merchant, first marketplace) is modern: classic URLs redirect
    res = seller.get(CLASSIC_LOBBY, follow=False)
    assert res.status == 302 and res.headers["Location"].endswith(MODERN_LOBBY)
    # switching by query parameters sets the cookies; the modern URL then redirects to classic
    page = seller.get(select_path(MODERN_LOBBY, KITCHEN, US), follow=False)
    assert page.status == 302 and page.headers["Location"].endswith(CLASSIC_LOBBY)
    assert {c.name: c.value for c in seller.cookies}["mons_sel_dir_mcid"] == KITCHEN
    detail = seller.get("/cu/case-dashboard/view-case?caseID=123&ref=x", follow=False)
    assert detail.headers["Location"].endswith("/gp/case-dashboard/view-case.html?caseID=123")
    assert seller.get(CLASSIC_LOBBY).status == 200
