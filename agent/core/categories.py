"""Case categories guessed from the subject line, and what a seller wants from each.

The keyword lists live in ``RuleSettings.urgent_categories`` (caselog.toml); a keyword
matches anywhere in the subject, case-insensitively, so ``suspen`` catches "suspended".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = [
    "DEFAULT_OUTCOME",
    "OUTCOMES",
    "category_label",
    "desired_outcome",
    "match_category",
]

DEFAULT_OUTCOME = "a resolution of this case, or a clear statement of the next steps"

OUTCOMES: dict[str, str] = {
    "account_health": "reinstatement of the account, or a clear list of what is still needed",
    "payments": "release of the held disbursement",
    "listing_suppression": "reactivation of the affected listings",
    "policy": "a review of the policy notice and its removal if it was issued in error",
}


def match_category(subject: str, categories: Mapping[str, Sequence[str]]) -> str | None:
    """The first category (in configuration order) with a keyword in ``subject``."""
    folded = subject.casefold()
    for name, keywords in categories.items():
        if any(keyword.casefold() in folded for keyword in keywords if keyword.strip()):
            return name
    return None


def desired_outcome(category: str | None) -> str:
    """A sensible default outcome to ask for in a case of ``category``."""
    return OUTCOMES.get(category or "", DEFAULT_OUTCOME)


def category_label(category: str) -> str:
    """``account_health`` -> ``account health``."""
    return category.replace("_", " ")
