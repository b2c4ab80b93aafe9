"""Capture page snapshots for the offline selector-map tests (run by a developer, not CI).

    python -m tests.tools.capture_snapshots [MAP ...]

For each selector map it saves, under snapshots/<map>/, frozen copies of what the Case Log
serves — the list (HTML or the SearchForCases JSON), a case detail with a long "See more"
message (HTML or ViewCase + ViewContact JSON), the blank "service unavailable" state, and the
sign-in page — each beside ``<name>.expected.json``: the records it must yield, taken from the
mock's ground truth (never from the agent's own output).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from caselog_mock import AdminClient, MockServer, SellerClient

from agent.site.readers.base import WIDE_FROM
from agent.site.selectormap import load_map

ROOT = Path(__file__).resolve().parents[2] / "snapshots"

# map -> (scenario, merchant, marketplace, the locale every marketplace is switched to)
MAPS: dict[str, tuple[str, str, str, str | None]] = {
    "classic-en-US": ("demo", "A3DEMOKITCHEN", "ATVPDKIKX0DER", None),
    "classic-en-GB": ("demo", "A2DEMOOUTDOOR", "A1F83G8C2ARO7P", None),
    "classic-zh-CN": ("demo", "A3DEMOKITCHEN", "ATVPDKIKX0DER", "zh-CN"),
    "modern-en-US": ("demo", "A2DEMOOUTDOOR", "ATVPDKIKX0DER", None),
    "modern-en-GB": ("demo", "A2DEMOOUTDOOR", "ATVPDKIKX0DER", "en-GB"),
    "modern-zh-CN": ("demo", "A3DEMOKITCHEN", "AAHKV2X7AFYLW", None),
    "grid-en-GB": ("hostile", "A5HOSTILEGRID", "A1F83G8C2ARO7P", None),
}
SEARCH = "/hill/hillservice/mons-api/SearchForCases"


def expected_case(c: dict[str, Any], with_messages: bool) -> dict[str, Any]:
    out = {k: c[k] for k in ("case_id", "subject", "status", "created_at", "primary_email", "cc")}
    if with_messages:
        out["messages"] = [
            {
                k: m[k]
                for k in (
                    "message_id",
                    "direction",
                    "sender_email",
                    "sent_at",
                    "body",
                    "attachments",
                )
            }
            for m in c["messages"]
        ]
    return out


def write(folder: Path, name: str, body: bytes, expected: Any, meta: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".json" if meta["kind"].startswith("api") else ".html"
    (folder / f"{name}{suffix}").write_bytes(body)
    (folder / f"{name}.expected.json").write_text(
        json.dumps({**meta, "expected": expected}, indent=1, ensure_ascii=False) + "\n"
    )


def capture(
    server: MockServer,
    admin: AdminClient,
    name: str,
    scenario: str,
    merchant: str,
    market: str,
    locale: str | None = None,
) -> None:
    admin.reset(scenario=scenario, locale=locale)
    admin.clear_faults()
    smap = load_map(name)
    truth = [
        c
        for c in admin.ground_truth()["cases"]
        if c["merchant_id"] == merchant and c["marketplace_id"] == market
    ]
    # the case with the longest message (behind "See more" where it passes 1,000 characters)
    # whose whole thread is on one page
    one_page = [c for c in truth if len(c["messages"]) <= 20]
    long_case = max(one_page, key=lambda c: max((len(m["body"]) for m in c["messages"]), default=0))
    client = SellerClient(server.url)
    login = server.login
    signin = client.get("/ap/signin").body
    client.sign_in(login["email"], login["password"], login["totp_secret"])
    client.select(merchant, market)
    folder = ROOT / name
    write(folder, "signin", signin, {"page": "signin"}, {"kind": "signin", "map": name})
    if smap.read_with == "html":
        rows_per_page = smap.list.page_size
        listing = client.get(
            smap.urls.list.format(page=1, page0=0, rows=rows_per_page, wide=WIDE_FROM)
        ).body
        shown = {c["case_id"] for c in truth}  # the list's own order is the site's business
        rows = sorted(truth, key=lambda c: int(c["case_id"]))
        assert len(shown) <= rows_per_page
        write(
            folder,
            "list",
            listing,
            {"total": len(truth), "rows": [expected_case(c, False) for c in rows]},
            {"kind": "list", "map": name},
        )
        detail = client.get(smap.urls.detail.format(case_id=long_case["case_id"])).body
        write(
            folder,
            "detail",
            detail,
            expected_case(long_case, True),
            {"kind": "detail", "map": name},
        )
        admin.set_faults(blank=True)
        blank = client.get(smap.urls.lobby).body
        write(folder, "blank", blank, {"error": "blank"}, {"kind": "list", "map": name})
    else:
        body = {
            "page": 0,
            "searchPageSize": 50,
            "sortBy": "CreationDate",
            "sortByOrder": "DESC",
            "getCountOnly": False,
            "caseFilters": {"caseOwner": "MerchantCases", "startDate": 0},
        }
        listing = client.post_json(SEARCH, body).body
        write(
            folder,
            "list",
            listing,
            {"total": len(truth), "rows": [expected_case(c, False) for c in truth]},
            {"kind": "api-list", "map": name},
        )
        cid = long_case["case_id"]
        view = json.loads(
            client.get(
                f"/hill/hillservice/mons-api/ViewCase?caseId={cid}&pageSize=100&timeZone=UTC"
            ).body
        )
        contacts = {
            c["contactId"]: json.loads(
                client.get(
                    f"/hill/hillservice/mons-api/ViewContact?caseId={cid}&contactId={c['contactId']}"
                ).body
            )
            for c in view["contactList"]
            if c["messageTruncated"]
        }
        write(
            folder,
            "detail",
            json.dumps({"view": view, "contacts": contacts}, ensure_ascii=False, indent=1).encode(),
            expected_case(long_case, True),
            {"kind": "api-detail", "map": name},
        )
        admin.set_faults(blank=True)
        blank = client.post_json(SEARCH, body).body
        write(folder, "blank", blank, {"error": "blank"}, {"kind": "api-list", "map": name})
    admin.clear_faults()


def main(names: list[str]) -> None:
    """Capture the maps named (default: all of them)."""
    server = MockServer(scenario="demo", port=0).start()
    try:
        admin = AdminClient(server.url, server.admin_token)
        for name, (scenario, merchant, market, locale) in MAPS.items():
            if names and name not in names:
                continue
            capture(server, admin, name, scenario, merchant, market, locale)
            print(f"snapshots/{name}: captured")
    finally:
        server.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
