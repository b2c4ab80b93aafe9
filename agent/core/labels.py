"""The words a seller reads for our codes: one definition for the terminal, notices, the
calendar and every export format.

Status labels follow Amazon's own help page (seed 002) where it names the status, and the
modern Case Log ("Work in progress") where only that names it.
"""

from __future__ import annotations

from agent.core.models import CaseStatus, EventKind, FlagKind

__all__ = [
    "EVENT_LABELS",
    "FLAG_LABELS",
    "MARKETPLACES",
    "STATUS_LABELS",
    "flag_label",
    "marketplace_name",
    "status_label",
]

STATUS_LABELS: dict[CaseStatus, str] = {
    CaseStatus.OPEN: "Open",
    CaseStatus.PENDING_AMAZON_ACTION: "Pending Amazon Action",
    CaseStatus.NEEDS_YOUR_ATTENTION: "Needs Your Attention",
    CaseStatus.WORK_IN_PROGRESS: "Work in progress",
    CaseStatus.ANSWERED: "Answered",
    CaseStatus.TRANSFERRED: "Transferred",
    CaseStatus.REOPENED: "Reopened",
    CaseStatus.RESOLVED: "Resolved",
    CaseStatus.CLOSED: "Closed",
    CaseStatus.UNKNOWN: "Unknown status",
}

EVENT_LABELS: dict[EventKind, str] = {
    EventKind.CASE_NEW: "Case first seen",
    EventKind.STATUS_CHANGED: "Status changed",
    EventKind.MESSAGE_FROM_AMAZON: "Message from Amazon",
    EventKind.MESSAGE_FROM_SELLER: "Message from you",
    EventKind.SUBJECT_CHANGED: "Subject changed",
    EventKind.CC_CHANGED: "CC changed",
    EventKind.CASE_MISSING: "Missing from the case list",
    EventKind.CASE_GONE: "Gone from the case list",
    EventKind.CASE_BACK: "Back in the case list",
}

_BY_CODE = {status.value: label for status, label in STATUS_LABELS.items()}


def status_label(code: str) -> str:
    """The label of a canonical status code (``"NEEDS_YOUR_ATTENTION"``); other text as is."""
    return _BY_CODE.get(code, code)


FLAG_LABELS: dict[FlagKind, str] = {
    FlagKind.REPLY_DUE: "Reply due",
    FlagKind.CLOSES_SOON: "Closes soon",
    FlagKind.FOLLOW_UP: "Follow up",
    FlagKind.ESCALATE: "Escalate",
    FlagKind.REOPEN_WINDOW: "Reopen window",
}
"""What a flag asks of the seller, as a heading; JSON keeps the code (``kind``) beside it."""

_FLAG_BY_CODE = {kind.value: label for kind, label in FLAG_LABELS.items()}


def flag_label(kind: FlagKind | str) -> str:
    """``"Reply due"`` for ``reply_due``; an unknown code as is."""
    code = kind.value if isinstance(kind, FlagKind) else kind
    return _FLAG_BY_CODE.get(code, code)


MARKETPLACES: dict[str, str] = {
    "ATVPDKIKX0DER": "amazon.com",
    "A2EUQ1WTGCTBG2": "amazon.ca",
    "A1AM78C64UM0Y8": "amazon.com.mx",
    "A2Q3Y263D00KWC": "amazon.com.br",
    "A1F83G8C2ARO7P": "amazon.co.uk",
    "A1PA6795UKMFR9": "amazon.de",
    "A13V1IB3VIYZZH": "amazon.fr",
    "APJ6JRA9NG5V4": "amazon.it",
    "A1RKKUPIHCS9HS": "amazon.es",
    "A1805IZSGTT6HS": "amazon.nl",
    "A2NODRKZP88ZB9": "amazon.se",
    "A1C3SOZRARQ6R3": "amazon.pl",
    "AMEN7PMS3EDWL": "amazon.com.be",
    "A33AVAJ2PDY3EV": "amazon.com.tr",
    "A2VIGQ35RCS4UG": "amazon.ae",
    "A17E79C6D8DWNP": "amazon.sa",
    "ARBP9OOSHTCHU": "amazon.eg",
    "A21TJRUUN4KGV": "amazon.in",
    "A1VC38T7YXB528": "amazon.co.jp",
    "A39IBJ37TRP1C6": "amazon.com.au",
    "A19VAU5U5O7RUS": "amazon.sg",
    "AAHKV2X7AFYLW": "amazon.cn",
}
"""Amazon's marketplace IDs and the site a seller knows each by."""


def marketplace_name(marketplace_id: str) -> str:
    """``"amazon.com"`` for ``ATVPDKIKX0DER``; an unknown ID (or a name) as is."""
    return MARKETPLACES.get(marketplace_id, marketplace_id)
