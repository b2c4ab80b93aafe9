"""Learning a Case Log's URLs from its lobby page: the controls a person uses say them.

- the detail page: a row's link to its case, with the case ID made ``{case_id}``;
- all history: a GET form's choice whose value is ``all`` (or whose label says all cases);
- the largest page: the rows-per-page choice with the highest number;
- the page number: the parameter the pagination links change;
- search: the GET form's text or search field.

What the page does not offer is left to the map being extended (``None``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlsplit

from agent.core.text import squash
from agent.site.learn.tree import Node

__all__ = ["LearnedUrls", "infer_urls"]

ALL_WORDS = ("all cases", "all history", "all", "全部", "所有")


@dataclass(frozen=True)
class LearnedUrls:
    lobby: str
    list: str | None
    search: str | None
    detail: str | None
    page_size: int | None
    wide: str | None  # the "all history" parameter, e.g. "range=all"


def _same_path(href: str, path: str) -> bool:
    target = urlsplit(href).path
    return target in ("", path) or target.rstrip("/") == path.rstrip("/")


def _forms(doc: Node, path: str) -> list[Node]:
    return [
        n
        for n in doc.walk()
        if n.tag == "form"
        and n.attrs.get("method", "get").lower() == "get"
        and _same_path(n.attrs.get("action", ""), path)
    ]


def _wide(forms: Sequence[Node]) -> str | None:
    for form in forms:
        for select in (n for n in form.walk() if n.tag == "select" and n.attrs.get("name")):
            for option in (n for n in select.walk() if n.tag == "option"):
                value = option.attrs.get("value", squash(option.text))
                label = squash(option.text).casefold()
                if value.casefold() == "all" or label in ALL_WORDS or label.startswith("all "):
                    return f"{select.attrs['name']}={quote(value)}"
    return None


def _rows(forms: Sequence[Node]) -> tuple[str, int] | None:
    best: tuple[str, int] | None = None
    for form in forms:
        for select in (n for n in form.walk() if n.tag == "select" and n.attrs.get("name")):
            values = [
                option.attrs.get("value", squash(option.text))
                for option in select.walk()
                if option.tag == "option"
            ]
            if len(values) >= 2 and all(v.isdigit() and int(v) >= 5 for v in values):
                top = max(int(v) for v in values)
                if best is None or top > best[1]:
                    best = (select.attrs["name"], top)
    return best


def _search(forms: Sequence[Node]) -> str | None:
    for form in forms:
        for field in form.walk():
            kind = field.attrs.get("type", "text")
            if field.tag == "input" and kind in ("search", "text") and field.attrs.get("name"):
                return field.attrs["name"]
    return None


def _page_param(doc: Node, path: str) -> str | None:
    """The parameter pagination links (rel=next/prev, aria-current, or a number's text) set
    to a page number."""
    counts: dict[str, int] = {}
    for link in doc.walk():
        href = link.attrs.get("href")
        if link.tag != "a" or not href or not _same_path(href, path):
            continue
        paging = (
            link.attrs.get("rel") in ("next", "prev")
            or "aria-current" in link.attrs
            or squash(link.text).isdigit()
        )
        if not paging:
            continue
        for name, value in parse_qsl(urlsplit(href).query):
            if value.isdigit():
                counts[name] = counts.get(name, 0) + 1
    return max(counts, key=lambda n: (counts[n], n == "page")) if counts else None


def _detail(case_links: Sequence[tuple[str, str]]) -> str | None:
    """The detail URL with ``{case_id}``, when every row's link says it the same way."""
    templates = set()
    for case_id, href in case_links:
        parts = urlsplit(href)
        local = parts.path + (f"?{parts.query}" if parts.query else "")
        if case_id not in local:
            return None
        templates.add(local.replace(case_id, "{case_id}"))
    return templates.pop() if len(templates) == 1 else None


def infer_urls(doc: Node, page_url: str, case_links: Sequence[tuple[str, str]]) -> LearnedUrls:
    path = urlsplit(page_url).path or "/"
    forms = _forms(doc, path)
    wide = _wide(forms)
    rows = _rows(forms)
    page = _page_param(doc, path)
    q = _search(forms)
    listing = None
    if rows and page:
        parts = [p for p in (wide, f"{rows[0]}={{rows}}", f"{page}={{page}}") if p]
        listing = f"{path}?{'&'.join(parts)}"
    search = None
    if q:
        parts = [p for p in (f"{q}={{text}}", wide, f"{rows[0]}={rows[1]}" if rows else None) if p]
        search = f"{path}?{'&'.join(parts)}"
    return LearnedUrls(
        lobby=path,
        list=listing,
        search=search,
        detail=_detail(case_links),
        page_size=rows[1] if rows else None,
        wide=wide,
    )
