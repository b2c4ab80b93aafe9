"""The classic Case Log: server-rendered list and detail pages, read through the selector map.

Pages are fetched with the page's cookies by the fetch pool and turned into records inside
the page (``js/fetch_pool.js``); this module checks what came back and makes records of it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cached_property
from typing import Any
from urllib.parse import quote, urljoin

from agent.core.models import ListRow
from agent.errors import IncompleteReason, ReadError
from agent.site.fetcher import Request
from agent.site.readers.base import WIDE_FROM, CaseDetail, ListResult, Reader, raise_if_failed
from agent.site.readers.records import PageRecords

__all__ = ["HtmlReader"]


class HtmlReader(Reader):
    """Server-rendered list and detail pages (the classic and grid Case Logs), fetched with
    the page's cookies and read through the selector map."""

    @cached_property
    def records(self) -> PageRecords:
        return PageRecords(self.smap, self.marketplace_id)

    def stated(self, data: dict[str, Any]) -> int:
        return self.records.stated(data)

    def row(self, raw: dict[str, Any]) -> ListRow:
        return self.records.row(raw)

    def detail(self, case_id: str, data: dict[str, Any], *more: dict[str, Any]) -> CaseDetail:
        return self.records.detail(case_id, data, *more)

    def _list_request(self, page: int, extra: str = "") -> Request:
        rows = self.smap.list.page_size
        path = self.smap.urls.list.format(page=page, page0=page - 1, rows=rows, wide=WIDE_FROM)
        return Request(key=f"p{page}{extra}", url=path + extra, kind="list")

    def list_spec(self) -> dict[str, Any]:
        return self.smap.list.model_dump()

    def fetch_lists(self, requests: list[Request]) -> dict[str, Any]:
        got = self.fetcher.fetch(requests, self.list_spec(), self.smap.blank_texts)
        for key, data in got.items():
            raise_if_failed(f"list page {key}", data)
        return got

    def list_all(self) -> ListResult:
        first = self.fetch_lists([self._list_request(1)])["p1"]
        stated = self.stated(first)
        pages = max(1, math.ceil(stated / self.smap.list.page_size))
        rest = self.fetch_lists([self._list_request(p) for p in range(2, pages + 1)])
        rows: list[ListRow] = []
        for p in range(1, pages + 1):
            data = first if p == 1 else rest[f"p{p}"]
            if self.stated(data) != stated:
                raise ReadError(
                    IncompleteReason.COUNT_MISMATCH,
                    f"the stated case count changed while reading ({stated} -> "
                    f"{self.stated(data)})",
                )
            rows.extend(self.row(r) for r in data["rows"])
        return self._check_total(rows, stated, pages)

    def read_batch(self, case_ids: list[str]) -> dict[str, CaseDetail]:
        """Each case's page, then each next page of a long thread (the map's ``older_link``)
        until there is none; a thread's pages are read in order and joined."""
        spec = self.smap.detail.model_dump()
        pages: dict[str, list[dict[str, Any]]] = {cid: [] for cid in case_ids}
        todo = {cid: self.smap.urls.detail.format(case_id=cid) for cid in case_ids}
        while todo:
            reqs = [Request(key=cid, url=url, kind="detail") for cid, url in todo.items()]
            got = self.fetcher.fetch(reqs, spec, self.smap.blank_texts)
            nxt = {}
            for cid, url in todo.items():
                data = got[cid]
                raise_if_failed(f"case {cid} detail", data)
                pages[cid].append(data)
                older = data.get("olderHref")
                if older:
                    nxt[cid] = urljoin(self.ctx.origin + url if url.startswith("/") else url, older)
                    if len(pages[cid]) > 1000:
                        raise ReadError(
                            IncompleteReason.SELECTOR_MISSING,
                            f"case {cid}: the thread's older-page link never ends ({older})",
                        )
            todo = nxt
        return {cid: self.detail(cid, *pages[cid]) for cid in case_ids}

    def search_rows(self, case_ids: Sequence[str]) -> dict[str, ListRow]:
        reqs = [
            Request(
                key=cid,
                url=self.smap.urls.search.format(text=quote(cid), wide=WIDE_FROM),
                kind="list",
            )
            for cid in case_ids
        ]
        got = self.fetch_lists(reqs) if reqs else {}
        found = {}
        for cid in case_ids:
            rows = (self.row(r) for r in got[cid]["rows"])
            hit = next((r for r in rows if r.case_id == cid), None)
            if hit is not None:
                found[cid] = hit
        return found
