"""The mock site starts, signs a seller in, and serves both UIs, the API and ground truth."""

from __future__ import annotations

from caselog_mock import AdminClient, MockServer, SellerClient
from mocksite import KITCHEN, US, search_body, select_path


def test_lists_and_ground_truth_agree(
    mock_server: MockServer, admin: AdminClient, seller: SellerClient
) -> None:
    truth = admin.ground_truth()
    assert truth["now"] == "2026-11-20T17:00:00Z"
    assert len(truth["cases"]) >= 40
    api = seller.post_json("/hill/hillservice/mons-api/SearchForCases", search_body())
    assert api.status == 200
    ids = [c["caseId"] for c in api.json()["caseSearchResultList"]]
    mine = {
        c["case_id"]
        for c in truth["cases"]
        if c["merchant_id"] == "A2DEMOOUTDOOR" and c["marketplace_id"] == US
    }
    assert ids and set(ids) <= mine
    page = seller.get(select_path("/gp/case-dashboard/lobby.html", KITCHEN, US))
    assert page.status == 200 and 'id="case-log-table"' in page.text
