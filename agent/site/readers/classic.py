"""The classic Case Log: server-rendered list and detail pages, read through the selector map.

Pages are fetched with the page's cookies by the fetch pool and turned into records inside
the page (``js/fetch_pool.js``); this module checks what came back and makes records of it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

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
        spec = self.smap.list.model_dump()
        spec["columns"] = {k.lower(): v for k, v in spec["columns"].items()}
        return spec

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
        case_id = (raw.get("case_id") or "").strip()
        if not re.fullmatch(r"\d{8,14}", case_id):
            raise ReadError(IncompleteReason.SELECTOR_MISSING, f"row with case ID {case_id!r}")
        label = raw.get("status") or ""
        created = self.parse_date(raw.get("created_at"))
        if created is None:
            raise ReadError(IncompleteReason.SELECTOR_MISSING, f"case {case_id} has no date")
        return ListRow(
            case_id=case_id,
            subject=raw.get("subject") or "",
            status=self.smap.status(label),
            status_raw=label,
            created_at=created,
            last_updated_at=self.parse_date(raw.get("last_updated_at")),
            last_amazon_reply_at=self.parse_date(raw.get("last_amazon_reply_at")),
            marketplace=self.marketplace_id,
        )

    def read_batch(self, case_ids: list[str]) -> dict[str, CaseDetail]:
        reqs = [
            Request(key=cid, url=self.smap.urls.detail.format(case_id=cid), kind="detail")
            for cid in case_ids
        ]
        got = self.fetcher.fetch(reqs, self.smap.detail.model_dump(), self.smap.blank_texts)
        return {cid: self.detail(cid, got[cid]) for cid in case_ids}

    def detail(self, case_id: str, data: dict[str, Any]) -> CaseDetail:
        raise_if_failed(f"case {case_id} detail", data)
        f = data["fields"]
        amazon = {squash(s).casefold() for s in self.smap.detail.from_amazon_senders}
        drafts = []
        for m in data["messages"]:
            when = " ".join(x for x in (m.get("date"), m.get("time")) if x)
            sent = self.parse_date(when or m.get("datetime"))
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
            created_at=self.parse_date(f.get("created_at")),
            last_updated_at=self.parse_date(f.get("last_updated_at")),
            primary_email=f.get("primary_email") or "",
            cc=split_cc(f.get("cc")),
            messages=with_stable_ids(case_id, drafts),
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
        return {
            cid: self.row(r)
            for cid in case_ids
            for r in got[cid]["rows"]
            if r.get("case_id") == cid
        }
