"""The classic Case Log: server-rendered list and detail pages, read through the selector map.

Pages are fetched with the page's cookies by the fetch pool and turned into records inside
the page (``js/fetch_pool.js``); this module checks what came back and makes records of it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urljoin

from agent.core.models import Direction, ListRow
from agent.core.text import squash
from agent.errors import IncompleteReason, ReadError
from agent.site.fetcher import Request
from agent.site.readers.base import (
    WIDE_FROM,
    CaseDetail,
    ListResult,
    Reader,
    raise_if_failed,
    split_cc,
    with_stable_ids,
)

__all__ = ["HtmlReader"]


class HtmlReader(Reader):
    """Classic UI: server-rendered list and detail pages, read through the selector map."""

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

    def stated(self, data: dict[str, Any]) -> int:
        match = re.search(self.smap.list.count_pattern, data["countText"])
        if not match:
            raise ReadError(
                IncompleteReason.SELECTOR_MISSING,
                f"count line {data['countText']!r} does not match {self.smap.list.count_pattern!r}",
            )
        return int(match.group("total").replace(",", "").replace(".", ""))

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

    def row(self, raw: dict[str, Any]) -> ListRow:
        cols = self.smap.list.columns

        def get(field: str) -> Any:
            return self.value(cols.get(field), raw.get(field))

        def date(field: str) -> Any:
            return self.parse_date(get(field), cols.get(field))

        case_id = (get("case_id") or "").strip()
        if not re.fullmatch(r"\d{8,14}", case_id):
            raise ReadError(IncompleteReason.SELECTOR_MISSING, f"row with case ID {case_id!r}")
        label = get("status") or ""
        created = date("created_at")
        if created is None:
            raise ReadError(IncompleteReason.SELECTOR_MISSING, f"case {case_id} has no date")
        return ListRow(
            case_id=case_id,
            subject=get("subject") or "",
            status=self.smap.status(label),
            status_raw=label,
            created_at=created,
            last_updated_at=date("last_updated_at"),
            last_amazon_reply_at=date("last_amazon_reply_at"),
            marketplace=self.marketplace_id,
        )

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

    def detail(self, case_id: str, data: dict[str, Any], *more: dict[str, Any]) -> CaseDetail:
        """A case from its page's data (and the next pages of its thread)."""
        raise_if_failed(f"case {case_id} detail", data)
        summary = self.smap.detail.fields
        f = {k: self.value(summary.get(k), v) for k, v in data["fields"].items()}
        fields = self.smap.detail.message_fields
        amazon = {squash(s).casefold() for s in self.smap.detail.from_amazon_senders}
        drafts = []
        for raw in (m for page in (data, *more) for m in page["messages"]):
            m = {k: self.value(fields.get(k), v) for k, v in raw.items()}
            if m.get("sent_at"):
                sent = self.parse_date(m["sent_at"], fields.get("sent_at"))
            else:
                when = " ".join(x for x in (m.get("date"), m.get("time")) if x)
                sent = self.parse_date(when, fields.get("date"))
            if sent is None:
                raise ReadError(
                    IncompleteReason.SELECTOR_MISSING, f"case {case_id}: undated message"
                )
            sender = m.get("sender") or ""
            drafts.append(
                {
                    "message_id": m.get("message_id") or None,
                    "direction": Direction.FROM_AMAZON
                    if squash(sender).casefold() in amazon
                    else Direction.FROM_SELLER,
                    "sender": sender,
                    "sender_email": m.get("sender_email") or "",
                    "sent_at": sent,
                    "body": m.get("body") or "",
                    "attachments": tuple(m.get("attachments") or ()),
                }
            )
        label = f.get("status") or ""
        return CaseDetail(
            case_id=case_id,
            status=self.smap.status(label),
            status_raw=label,
            subject=f.get("subject"),
            created_at=self.parse_date(
                f.get("created_at"), self.smap.detail.fields.get("created_at")
            ),
            last_updated_at=self.parse_date(
                f.get("last_updated_at"), self.smap.detail.fields.get("last_updated_at")
            ),
            primary_email=f.get("primary_email") or "",
            cc=split_cc(f.get("cc")),
            messages=with_stable_ids(
                case_id, drafts if self.smap.detail.order == "newest_first" else drafts[::-1]
            ),
        )

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
