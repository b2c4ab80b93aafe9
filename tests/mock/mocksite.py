"""Helpers shared by the mock-site tests (imported by name: tests/mock is on sys.path)."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from caselog_mock import AdminClient, MockServer, SellerClient
from caselog_mock.client import HttpResult
from playwright.sync_api import Page

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


READY = "[data-testid=case-lobby][data-state=ready]"


def table(page: Page) -> list[dict[str, str]]:
    """The displayed rows, keyed by header text (works whatever the column order)."""
    return page.evaluate(
        """() => {
        const heads = [...document.querySelectorAll('#case-log-table thead th')]
            .map(th => th.textContent.trim());
        return [...document.querySelectorAll('#case-log-table tbody tr.case-row')].map(tr => {
            const row = {};
            [...tr.querySelectorAll('td')].forEach((td, i) => { row[heads[i]] = td.textContent; });
            return row;
        });
    }"""
    )


DEEP_ROWS = """() => {
    const deep = (root, sel, out = []) => {
        for (const el of root.querySelectorAll('*')) {
            if (el.matches(sel)) out.push(el);
            if (el.shadowRoot) deep(el.shadowRoot, sel, out);
        }
        return out;
    };
    const text = (row, id) => deep(row.shadowRoot, `[data-testid=${id}]`)[0].textContent;
    return deep(document, '[data-testid=case-row]').map(row => ({
        id: text(row, 'case-id-link'), status: text(row, 'case-status'),
        subject: text(row, 'case-subject'), created: text(row, 'case-creation-date'),
        last_reply: text(row, 'case-last-reply'),
    }));
}"""


def rows(page: Page) -> list[dict[str, str]]:
    """Read the lobby as a scraper must: through the open shadow roots, by data-testid."""
    page.wait_for_selector(READY, state="attached")
    result: list[dict[str, str]] = page.evaluate(DEEP_ROWS)
    return result


def rows_by_locator(page: Page) -> list[dict[str, str]]:
    """The same through Playwright locators (CSS pierces open shadow roots)."""
    page.wait_for_selector(READY, state="attached")
    return [
        {
            "id": row.locator("[data-testid=case-id-link]").inner_text(),
            "status": row.locator("[data-testid=case-status]").inner_text(),
            "subject": row.locator("[data-testid=case-subject]").text_content() or "",
            "created": row.locator("[data-testid=case-creation-date]").inner_text(),
            "last_reply": row.locator("[data-testid=case-last-reply]").inner_text(),
        }
        for row in page.locator("[data-testid=case-row]").all()
    ]


# --- seller actions, as each UI generation's pages send them (fixtures/README.md §9) ---------

TOKEN = "anti-csrftoken-a2z"
UI_LOCALES = [(ui, loc) for ui in ("classic", "modern") for loc in ("en-US", "en-GB", "zh-CN")]
ACTION_PATHS = {
    "classic": {
        "reply": "/gp/case-dashboard/reply",
        "reopen": "/gp/case-dashboard/reopen",
        "edit": "/gp/case-dashboard/edit-subject",
        "cc": "/gp/case-dashboard/edit-cc.html",
    },
    "modern": {
        "reply": f"{API}/ReplyToCase",
        "reopen": f"{API}/ReopenCase",
        "edit": f"{API}/UpdateCaseTitle",
        "cc": f"{API}/UpdateCaseCcList",
    },
}
FIELD_NAMES = {
    "classic": {"case": "caseID", "message": "message", "cc": "cc", "subject": "subject"},
    "modern": {"case": "caseId", "message": "message", "cc": "ccList", "subject": "caseTitle"},
}
SUCCESS = {"classic": 303, "modern": 200}
KEEP = object()  # send the page's own token


def signed_in_client(server: MockServer) -> SellerClient:
    """A new plain-HTTP seller, signed in (a session of its own)."""
    client = SellerClient(server.url)
    login = server.login
    client.sign_in(login["email"], login["password"], login["totp_secret"])
    return client


def case_id(admin: AdminClient, subject: str) -> str:
    """The ID of the one case whose subject contains ``subject``."""
    found: str = by_subject(admin.ground_truth(), subject)["case_id"]
    return found


def detail_path(ui: str, case_id: str) -> str:
    if ui == "classic":
        return f"/gp/case-dashboard/view-case.html?caseID={case_id}"
    return f"/cu/case-dashboard/view-case?caseID={case_id}"


class Actor:
    """Posts seller actions the way one UI generation's pages do.

    Classic: form fields (reply as ``multipart/form-data``), the token as the form field;
    modern: JSON (reply as multipart, like the page's FormData), the token in the header.
    """

    def __init__(self, seller: SellerClient, ui: str) -> None:
        self.seller = seller
        self.ui = ui
        self.names = FIELD_NAMES[ui]

    def token(self, case_id: str) -> str:
        return self.seller.csrf_token(detail_path(self.ui, case_id))

    def send(
        self,
        kind: str,
        case_id: str,
        token: Any = KEEP,
        files: Sequence[tuple[str, bytes]] = (),
        **values: str,
    ) -> HttpResult:
        """Send one action; ``values`` by logical name (message, cc, subject)."""
        if token is KEEP:
            token = self.token(case_id)
        fields = {self.names["case"]: case_id, **{self.names[k]: v for k, v in values.items()}}
        path = ACTION_PATHS[self.ui][kind]
        if self.ui == "classic":
            if token is not None:
                fields[TOKEN] = token
            if kind == "reply":
                return self.seller.post_multipart(path, fields, files, follow=False)
            return self.seller.post_form(path, fields, follow=False)
        headers = {TOKEN: token} if token is not None else {}
        if kind == "reply":
            return self.seller.post_multipart(path, fields, files, headers=headers)
        return self.seller.post_json(path, fields, headers)


def refusal_text(res: HttpResult, ui: str) -> str:
    """The refusal sentence: modern's JSON ``message``, classic's ``#action-error`` text."""
    if ui == "modern":
        message: str = res.json()["message"]
        return message
    match = re.search(r'<div id="action-error"[^>]*>(.*?)</div>', res.text, re.S)
    assert match, "no #action-error on the page"
    return html.unescape(match.group(1))
