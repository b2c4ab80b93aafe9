"""Reading the Case Log of one marketplace: the list of every case, then case details.

One interface (:class:`~agent.site.readers.base.Reader`), one module per reader, all driven
by the selector map:

- :class:`HtmlReader` (``classic``): server-rendered pages fetched from inside the signed-in
  page and extracted there with the map's selectors;
- :class:`ApiReader` (``api``): the modern UI's own JSON API with the page's cookies;
- :class:`DomReader` (``dom``): the modern UI's rendered pages, as a person sees them;
- :class:`FallbackReader` (``fallback``): the API, switching to the DOM if the API changed.

To add a reader: a module here with a ``Reader`` subclass, and a case in :func:`make_reader`.
"""

from __future__ import annotations

from agent.config import Account, Marketplace
from agent.errors import ConfigError
from agent.site.fetcher import Fetcher, PagePool
from agent.site.readers.api import ApiReader, html_to_text
from agent.site.readers.base import CaseDetail, ListResult, Reader, landing_path
from agent.site.readers.classic import HtmlReader
from agent.site.readers.dom import DomReader
from agent.site.readers.fallback import FallbackReader
from agent.site.selectormap import SelectorMap
from agent.site.session import AccountContext

__all__ = [
    "ApiReader",
    "CaseDetail",
    "DomReader",
    "FallbackReader",
    "HtmlReader",
    "ListResult",
    "Reader",
    "html_to_text",
    "make_reader",
]


def make_reader(
    ctx: AccountContext,
    smap: SelectorMap,
    account: Account,
    marketplace: Marketplace | None,
    fetcher: Fetcher | None = None,
) -> Reader:
    """The reader for one marketplace, as its map says (``reader``: fetched pages, the
    modern API with the rendered pages as fallback, or the rendered pages), or the DOM when
    the marketplace says ``reader = "dom"``. Its fetcher reads through
    the page's fetch pool and, when the session expires, signs in again to this lobby."""
    if fetcher is None:
        landing = landing_path(smap, account, marketplace)
        fetcher = Fetcher(
            PagePool(ctx.page, ctx.origin),
            account=account.name,
            relogin=lambda: ctx.ensure_signed_in(landing),
            concurrency=account.concurrency,
            retry=ctx.retry,
            timeout_s=account.request_timeout_seconds,
        )
    kind = smap.read_with
    mode = marketplace.reader if marketplace else "auto"
    if kind == "html":
        return HtmlReader(ctx, smap, account, marketplace, fetcher)
    dom = DomReader(ctx, smap, account, marketplace, fetcher) if smap.dom else None
    if kind == "dom" or mode == "dom":
        if dom is None:
            raise ConfigError(f"selector map {smap.name} has no [dom] section for reader 'dom'")
        return dom
    api = ApiReader(ctx, smap, account, marketplace, fetcher)
    return api if mode == "api" or dom is None else FallbackReader(api, dom)
