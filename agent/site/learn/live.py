"""Learning a marketplace's map from its live pages, signed in as the account, and judging the
candidate by reading the site with it, exactly as a sync would.

1. open the marketplace's lobby (where the old map's landing now leads) and learn the URLs
   its controls offer; 2. open all history at the largest page and learn the list from the
   known cases on it; 3. open a few known cases (the longest threads, messages with
   attachments, long messages first) and learn the detail; 4. assemble the map on the old
   one; 5. read the site with the candidate's own reader (the whole list, those cases) and
   score every field against what is known.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from playwright.sync_api import Error as PlaywrightError
from pydantic import ValidationError

from agent.config import Account, Marketplace
from agent.core.models import Case, Message
from agent.errors import AuthRequired, ReadError, first_problem
from agent.site.learn import (
    DetailPage,
    Score,
    Snapshot,
    all_status_labels,
    assemble,
    capture,
    compare_details,
    compare_rows,
    infer_urls,
    learn_detail,
    learn_list,
)
from agent.site.readers import make_reader
from agent.site.readers.base import WIDE_FROM, landing_path
from agent.site.selectormap import SelectorMap
from agent.site.session import AccountContext

__all__ = ["LiveLearned", "learn_live"]


@dataclass
class LiveLearned:
    """A candidate map (TOML data) and how well it reads the site; ``pages`` are the HTML of
    the pages it was learned from (url -> html), kept beside it."""

    data: dict[str, object] | None
    score: Score = field(default_factory=Score)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    pages: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.data is not None and not self.problems and self.score.complete


def _pick_cases(
    known: Sequence[Case], messages: Mapping[str, Sequence[Message]], listed: set[str], n: int
) -> list[Case]:
    """A few known cases whose pages teach the most: long threads, attachments, long bodies."""

    def weight(c: Case) -> tuple[int, int, int]:
        ms = messages.get(c.case_id, ())
        return (
            any(m.attachments for m in ms),
            max((len(m.body) for m in ms), default=0) > 1000,
            min(len(ms), 10),
        )

    chosen = sorted((c for c in known if c.case_id in listed), key=weight, reverse=True)
    return [c for c in chosen if messages.get(c.case_id)][:n]


def learn_live(
    ctx: AccountContext,
    base: SelectorMap,
    account: Account,
    marketplace: Marketplace | None,
    known: Sequence[Case],
    messages: Mapping[str, Sequence[Message]],
    *,
    name: str,
    detail_pages: int = 3,
) -> LiveLearned:
    started = time.monotonic()
    out = LiveLearned(None)
    zone, formats, labels = base.timezone, base.date_formats, all_status_labels()
    try:
        ctx.ensure_signed_in(landing_path(base, account, marketplace))
        lobby = capture(ctx.page)
        urls = infer_urls(lobby.doc, lobby.url, [])
        rows = urls.page_size or base.list.page_size
        if urls.list is None and base.dom is not None:  # rendered pages keep state in the URL
            state = base.dom.lobby_state.format(rows=rows, page=1)
            list_path = f"{base.urls.lobby}{'&' if '?' in base.urls.lobby else '?'}{state}"
        else:
            template = urls.list or base.urls.list
            list_path = template.format(page=1, page0=0, rows=rows, wide=WIDE_FROM)
        ctx.goto(list_path)
        ids = [c.case_id for c in known]
        listing_page = capture(ctx.page, ids[:20])
        out.pages[ctx.page.url] = ctx.page.content()
        listing = learn_list(
            listing_page.doc, known, total=len(known), zone=zone, formats=formats, statuses=labels
        )
        out.problems += [f"list: {p}" for p in listing.problems]
        urls = infer_urls(listing_page.doc, listing_page.url, listing.row_links)
        listed = {cid for cid, _ in listing.row_links}
        pages = _detail_pages(ctx, base, urls.detail, known, messages, listed, detail_pages, out)
        detail = learn_detail(pages, zone=zone, formats=formats, statuses=labels)
        out.problems += [f"detail: {p}" for p in detail.problems]
        if listing.spec is None or detail.spec is None:
            return out
        reader = "html" if _served_whole(ctx, list_path, ids) else ("dom" if base.dom else "html")
        data = assemble(base, name, listing, detail, urls, reader=reader)
        try:
            candidate = SelectorMap.model_validate(data)
        except ValidationError as exc:
            key, msg, _ = first_problem(exc)
            out.problems.append(f"the learned map does not hold together ({key}: {msg})")
            return out
        out.data = data
        _judge(ctx, candidate, account, marketplace, known, messages, pages, out)
    except (ReadError, AuthRequired) as exc:
        out.problems.append(str(exc))
    finally:
        out.seconds = time.monotonic() - started
    return out


def _detail_pages(
    ctx: AccountContext,
    base: SelectorMap,
    template: str | None,
    known: Sequence[Case],
    messages: Mapping[str, Sequence[Message]],
    listed: set[str],
    n: int,
    out: LiveLearned,
) -> list[DetailPage]:
    pages = []
    for case in _pick_cases(known, messages, listed or {c.case_id for c in known}, n):
        ctx.goto((template or base.urls.detail).format(case_id=case.case_id))
        snap: Snapshot = capture(ctx.page, [case.subject.strip() or case.case_id])
        out.pages[ctx.page.url] = ctx.page.content()
        pages.append(DetailPage(snap.doc, case, list(messages.get(case.case_id, ()))))
    if not pages:
        out.problems.append("detail: no known case with messages is on the list")
    return pages


def _served_whole(ctx: AccountContext, path: str, ids: Sequence[str]) -> bool:
    """Whether the list page as the server sends it already holds the cases (read it by
    fetching), or only once the browser has rendered it (read it as rendered)."""
    try:
        html = ctx.page.evaluate(
            "async (p) => (await fetch(p, {credentials: 'same-origin'})).text()", path
        )
    except PlaywrightError:  # a page that cannot fetch is read as rendered
        return False
    return sum(cid in html for cid in ids[:20]) >= min(2, len(ids))


def _judge(
    ctx: AccountContext,
    candidate: SelectorMap,
    account: Account,
    marketplace: Marketplace | None,
    known: Sequence[Case],
    messages: Mapping[str, Sequence[Message]],
    pages: Sequence[DetailPage],
    out: LiveLearned,
) -> None:
    """Read the site with the candidate's own reader and score every field."""
    reader = make_reader(ctx, candidate, account, marketplace)
    try:
        reader.open()
        listing = reader.list_all()
        compare_rows(listing.rows, known, out.score)
        details = reader.details([p.case.case_id for p in pages])
        compare_details(details, [p.case for p in pages], messages, out.score)
    except ReadError as exc:
        out.problems.append(f"reading the site with the learned map: {exc.detail}")
