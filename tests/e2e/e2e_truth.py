"""Compare what the agent stored with what the mock site holds (its ground-truth dump):
every case field, the status label and the senders as the site shows them, and each thread
whole and in the site's order (neither side is sorted); and the events a store recorded with
those that follow from the site's history between dumps."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from agent.home import Home
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
    with Store.open(Home(home).store_path(account), readonly=True) as store:
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


Key = tuple[str, str, str, str]
"""An event as (case, kind, from, to): what the site's history says, what the store holds."""


def expected_events(before: dict[str, Any], after: dict[str, Any], merchant: str) -> Counter[Key]:
    """What changed on the site between two ground-truth dumps, as (case, kind, from, to)."""
    old = {c["case_id"]: c for c in before["cases"] if c["merchant_id"] == merchant}
    new = {c["case_id"]: c for c in after["cases"] if c["merchant_id"] == merchant}
    out: Counter[Key] = Counter()
    for cid, case in new.items():
        prev = old.get(cid)
        known = {m["message_id"] for m in prev["messages"]} if prev else set()
        for m in case["messages"]:
            if m["message_id"] not in known:
                out[(cid, f"message_{m['direction']}", "", m["message_id"])] += 1
        if prev is None:
            out[(cid, "case_new", "", "")] += 1
            continue
        if prev["status"] != case["status"]:
            out[(cid, "status_changed", prev["status"], case["status"])] += 1
        if prev["subject"] != case["subject"]:
            out[(cid, "subject_changed", "", "")] += 1
        if sorted(prev["cc"]) != sorted(case["cc"]):
            out[(cid, "cc_changed", "", "")] += 1
    return out


def recorded_events(home: Any, account: str) -> Counter[Key]:
    """The events the account's store holds, as :func:`expected_events` keys them."""
    out: Counter[Key] = Counter()
    with Store.open(Home(home).store_path(account), readonly=True) as store:
        for e in store.events():
            kind = e.kind.value
            if kind == "status_changed":
                out[(e.case_id, kind, e.before["status"], e.after["status"])] += 1
            elif kind.startswith("message_"):
                out[(e.case_id, kind, "", e.after["message_id"])] += 1
            else:
                out[(e.case_id, kind, "", "")] += 1
    return out
