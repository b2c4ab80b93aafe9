"""The modern API reader, switching to the DOM reader when the API changed shape."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from agent.core.models import ListRow
from agent.errors import IncompleteReason, ReadError
from agent.site.readers.base import CaseDetail, ListResult, Progress, Reader

__all__ = ["FallbackReader"]


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

    def detail_batches(
        self, case_ids: Sequence[str], progress: Progress | None = None
    ) -> Iterator[dict[str, CaseDetail]]:
        done: set[str] = set()
        try:
            for batch in self.current.detail_batches(case_ids, progress):
                done.update(batch)
                yield batch
        except ReadError as exc:
            if not self._switch(exc):
                raise
            rest = [c for c in case_ids if c not in done]
            yield from self.current.detail_batches(rest, progress)

    def search_rows(self, case_ids: Sequence[str]) -> dict[str, ListRow]:
        return self.current.search_rows(case_ids)
