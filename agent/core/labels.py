"""The words a seller reads for our codes: one definition for the terminal, notices, the
calendar and every export format.

Status labels follow Amazon's own help page (seed 002) where it names the status, and the
modern Case Log ("Work in progress") where only that names it.
"""

from __future__ import annotations

from agent.core.models import CaseStatus, EventKind

__all__ = ["EVENT_LABELS", "STATUS_LABELS", "status_label"]

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
