"""Case categories from the subject line: one categoriser for the rules and the charts alike.

The categories and their keywords are configuration (``RuleSettings.categories``, in order of
precedence); some of them are *urgent* (``RuleSettings.urgent_categories``): their cases
follow up and escalate sooner. A case's category is the first one with a keyword in its
subject, else ``other``; the rules call it urgent only when that category is urgent, so the
rules and the "cases by category" chart can never disagree about a case.

Keywords: a whole word (``fee`` matches "fee", not "coffee"), a word prefix (``suspen*``
matches "suspended"), a phrase (``plan of action``), or non-Latin text matched anywhere
(``退款``); all case-insensitive.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

from agent.config import RuleSettings

__all__ = [
    "DEFAULT_OUTCOME",
    "OTHER",
    "OUTCOMES",
    "Categoriser",
    "categoriser_for",
    "category_label",
    "desired_outcome",
]

OTHER = "other"

DEFAULT_OUTCOME = "a resolution of this case, or a clear statement of the next steps"

OUTCOMES: dict[str, str] = {
    "account_health": "reinstatement of the account, or a clear list of what is still needed",
    "payments": "release of the held disbursement",
    "listing_suppression": "reactivation of the affected listings",
    "policy": "a review of the policy notice and its removal if it was issued in error",
}

_WORD = re.compile(r"[^\W_]+")


class Categoriser:
    """Keywords compiled to bit masks (bit i = category i): exact words, prefixes, phrases."""

    def __init__(self, table: Mapping[str, Sequence[str]], urgent: Sequence[str] = ()) -> None:
        self.names = list(table)
        self.urgent = frozenset(urgent)
        self._exact: dict[str, int] = {}
        self._prefixes: list[tuple[str, int]] = []
        self._substrings: list[tuple[str, int]] = []  # " phrases " and non-Latin text
        for i, words in enumerate(table.values()):
            for raw in words:
                k = " ".join(raw.casefold().split())
                if not k:
                    continue
                if not k.isascii():
                    self._substrings.append((k, 1 << i))
                elif " " in k:
                    self._substrings.append((f" {k} ", 1 << i))
                elif k.endswith("*"):
                    self._prefixes.append((k[:-1], 1 << i))
                else:
                    self._exact[k] = self._exact.get(k, 0) | 1 << i
        self._cache: dict[str, int] = {}

    def _word_mask(self, word: str) -> int:
        mask = self._cache.get(word)
        if mask is None:
            mask = self._exact.get(word, 0)
            for prefix, bit in self._prefixes:
                if word.startswith(prefix):
                    mask |= bit
            if len(self._cache) < 65536:
                self._cache[word] = mask
        return mask

    def __call__(self, subject: str) -> str:
        """The category of ``subject``: the first (in table order) whose keyword it uses."""
        words = _WORD.findall(subject.casefold())
        mask = 0
        for w in words:
            mask |= self._word_mask(w)
        joined = f" {' '.join(words)} "
        for text, bit in self._substrings:
            if text in joined:
                mask |= bit
        if not mask:
            return OTHER
        return self.names[(mask & -mask).bit_length() - 1]

    def urgent_category(self, subject: str) -> str | None:
        """The category of ``subject`` if it is an urgent one, else None."""
        category = self(subject)
        return category if category in self.urgent else None


@lru_cache(maxsize=32)
def _compiled(
    table: tuple[tuple[str, tuple[str, ...]], ...], urgent: tuple[str, ...]
) -> Categoriser:
    return Categoriser(dict(table), urgent)


_last: tuple[RuleSettings, Categoriser] | None = None


def categoriser_for(rules: RuleSettings) -> Categoriser:
    """The categoriser of a rule set (compiled once per distinct table; the rule set last
    asked for is answered without even reading its table: the rules ask once per case)."""
    global _last
    if _last is not None and _last[0] is rules:
        return _last[1]
    table = tuple((name, tuple(words)) for name, words in rules.categories.items())
    found = _compiled(table, tuple(rules.urgent_categories))
    _last = (rules, found)
    return found


def desired_outcome(category: str | None) -> str:
    """A sensible default outcome to ask for in a case of ``category``."""
    return OUTCOMES.get(category or "", DEFAULT_OUTCOME)


def category_label(category: str) -> str:
    """``account_health`` -> ``account health``."""
    return category.replace("_", " ")
