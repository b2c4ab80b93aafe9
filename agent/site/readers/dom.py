"""The modern Case Log through its rendered pages, as a person sees them (the API's fallback)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import Any
from urllib.parse import quote

from playwright.sync_api import Error as PlaywrightError

from agent.core.models import ListRow
from agent.core.text import squash
from agent.errors import ConfigError, IncompleteReason, ReadError
from agent.site.fetcher import Fetcher, RenderedPage, Request
from agent.site.readers.base import CaseDetail, ListResult, Progress, raise_if_failed
from agent.site.readers.classic import HtmlReader
from agent.site.selectormap import DomSpec

__all__ = ["DomReader"]


class DomReader(HtmlReader):
    """Modern UI through its rendered pages, as a person sees them: lobby pages with all
    history at the largest page size, then each case page with every older message loaded
    and every "See more" expanded. Slower than the API; the fallback when the API changes.

    Everything it waits for comes from the map's ``[dom]`` section: the element that renders
    the list or the case, how it says it is ready or failed, and the lobby's state in its URL
    (``range=all&pageSize=50&sort=CaseId&order=ASC``), so each lobby page is one navigation.
    Rows and messages are extracted with the same map as saved pages, through open shadow
    roots.
    """

    @property
    def hooks(self) -> DomSpec:
        if self.smap.dom is None:
            raise ConfigError(
                f"selector map {self.smap.name} has no [dom] section, which the DOM reader "
                "needs; add one or choose another reader for the marketplace"
            )
        return self.smap.dom

    def _ready(self, root: str) -> None:
        """Wait until the component at ``root`` has rendered, or read the error it shows."""
        page, hooks = self.ctx.page, self.hooks
        try:
            page.wait_for_selector(f"{root}{hooks.ready}", state="attached")
        except PlaywrightError as exc:
            raise ReadError(
                IncompleteReason.TIMEOUT, f"{page.url} never finished rendering ({exc})"
            ) from None
        error = page.locator(f"{root}{hooks.failed} {hooks.error}")
        if error.count():
            text = squash(error.first.inner_text())
            blank = any(b.casefold() in text.casefold() for b in self.smap.blank_texts)
            raise ReadError(
                IncompleteReason.BLANK_PAGE if blank else IncompleteReason.HTTP_ERROR,
                f"{page.url}: {text}",
            )

    @cached_property
    def _rendered(self) -> Fetcher:
        """Extraction from the page as rendered (no fetching), with the main fetcher's rules."""
        main = self.fetcher
        return Fetcher(
            RenderedPage(self.ctx.page, self.ctx.origin),
            account=main.account,
            relogin=main.relogin,
            concurrency=1,
            retry=main.retry,
            timeout_s=main.timeout_s,
        )

    def _extract(self, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
        req = Request(key="page", url=self.ctx.page.url, kind=kind)
        data: dict[str, Any] = self._rendered.fetch([req], spec, self.smap.blank_texts)["page"]
        raise_if_failed(self.ctx.page.url, data)
        return data

    def _list_page(self, page: int, search: str = "") -> dict[str, Any]:
        hooks = self.hooks
        state = hooks.lobby_state.format(rows=self.smap.list.page_size, page=page)
        if search:
            state += f"&{hooks.search_param}={quote(search)}"
        lobby = self.smap.urls.lobby
        self.ctx.goto(f"{lobby}{'&' if '?' in lobby else '?'}{state}")
        self._ready(hooks.lobby)
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

    def detail_batches(
        self, case_ids: Sequence[str], progress: Progress | None = None
    ) -> Iterator[dict[str, CaseDetail]]:
        """One case at a time: each is a page to open and expand."""
        for cid in case_ids:
            yield self.read_batch([cid])
            if progress:
                progress(1)

    def read_batch(self, case_ids: list[str]) -> dict[str, CaseDetail]:
        out: dict[str, CaseDetail] = {}
        page = self.ctx.page
        for cid in case_ids:
            self.ctx.goto(self.smap.urls.detail.format(case_id=quote(cid)))
            self._ready(self.hooks.detail)
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
        return out

    def search_rows(self, case_ids: Sequence[str]) -> dict[str, ListRow]:
        found = {}
        for cid in case_ids:
            rows = (self.row(r) for r in self._list_page(1, search=cid)["rows"])
            hit = next((r for r in rows if r.case_id == cid), None)
            if hit is not None:
                found[cid] = hit
        return found
