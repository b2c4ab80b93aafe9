"""From what a page's extraction returned (``js/fetch_pool.js``) to records: list rows and
case details, by the selector map. Shared by the readers of fetched and rendered pages and by
the map learner, which checks a candidate map the way the readers will use it."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from agent.core.dates import DateParseError, parse_site_datetime
from agent.core.models import Direction, ListRow
from agent.core.text import squash
from agent.errors import IncompleteReason, ReadError
from agent.site.readers.base import CaseDetail, raise_if_failed, split_cc, with_stable_ids
from agent.site.selectormap import FieldSpec, SelectorMap

__all__ = ["PageRecords"]


class PageRecords:
    """Records of one marketplace's pages, read with ``smap``."""

    def __init__(self, smap: SelectorMap, marketplace_id: str = "") -> None:
        self.smap = smap
        self.marketplace_id = marketplace_id

    def parse_date(self, text: str | None, spec: FieldSpec | None = None) -> datetime | None:
        """A date as the field's formats (or the map's) read it; "no reply" texts are None."""
        if not text or text.strip() in self.smap.no_reply_texts:
            return None
        try:
            return parse_site_datetime(text, self.smap.formats(spec), self.smap.timezone)
        except DateParseError as exc:
            raise ReadError(
                IncompleteReason.SELECTOR_MISSING,
                f"{exc} (selector map {self.smap.name}: give the field its formats)",
            ) from None

    @staticmethod
    def value(spec: FieldSpec | None, raw: Any) -> Any:
        """A read value after the field's ``pattern`` (its first group; None if no match)."""
        if spec is None or spec.pattern is None or raw is None:
            return raw
        if isinstance(raw, list):
            return [v for v in (PageRecords.value(spec, r) for r in raw) if v is not None]
        match = re.search(spec.pattern, raw)
        if match is None:
            return None
        return match.group(1) if match.groups() else match.group(0)

    def stated(self, data: dict[str, Any]) -> int:
        match = re.search(self.smap.list.count_pattern, data["countText"])
        if not match:
            raise ReadError(
                IncompleteReason.SELECTOR_MISSING,
                f"count line {data['countText']!r} does not match {self.smap.list.count_pattern!r}",
            )
        return int(match.group("total").replace(",", "").replace(".", ""))

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
