"""What every reader of the Case Log offers the sync, and the records it returns.

A reader reads one marketplace: :meth:`Reader.list_all` lists every case (all history, not the
30-day default, at the largest page size) and checks that the rows add up to the count the
site states; :meth:`Reader.details` reads cases whole. Everything it looks for comes from the
selector map.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from agent.config import Account, Marketplace
from agent.core.models import CaseStatus, ListRow, Message
from agent.errors import IncompleteReason, ReadError
from agent.site.fetcher import Fetcher
from agent.site.selectormap import SelectorMap
from agent.site.session import AccountContext

__all__ = [
    "WIDE_FROM",
    "CaseDetail",
    "ListResult",
    "Progress",
    "Reader",
    "landing_path",
    "raise_if_failed",
    "split_cc",
    "with_stable_ids",
]

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
    """The CC addresses: a list as the site gives it, each address exactly; a string (one
    field of comma- or semicolon-separated addresses) split at its separators."""
    if not value:
        return ()
    if not isinstance(value, str):
        return tuple(str(p) for p in value if str(p).strip())
    return tuple(p.strip() for p in re.split(r"[,;]", value) if p.strip())


def raise_if_failed(where: str, data: dict[str, Any]) -> None:
    """An extraction that reported a blank page or a selector that matched nothing."""
    if "error" in data:
        reason = (
            IncompleteReason.BLANK_PAGE
            if data["error"] == "blank"
            else IncompleteReason.SELECTOR_MISSING
        )
        raise ReadError(reason, f"{where}: {data['error']}: {data.get('detail')}")


def with_stable_ids(case_id: str, newest_first: Iterable[dict[str, Any]]) -> list[Message]:
    """Messages from dicts in the site's order (newest first, as the Case Log shows a
    thread), oldest first, each with its position (``seq``); those without a source id get a
    hash id, made unique by the order of otherwise identical entries (oldest first)."""
    seen: Counter[str] = Counter()
    out: list[Message] = []
    oldest_first = sorted(reversed(list(newest_first)), key=lambda d: d["sent_at"])  # stable
    for seq, d in enumerate(oldest_first):
        mid = d.pop("message_id", None)
        if not mid:
            base = Message.stable_id(case_id, d["sender"], d["sent_at"], d["body"])
            seen[base] += 1
            mid = base if seen[base] == 1 else f"{base}-{seen[base]}"
        out.append(Message(message_id=mid, case_id=case_id, seq=seq, **d))
    return out


def landing_path(smap: SelectorMap, account: Account, marketplace: Marketplace | None) -> str:
    """The lobby of ``marketplace`` (opening it selects the marketplace), as a site path."""
    path = smap.urls.lobby
    if marketplace:
        switch = smap.urls.switch.format(
            merchant=quote(account.merchant_id or ""), marketplace=quote(marketplace.id)
        )
        path += ("&" if "?" in path else "?") + switch
    return path


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
        return landing_path(self.smap, self.account, self.marketplace)

    def open(self) -> None:
        """Sign in if needed and open this marketplace's lobby (selects the marketplace)."""
        self.ctx.ensure_signed_in(self.landing())

    def list_all(self) -> ListResult:
        raise NotImplementedError

    def details(
        self, case_ids: Sequence[str], progress: Progress | None = None
    ) -> dict[str, CaseDetail]:
        """Read each case whole (see :meth:`detail_batches`)."""
        return {
            cid: d for batch in self.detail_batches(case_ids, progress) for cid, d in batch.items()
        }

    def detail_batches(
        self, case_ids: Sequence[str], progress: Progress | None = None
    ) -> Iterator[dict[str, CaseDetail]]:
        """Read each case whole, a batch at a time, yielding each batch as it completes (and
        reporting it to ``progress``), so a caller can store it and let it go."""
        batch = max(64, self.fetcher.concurrency * 32)
        for start in range(0, len(case_ids), batch):
            chunk = list(case_ids[start : start + batch])
            yield self.read_batch(chunk)
            if progress:
                progress(len(chunk))

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
