"""Helpers shared by the mock-site tests (imported by name: tests/mock is on sys.path)."""

from __future__ import annotations

from typing import Any

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
