"""The modern Case Log through its own JSON API (SearchForCases / ViewCase / ViewContact),
called with the page's cookies by the fetch pool."""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from agent.core.dates import from_epoch
from agent.core.models import CaseStatus, Direction, ListRow
from agent.errors import IncompleteReason, ReadError
from agent.site.fetcher import Request
from agent.site.readers.base import CaseDetail, ListResult, Reader, split_cc, with_stable_ids

__all__ = ["ApiReader", "html_to_text"]


_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


def html_to_text(value: str) -> str:
    """The JSON API's message HTML back to the text the seller wrote or Amazon sent."""
    return html.unescape(_TAG.sub("", _BR.sub("\n", value)))


class ApiReader(Reader):
    """Modern UI: the page's own JSON API (SearchForCases / ViewCase / ViewContact)."""

    @property
    def api(self) -> Any:
        assert self.smap.api is not None
        return self.smap.api

    def _search_request(self, page0: int, text: str | None = None, key: str = "") -> Request:
        filters: dict[str, Any] = {"caseOwner": "MerchantCases", "startDate": 0}
        if text:
            filters["searchText"] = text
        body = {
            "page": page0,
            "searchPageSize": self.api.page_size,
            "sortBy": "CreationDate",
            "sortByOrder": "DESC",
            "getCountOnly": False,
            "caseFilters": filters,
        }
        return Request(
            key=key or f"p{page0}",
            url=self.api.search,
            kind="json",
            method="POST",
            body=json.dumps(body),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )

    def search_data(self, key: str, data: Any) -> tuple[int, list[dict[str, Any]]]:
        if not isinstance(data, dict) or "caseSearchResultList" not in data:
            text = json.dumps(data)[:200]
            blank = any(b.casefold() in text.casefold() for b in self.smap.blank_texts)
            raise ReadError(
                IncompleteReason.BLANK_PAGE if blank else IncompleteReason.SELECTOR_MISSING,
                f"SearchForCases {key} answered without a case list: {text}",
            )
        return int(data.get("totalNumberOfResults", -1)), list(data["caseSearchResultList"])

    def list_all(self) -> ListResult:
        first = self.fetcher.fetch([self._search_request(0)])
        stated, items = self.search_data("p0", first["p0"])
        pages = max(1, math.ceil(stated / self.api.page_size))
        rest = self.fetcher.fetch([self._search_request(p) for p in range(1, pages)])
        for p in range(1, pages):
            total, more = self.search_data(f"p{p}", rest[f"p{p}"])
            if total != stated:
                raise ReadError(
                    IncompleteReason.COUNT_MISMATCH,
                    f"the stated case count changed while reading ({stated} -> {total})",
                )
            items.extend(more)
        return self._check_total([self.row(i) for i in items], stated, pages)

    def row(self, item: dict[str, Any]) -> ListRow:
        case_id = str(item.get("caseId", ""))
        raw = str(item.get("statusLabel") or item.get("status") or "")
        status = self.api.statuses.get(str(item.get("status")), CaseStatus.UNKNOWN)
        if status is CaseStatus.UNKNOWN:
            status = self.smap.status(raw)
        created = from_epoch(item.get("creationDate"))
        if not re.fullmatch(r"\d{8,14}", case_id) or created is None:
            raise ReadError(
                IncompleteReason.SELECTOR_MISSING, f"unexpected case entry {item!r:.200}"
            )
        return ListRow(
            case_id=case_id,
            subject=str(item.get("shortDescription") or ""),
            status=status,
            status_raw=raw,
            created_at=created,
            last_updated_at=from_epoch(item.get("lastUpdatedDate")),
            last_amazon_reply_at=from_epoch(item.get("lastAmazonReplyDate")),
            message_count=item.get("numberOfContacts"),
            marketplace=self.marketplace_id,
        )

    def _view_request(self, case_id: str, token: str | None) -> Request:
        url = (
            f"{self.api.view}?caseId={quote(case_id)}&pageSize={self.api.contacts_page_size}"
            "&timeZone=UTC"
        )
        if token:
            url += f"&currentToken={quote(token)}"
        return Request(key=case_id, url=url, kind="json")

    def read_batch(self, case_ids: list[str]) -> dict[str, CaseDetail]:
        meta: dict[str, dict[str, Any]] = {}
        contacts: dict[str, list[dict[str, Any]]] = {cid: [] for cid in case_ids}
        tokens: dict[str, str | None] = dict.fromkeys(case_ids)
        todo = case_ids
        while todo:  # a long thread comes in pages: follow each case's token
            got = self.fetcher.fetch([self._view_request(c, tokens[c]) for c in todo])
            nxt = []
            for cid in todo:
                data = got[cid]
                if not isinstance(data, dict) or "viewCaseMetaData" not in data:
                    raise ReadError(
                        IncompleteReason.SELECTOR_MISSING,
                        f"ViewCase {cid} answered without case data: {json.dumps(data)[:200]}",
                    )
                meta.setdefault(cid, data["viewCaseMetaData"])
                contacts[cid].extend(data.get("contactList") or [])
                tokens[cid] = data.get("currentToken")
                if tokens[cid]:
                    nxt.append(cid)
            todo = nxt
        self._expand_truncated(contacts)
        return {cid: self.detail(cid, meta[cid], contacts[cid]) for cid in case_ids}

    def _expand_truncated(self, contacts: dict[str, list[dict[str, Any]]]) -> None:
        """'See more': fetch the full text of every truncated contact."""
        reqs = [
            Request(
                key=f"{cid}/{c['contactId']}",
                url=f"{self.api.contact}?caseId={quote(cid)}&contactId={quote(str(c['contactId']))}",
                kind="json",
            )
            for cid, items in contacts.items()
            for c in items
            if c.get("messageTruncated")
        ]
        if not reqs:
            return
        got = self.fetcher.fetch(reqs)
        for cid, items in contacts.items():
            for c in items:
                if c.get("messageTruncated"):
                    full = got[f"{cid}/{c['contactId']}"]
                    full = full.get("contact", full) if isinstance(full, dict) else {}
                    if "message" not in full or full.get("messageTruncated"):
                        raise ReadError(
                            IncompleteReason.SELECTOR_MISSING,
                            f"ViewContact {cid}/{c['contactId']} gave no full message",
                        )
                    c.update(message=full["message"], messageTruncated=False)

    def detail(
        self, case_id: str, meta: dict[str, Any], contacts: list[dict[str, Any]]
    ) -> CaseDetail:
        raw = str(meta.get("caseStatusLabel") or meta.get("caseStatus") or "")
        status = self.api.statuses.get(str(meta.get("caseStatus")), CaseStatus.UNKNOWN)
        if status is CaseStatus.UNKNOWN:
            status = self.smap.status(raw)
        drafts = []
        for c in contacts:
            sent = from_epoch(c.get("timestamp"), millis=True)
            if sent is None:
                raise ReadError(
                    IncompleteReason.SELECTOR_MISSING, f"case {case_id}: undated contact"
                )
            drafts.append(
                {
                    "message_id": str(c.get("contactId") or "") or None,
                    "direction": Direction.FROM_AMAZON
                    if c.get("outbound")
                    else Direction.FROM_SELLER,
                    "sender": str(c.get("sender") or ""),
                    "sender_email": str(c.get("senderEmail") or ""),
                    "sent_at": sent,
                    "body": html_to_text(str(c.get("message") or "")),
                    "attachments": tuple(
                        str(a.get("name") if isinstance(a, dict) else a)
                        for a in c.get("attachments") or ()
                    ),
                }
            )
        return CaseDetail(
            case_id=case_id,
            status=status,
            status_raw=raw,
            subject=meta.get("caseTitle"),
            created_at=from_epoch(meta.get("creationDate")),
            last_updated_at=from_epoch(meta.get("lastUpdatedDate")),
            primary_email=str(meta.get("primaryEmail") or ""),
            cc=split_cc(meta.get("ccList")),
            messages=with_stable_ids(case_id, drafts),
        )

    def search_rows(self, case_ids: Sequence[str]) -> dict[str, ListRow]:
        reqs = [self._search_request(0, text=cid, key=cid) for cid in case_ids]
        got = self.fetcher.fetch(reqs) if reqs else {}
        found = {}
        for cid in case_ids:
            _, items = self.search_data(cid, got[cid])
            hit = next((i for i in items if str(i.get("caseId")) == cid), None)
            if hit is not None:
                found[cid] = self.row(hit)
        return found
