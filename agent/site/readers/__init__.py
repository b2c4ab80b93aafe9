"""Reading the Case Log of one marketplace: the list of every case, then case details.

Two readers behind one interface, both driven by the selector map:

- :class:`HtmlReader` fetches server-rendered pages (classic UI) from inside the signed-in
  page and extracts rows and messages there with the map's selectors;
- :class:`ApiReader` (modern UI) calls the page's own JSON API with the page's cookies.

Both read all history (the date filter set wide, not the 30-day default) at the largest page
size, and check that the rows add up to the count the site states.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from playwright.sync_api import Error as PlaywrightError

from agent.config import Account, Marketplace
from agent.core.dates import DateParseError, from_epoch, parse_site_datetime
from agent.core.models import CaseStatus, Direction, IncompleteReason, ListRow, Message
from agent.site.fetcher import Fetcher, ReadError, Request
from agent.site.selectormap import SelectorMap
from agent.site.session import AccountContext

WIDE_FROM = "2000-01-01"
Progress = Callable[[int], None]


@dataclass
class ListResult:
    rows: list[ListRow]
    stated_total: int
    pages: int


@dataclass
class CaseDetail:
    case_id: str
    status: CaseStatus
    status_raw: str
    subject: str | None
    created_at: datetime | None
    primary_email: str
    cc: tuple[str, ...]
    messages: list[Message] = field(default_factory=list)
    last_updated_at: datetime | None = None


def split_cc(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if not value:
        return ()
    parts = value if not isinstance(value, str) else re.split(r"[,;\s]+", value)
    return tuple(p.strip() for p in parts if p and p.strip())


def raise_if_failed(where: str, data: dict[str, Any]) -> None:
    """An extraction that reported a blank page or a selector that matched nothing."""
    if "error" in data:
        reason = (
            IncompleteReason.BLANK_PAGE
            if data["error"] == "blank"
            else IncompleteReason.SELECTOR_MISSING
        )
        raise ReadError(reason, f"{where}: {data['error']}: {data.get('detail')}")


def with_stable_ids(case_id: str, drafts: Iterable[dict[str, Any]]) -> list[Message]:
    """Messages from dicts; those without a source id get a hash id, made unique by the
    order of otherwise identical entries (oldest first)."""
    seen: Counter[str] = Counter()
    out: list[Message] = []
    for d in sorted(drafts, key=lambda d: d["sent_at"]):
        mid = d.pop("message_id", None)
        if not mid:
            base = Message.stable_id(case_id, d["sender"], d["sent_at"], d["body"])
            seen[base] += 1
            mid = base if seen[base] == 1 else f"{base}-{seen[base]}"
        out.append(Message(message_id=mid, case_id=case_id, **d))
    return out


class Reader:
    """What every reader offers the sync."""

    def __init__(
        self,
        ctx: AccountContext,
        smap: SelectorMap,
        account: Account,
        marketplace: Marketplace | None,
        fetcher: Fetcher,
    ) -> None:
        self.ctx = ctx
        self.smap = smap
        self.account = account
        self.marketplace = marketplace
        self.fetcher = fetcher

    @property
    def marketplace_id(self) -> str:
        return self.marketplace.id if self.marketplace else ""

    def landing(self) -> str:
        path = self.smap.urls.lobby
        if self.marketplace:
            switch = self.smap.urls.switch.format(
                merchant=quote(self.account.merchant_id or ""),
                marketplace=quote(self.marketplace.id),
            )
            path += ("&" if "?" in path else "?") + switch
        return path

    def open(self) -> None:
        """Sign in if needed and open this marketplace's lobby (selects the marketplace)."""
        self.ctx.ensure_signed_in(self.landing())

    def parse_date(self, text: str | None) -> datetime | None:
        if not text or text.strip() in self.smap.no_reply_texts:
            return None
        try:
            return parse_site_datetime(text, self.smap.date_formats, self.smap.timezone)
        except DateParseError as exc:
            raise ReadError(
                IncompleteReason.SELECTOR_MISSING,
                f"{exc} (selector map {self.smap.name}: add the format to date_formats)",
            ) from None

    def list_all(self) -> ListResult:
        raise NotImplementedError

    def details(
        self, case_ids: Sequence[str], progress: Progress | None = None
    ) -> dict[str, CaseDetail]:
        """Read each case whole, a batch at a time, each batch reported to ``progress`` as it
        completes."""
        out: dict[str, CaseDetail] = {}
        batch = max(64, self.fetcher.concurrency * 32)
        for start in range(0, len(case_ids), batch):
            chunk = list(case_ids[start : start + batch])
            out.update(self.read_batch(chunk))
            if progress:
                progress(len(chunk))
        return out

    def read_batch(self, case_ids: list[str]) -> dict[str, CaseDetail]:
        raise NotImplementedError

    def search_rows(self, case_ids: Sequence[str]) -> dict[str, ListRow]:
        """Search each ID (all history); return the rows of those the site still knows."""
        raise NotImplementedError

    def search_ids(self, case_ids: Sequence[str]) -> set[str]:
        return set(self.search_rows(case_ids))

    def _check_total(self, rows: list[ListRow], stated: int, pages: int) -> ListResult:
        ids = [r.case_id for r in rows]
        if len(set(ids)) != len(ids) or len(ids) != stated:
            raise ReadError(
                IncompleteReason.COUNT_MISMATCH,
                f"the site states {stated} cases but {len(set(ids))} distinct ones were listed "
                f"over {pages} page(s)",
            )
        return ListResult(rows, stated, pages)


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
        amazon = {s.casefold() for s in self.smap.detail.from_amazon_senders}
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
                    if sender.casefold() in amazon
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


class DomReader(HtmlReader):
    """Modern UI through its rendered pages, as a person sees them: lobby pages with all
    history at the largest page size, then each case page with every older message loaded
    and every "See more" expanded. Slower than the API; the fallback when the API changes.

    The lobby keeps its state in the URL (``range=all&pageSize=50&sort=CaseId&order=ASC``),
    so each lobby page is one navigation. Rows and messages are extracted with the same map
    as saved pages, through open shadow roots.
    """

    LOBBY_STATE = "range=all&pageSize={rows}&sort=CaseId&order=ASC&page={page}"

    def _ready(self, root: str) -> None:
        """Wait until the component at ``root`` has rendered, or read the error it shows."""
        page = self.ctx.page
        try:
            page.wait_for_selector(f"{root}:not([data-state=loading])", state="attached")
        except PlaywrightError as exc:
            raise ReadError(
                IncompleteReason.TIMEOUT, f"{page.url} never finished rendering ({exc})"
            ) from None
        error = page.locator(f"{root}[data-state=error] [data-testid=error-message]")
        if error.count():
            text = " ".join(error.first.inner_text().split())
            blank = any(b.casefold() in text.casefold() for b in self.smap.blank_texts)
            raise ReadError(
                IncompleteReason.BLANK_PAGE if blank else IncompleteReason.HTTP_ERROR,
                f"{page.url}: {text}",
            )

    def _extract(self, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
        req = Request(key="live", url=self.ctx.page.url, kind=kind, live=True)
        data: dict[str, Any] = self.fetcher.fetch([req], spec, self.smap.blank_texts)["live"]
        raise_if_failed(self.ctx.page.url, data)
        return data

    def _list_page(self, page: int, extra: str = "") -> dict[str, Any]:
        state = self.LOBBY_STATE.format(rows=self.smap.list.page_size, page=page)
        self.ctx.goto(f"{self.smap.urls.lobby}?{state}{extra}")
        self._ready("[data-testid=case-lobby]")
        return self._extract("list", self.list_spec())

    def list_all(self) -> ListResult:
        first = self._list_page(1)
        stated = self.stated(first)
        pages = max(1, math.ceil(stated / self.smap.list.page_size))
        rows = [self.row(r) for r in first["rows"]]
        for p in range(2, pages + 1):
            data = self._list_page(p)
            if self.stated(data) != stated:
                raise ReadError(IncompleteReason.COUNT_MISMATCH, "the stated case count changed")
            rows += [self.row(r) for r in data["rows"]]
        return self._check_total(rows, stated, pages)

    def details(
        self, case_ids: Sequence[str], progress: Progress | None = None
    ) -> dict[str, CaseDetail]:
        out: dict[str, CaseDetail] = {}
        page = self.ctx.page
        for cid in case_ids:
            self.ctx.goto(self.smap.urls.detail.format(case_id=quote(cid)))
            self._ready("[data-testid=case-detail]")
            spec = self.smap.detail
            older = page.locator(spec.load_older) if spec.load_older else None
            while older is not None and older.count():
                before = page.locator(spec.message).count()
                older.first.click()  # "Show older messages": the next page of the thread
                page.locator(spec.message).nth(before).wait_for(state="attached")
            if spec.see_more:
                for button in page.locator(spec.see_more).all():
                    button.click()  # "See more": the full text is fetched and shown
                if page.locator(spec.see_more).count():
                    page.wait_for_selector(spec.see_more, state="detached")
            out[cid] = self.detail(cid, self._extract("detail", self.smap.detail.model_dump()))
            if progress:
                progress(1)
        return out

    def search_rows(self, case_ids: Sequence[str]) -> dict[str, ListRow]:
        found = {}
        for cid in case_ids:
            data = self._list_page(1, f"&q={quote(cid)}")
            hit = next((r for r in data["rows"] if r.get("case_id") == cid), None)
            if hit is not None:
                found[cid] = self.row(hit)
        return found


class FallbackReader(Reader):
    """The API reader, switching to the DOM reader for the rest of the run if the API no
    longer answers in the shape the map describes (an endpoint gone, a changed payload).
    Blank pages, HTTP 5xx and 429 are not reasons to switch: they fail the DOM the same way.
    """

    def __init__(self, primary: Reader, fallback: Reader) -> None:
        super().__init__(
            primary.ctx, primary.smap, primary.account, primary.marketplace, primary.fetcher
        )
        self.current = primary
        self.fallback = fallback
        self.switched = ""

    def _switch(self, exc: ReadError) -> bool:
        api_gone = exc.reason == IncompleteReason.SELECTOR_MISSING or (
            exc.reason == IncompleteReason.HTTP_ERROR
            and re.search(r"HTTP (400|404|405|410)", exc.detail)
        )
        if self.current is self.fallback or not api_gone:
            return False
        self.switched = exc.detail
        self.current = self.fallback
        return True

    def open(self) -> None:
        self.current.open()

    def list_all(self) -> ListResult:
        try:
            return self.current.list_all()
        except ReadError as exc:
            if not self._switch(exc):
                raise
            return self.current.list_all()

    def details(
        self, case_ids: Sequence[str], progress: Progress | None = None
    ) -> dict[str, CaseDetail]:
        try:
            return self.current.details(case_ids, progress)
        except ReadError as exc:
            if not self._switch(exc):
                raise
            return self.current.details(case_ids, progress)

    def search_rows(self, case_ids: Sequence[str]) -> dict[str, ListRow]:
        return self.current.search_rows(case_ids)


def make_reader(
    ctx: AccountContext,
    smap: SelectorMap,
    account: Account,
    marketplace: Marketplace | None,
    fetcher: Fetcher,
) -> Reader:
    """The reader for one marketplace: classic pages, or the modern API (DOM as fallback),
    or the DOM only when the marketplace says ``reader = "dom"``."""
    if smap.ui == "classic" or smap.api is None:
        return HtmlReader(ctx, smap, account, marketplace, fetcher)
    mode = marketplace.reader if marketplace else "auto"
    dom = DomReader(ctx, smap, account, marketplace, fetcher)
    if mode == "dom":
        return dom
    api = ApiReader(ctx, smap, account, marketplace, fetcher)
    return api if mode == "api" else FallbackReader(api, dom)
