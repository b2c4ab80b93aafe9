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
HOSTILE_GRID = "A5HOSTILEGRID"  # the hostile scenario's merchant on the grid UI (UK)
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
GRID_LOBBY = "/case-log/"
GRID_DETAIL = "/case-log/case"


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


def recent(truth: dict[str, Any], merchant: str, marketplace: str) -> list[dict[str, Any]]:
    """The demo's default view (opened or updated in the last 30 days), newest first."""
    cutoff = "2026-10-21T17:00:00Z"
    mine = in_marketplace(truth, merchant, marketplace)
    return sorted(
        (c for c in mine if c["created_at"] >= cutoff or c["last_updated_at"] >= cutoff),
        key=lambda c: c["created_at"],
        reverse=True,
    )


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


# --- the grid UI: no ids, no test ids; read by roles, header texts, <time>, <article> -------

GRID_ROWS = """() => {
    const grid = document.querySelector('[role=grid]');
    const heads = [...grid.querySelectorAll('[role=columnheader]')].map(h => h.textContent);
    return [...grid.querySelectorAll('[role=row]')]
        .filter(row => row.querySelector('[role=gridcell]'))
        .map(row => {
            const out = {};
            [...row.querySelectorAll('[role=gridcell]')].forEach((cell, i) => {
                out[heads[i]] = cell.textContent;
                const time = cell.querySelector('time');
                if (time) out[heads[i] + '@datetime'] = time.getAttribute('datetime');
                const chip = cell.querySelector('[aria-label]');
                if (chip) out[heads[i] + '@label'] = chip.getAttribute('aria-label');
            });
            return out;
        });
}"""

ARTICLES = """() => [...document.querySelectorAll('article')].map(a => {
    const time = a.querySelector(':scope > header time');
    const template = a.querySelector(':scope > template');
    const button = a.querySelector(':scope > button');
    return {
        sender: a.querySelector(':scope > header h3').textContent,
        email: a.querySelector(':scope > header address').textContent,
        datetime: time.getAttribute('datetime'),
        when: time.textContent,
        text: a.querySelector(':scope > p').textContent,
        full: template ? template.content.textContent : null,
        button: button ? button.textContent : null,
        attachments: [...a.querySelectorAll(':scope > ul li')].map(li => li.textContent),
    };
})"""

UNSTABLE_HOOKS = """() => [...document.querySelectorAll('*')].flatMap(el =>
    [...el.attributes].map(a => a.name).filter(n => n === 'id' || n.startsWith('data-test')))"""


def grid_rows(page: Page) -> list[dict[str, str]]:
    """The grid's rows keyed by header text (``<header>@datetime``, ``<header>@label`` too)."""
    result: list[dict[str, str]] = page.evaluate(GRID_ROWS)
    return result


def articles(page: Page) -> list[dict[str, Any]]:
    """The messages of a grid detail page, as shown (newest first)."""
    result: list[dict[str, Any]] = page.evaluate(ARTICLES)
    return result


# --- seller actions, as each UI generation's pages send them (fixtures/README.md §10) --------

TOKEN = "anti-csrftoken-a2z"
UIS = ("classic", "modern", "grid")
UI_LOCALES = [(ui, loc) for ui in UIS for loc in ("en-US", "en-GB", "zh-CN")]
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
    "grid": {
        "reply": f"{GRID_DETAIL}/reply",
        "reopen": f"{GRID_DETAIL}/reopen",
        "edit": f"{GRID_DETAIL}/subject",
        "cc": f"{GRID_DETAIL}/cc",
    },
}
FORM_FIELDS = {"case": "caseID", "message": "message", "cc": "cc", "subject": "subject"}
FIELD_NAMES = {
    "classic": FORM_FIELDS,
    "modern": {"case": "caseId", "message": "message", "cc": "ccList", "subject": "caseTitle"},
    "grid": FORM_FIELDS,
}
SUCCESS = {"classic": 303, "modern": 200, "grid": 303}
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


DETAIL_PAGES = {
    "classic": "/gp/case-dashboard/view-case.html",
    "modern": "/cu/case-dashboard/view-case",
    "grid": GRID_DETAIL,
}


def detail_path(ui: str, case_id: str) -> str:
    return f"{DETAIL_PAGES[ui]}?caseID={case_id}"


class Actor:
    """Posts seller actions the way one UI generation's pages do.

    Classic and grid: form fields (reply as ``multipart/form-data``), the token as the form
    field; modern: JSON (reply as multipart, like the page's FormData), the token in the header.
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
        if self.ui != "modern":
            if token is not None:
                fields[TOKEN] = token
            if kind == "reply":
                return self.seller.post_multipart(path, fields, files, follow=False)
            return self.seller.post_form(path, fields, follow=False)
        headers = {TOKEN: token} if token is not None else {}
        if kind == "reply":
            return self.seller.post_multipart(path, fields, files, headers=headers)
        return self.seller.post_json(path, fields, headers)


REFUSAL_HOOKS = {  # the refusal on the page again: classic by id, grid by role and data-action
    "classic": re.compile(r'<div id="action-error"[^>]*>(.*?)</div>', re.S),
    "grid": re.compile(r'<div role="alert"[^>]* data-action="[^"]*"[^>]*>(.*?)</div>', re.S),
}


def refusal_text(res: HttpResult, ui: str) -> str:
    """The refusal sentence: modern's JSON ``message``, the page's refusal hook otherwise."""
    if ui == "modern":
        message: str = res.json()["message"]
        return message
    match = REFUSAL_HOOKS[ui].search(res.text)
    assert match, f"no refusal hook on the {ui} page"
    return html.unescape(match.group(1))
