"""Helpers shared by the mock-site tests (imported by name: tests/mock is on sys.path)."""

from __future__ import annotations

from typing import Any

OUTDOOR, KITCHEN = "A2DEMOOUTDOOR", "A3DEMOKITCHEN"
US, UK, CN = "ATVPDKIKX0DER", "A1F83G8C2ARO7P", "AAHKV2X7AFYLW"


def select_path(path: str, merchant: str, marketplace: str) -> str:
    sep = "&" if "?" in path else "?"
    return f"{path}{sep}mons_sel_dir_mcid={merchant}&mons_sel_mkid={marketplace}"


def search_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "page": 0,
        "searchPageSize": 50,
        "sortBy": "CreationDate",
        "sortByOrder": "DESC",
        "getCountOnly": False,
        "caseFilters": {"caseOwner": "MerchantCases"},
    }
    filters = overrides.pop("filters", None)
    if filters:
        body["caseFilters"].update(filters)
    body.update(overrides)
    return body


API = "/hill/hillservice/mons-api"
CLASSIC_LOBBY = "/gp/case-dashboard/lobby.html"
MODERN_LOBBY = "/cu/case-lobby"


def by_subject(truth: dict[str, Any], text: str) -> dict[str, Any]:
    """The one case of the ground truth whose subject contains ``text``."""
    found = [c for c in truth["cases"] if text in c["subject"]]
    assert len(found) == 1, f"{len(found)} cases match {text!r}"
    return found[0]


def in_marketplace(truth: dict[str, Any], merchant: str, marketplace: str) -> list[dict[str, Any]]:
    return [
        c
        for c in truth["cases"]
        if c["merchant_id"] == merchant and c["marketplace_id"] == marketplace
    ]
