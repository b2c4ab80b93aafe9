"""Known records for the map learner, taken from the mock's ground truth (as a store would
hold them after a complete sync)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agent.core.models import Case, CaseStatus, Direction, Message


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def known(
    truth: dict[str, Any], merchant: str, market: str
) -> tuple[list[Case], dict[str, list[Message]]]:
    cases, messages = [], {}
    for c in truth["cases"]:
        if c["merchant_id"] != merchant or c["marketplace_id"] != market:
            continue
        created = _at(c["created_at"])
        assert created is not None
        cases.append(
            Case(
                case_id=c["case_id"],
                account="learn",
                marketplace=market,
                subject=c["subject"],
                status=CaseStatus(c["status"]),
                status_raw=c["status_label"],
                created_at=created,
                last_updated_at=_at(c["last_updated_at"]),
                last_amazon_reply_at=_at(c["last_amazon_reply_at"]),
                primary_email=c["primary_email"],
                cc=tuple(c["cc"]),
                first_seen_at=created,
                last_seen_at=created,
            )
        )
        messages[c["case_id"]] = [
            Message(
                message_id=m["message_id"],
                case_id=c["case_id"],
                direction=Direction(m["direction"]),
                sender=m["sender_label"],
                sender_email=m["sender_email"],
                sent_at=_at(m["sent_at"]),  # type: ignore[arg-type]
                body=m["body"],
                attachments=tuple(m["attachments"]),
                seq=i,
            )
            for i, m in enumerate(c["messages"])
        ]
    return cases, messages
