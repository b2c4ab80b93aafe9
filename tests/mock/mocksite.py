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
