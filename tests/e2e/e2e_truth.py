"""Compare what the agent stored with what the mock site holds (its ground-truth dump):
every case field, the status label and the senders as the site shows them, and each thread
whole and in the site's order (neither side is sorted)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.store import Store

MERCHANT_ACCOUNT = {"A2DEMOOUTDOOR": "demo-outdoor", "A3DEMOKITCHEN": "demo-kitchen"}


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else value.isoformat()
    return text.replace("+00:00", "Z")


def site_view(truth: dict[str, Any], merchant: str) -> dict[str, dict[str, Any]]:
    out = {}
    for c in truth["cases"]:
        if c["merchant_id"] != merchant:
            continue
        out[c["case_id"]] = {
            "marketplace": c["marketplace_id"],
            "subject": c["subject"],
            "status": c["status"],
            "status_raw": c["status_label"],
            "created_at": _iso(c["created_at"]),
            "last_updated_at": _iso(c["last_updated_at"]),
            "last_amazon_reply_at": _iso(c["last_amazon_reply_at"]),
            "primary_email": c["primary_email"],
            "cc": list(c["cc"]),
            "messages": [
                (
                    m["message_id"],
                    m["direction"],
                    m["sender_label"],
                    m["sender_email"],
                    _iso(m["sent_at"]),
                    m["body"],
                    tuple(m["attachments"]),
                )
                for m in c["messages"]
            ],
        }
    return out


def store_view(home: Path, account: str) -> dict[str, dict[str, Any]]:
    with Store.open(home / "data" / f"{account}.json", readonly=True) as store:
        messages: dict[str, list[Any]] = {}
        for m in store.messages():
            messages.setdefault(m.case_id, []).append(
                (
                    m.message_id,
                    m.direction.value,
                    m.sender,
                    m.sender_email,
                    _iso(m.sent_at),
                    m.body,
                    tuple(m.attachments),
                )
            )
        return {
            c.case_id: {
                "marketplace": c.marketplace,
                "subject": c.subject,
                "status": c.status.value,
                "status_raw": c.status_raw,
                "created_at": _iso(c.created_at),
                "last_updated_at": _iso(c.last_updated_at),
                "last_amazon_reply_at": _iso(c.last_amazon_reply_at),
                "primary_email": c.primary_email,
                "cc": list(c.cc),
                "messages": messages.get(c.case_id, []),
            }
            for c in store.cases()
        }


def without_message_ids(view: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The view with each message's id left out: for pages that show none (the agent makes
    its own), everything else must still match."""
    return {
        cid: {**case, "messages": [m[1:] for m in case["messages"]]} for cid, case in view.items()
    }


def differences(
    site: dict[str, Any], stored: dict[str, Any], *, message_ids: bool = True
) -> list[str]:
    """Human-readable differences (empty when the store equals the site)."""
    if not message_ids:
        site, stored = without_message_ids(site), without_message_ids(stored)
    out = []
    for cid in sorted(site.keys() - stored.keys()):
        out.append(f"{cid}: on the site, not stored")
    for cid in sorted(stored.keys() - site.keys()):
        out.append(f"{cid}: stored, not on the site")
    for cid in sorted(site.keys() & stored.keys()):
        for key, value in site[cid].items():
            if stored[cid][key] != value:
                out.append(
                    f"{cid}.{key}: site {str(value)[:200]!r} "
                    f"!= stored {str(stored[cid][key])[:200]!r}"
                )
    return out
