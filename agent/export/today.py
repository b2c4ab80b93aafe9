"""What the report opens on: the to-do of the day and what changed since the last export.

The app layer builds a :class:`Today` from the stores (flags, drafts, links, the previous
export's moment); the formats only show it. Its items are the same
:class:`agent.core.present.TodoItem` that ``caselog due --json`` prints, as of the archive's
``generated_at``, so ``caselog due --json --at <generated_at>`` lists the same items.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from agent.core.drafts import Draft
from agent.core.present import TodoItem

__all__ = ["Today", "TodayEntry"]


@dataclass(frozen=True)
class TodayEntry:
    """One due item, with a draft when one was written for it."""

    item: TodoItem
    draft: Draft | None = None


@dataclass(frozen=True)
class Today:
    """The due list (most urgent first), the moment "changed since" counts from, and each
    account's Seller Central links (account -> case ID -> URL)."""

    due: Sequence[TodayEntry] = ()
    changes_since: datetime | None = None
    links: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    drafts_up_to: int = 0  # drafts were written for the first this many items
