"""Reading a value the way a map's field says (a Python mirror of the fetch pool's ``pick``),
and finding the field specs that read a known value from a page.

A *reading* is a candidate :class:`~agent.site.selectormap.FieldSpec` plus the parsed
:class:`~agent.site.learn.tree.Selector`s it uses; :func:`readings` proposes them for a node
that holds a value, most stable first (labels, test ids, roles and aria-labels, stable
classes, structure), and :func:`read` evaluates one in a container.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from agent.core.dates import ISO, parse_site_datetime
from agent.core.text import squash
from agent.errors import DateParseError
from agent.site.learn.tree import Node, Selector, compounds

__all__ = [
    "DATE_FORMATS",
    "LABEL_TAGS",
    "Reading",
    "date_matcher",
    "exact_matcher",
    "read",
    "readings",
]

LABEL_TAGS = ("dt", "th")
LABEL_SELECTOR = "dt, th, [role=rowheader]"

# Date formats worth trying, besides the base map's own: ISO 8601 first (a datetime
# attribute says the most), then how Case Logs write dates in the three locales.
DATE_FORMATS = (
    ISO,
    "%b %d, %Y %I:%M %p",
    "%d %b %Y %H:%M",
    "%Y/%m/%d %H:%M",
    "%b %d, %Y",
    "%d %b %Y",
    "%Y/%m/%d",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%d.%m.%Y %H:%M",
)


@dataclass(frozen=True)
class Reading:
    """One way to read a value inside a container: a field spec and its parsed selectors."""

    selector: Selector | None  # None: the element itself (":self")
    label: str | None = None
    attr: str | None = None
    full_text: Selector | None = None
    pattern: str | None = None
    formats: tuple[str, ...] | None = None
    all: bool = False
    rank: int = 0  # lower is more stable

    def spec(self) -> dict[str, Any]:
        """The field as a map writes it (only what differs from the defaults)."""
        out: dict[str, Any] = {}
        if self.label:
            out["label"] = self.label
        if self.selector is not None:
            out["selector"] = self.selector.css()
        if self.attr:
            out["attr"] = self.attr
        if self.full_text is not None:
            out["full_text"] = self.full_text.css()
        if self.pattern:
            out["pattern"] = self.pattern
        if self.formats:
            out["formats"] = list(self.formats)
        if self.all:
            out["all"] = True
        return out

    def with_formats(self, formats: Sequence[str]) -> Reading:
        return Reading(
            self.selector, self.label, self.attr, self.full_text, self.pattern,
            tuple(formats), self.all, self.rank,
        )  # fmt: skip


def _labelled(scope: Node, label: str) -> Node | None:
    wanted = squash(label).casefold()
    for node in scope.walk():
        is_label = node.tag in LABEL_TAGS or node.attrs.get("role") == "rowheader"
        if node is not scope and is_label and squash(node.text).casefold() == wanted:
            return node.next_sibling()
    return None


def _value(node: Node, attr: str | None, full: Node | None) -> str:
    if full is not None:
        return full.value_text
    if attr:
        return node.attrs.get(attr, "")
    return node.value_text


def read(reading: Reading, scope: Node) -> str | list[str] | None:
    """What the fetch pool reads with this field in ``scope`` (its ``pick``)."""
    root = _labelled(scope, reading.label) if reading.label else scope
    if root is None:
        return [] if reading.all else None
    if reading.selector is None:
        els = [root]
    else:
        found = reading.selector.select(root)
        els = found if reading.all else found[:1]
    if not els:
        return [] if reading.all else None
    full = None
    if reading.full_text is not None:
        hits = reading.full_text.select(scope)
        full = hits[0] if hits else None
    values = [_value(el, reading.attr, full) for el in els]
    if reading.pattern:
        values = [m.group(1) for v in values if (m := re.search(reading.pattern, v))]
        if not values:
            return [] if reading.all else None
    return values if reading.all else values[0]


# -- proposing readings ---------------------------------------------------------------------


def _selectors_for(node: Node, scope: Node) -> Iterator[tuple[int, Selector]]:
    """Selectors that find ``node`` first in ``scope`` (as ``qs`` would), most stable first:
    one compound, then an ancestor's compound and its own."""
    singles = [Selector((c,)) for c in compounds(node)]
    for rank, sel in enumerate(singles):
        hits = sel.select(scope)
        if hits and hits[0] is node:
            yield rank, sel
    ups = [a for a in node.ancestors() if scope.contains(a) and a is not scope][:3]
    for depth, up in enumerate(ups):
        for c_up in compounds(up)[:6]:
            for c in compounds(node)[:6]:
                sel = Selector((c_up, c))
                hits = sel.select(scope)
                if hits and hits[0] is node:
                    yield 100 + 10 * depth + c_up.weight + c.weight, sel


def _labels_for(node: Node, scope: Node) -> Iterator[tuple[str, Node]]:
    """(label, the element after it) for a ``dt``/``th`` label before ``node`` or an ancestor."""
    for holder in (node, *node.ancestors()):
        if holder is scope or not scope.contains(holder):
            return
        sibs = holder.element_siblings()
        i = next(i for i, s in enumerate(sibs) if s is holder)
        if i > 0:
            prev = sibs[i - 1]
            if prev.tag in LABEL_TAGS or prev.attrs.get("role") == "rowheader":
                text = squash(prev.text)
                if text and len(text) <= 60:
                    yield text, holder


def readings(holder: Node, scope: Node, *, attr: str | None = None) -> list[Reading]:
    """Ways to read ``holder``'s text (or its ``attr``) inside ``scope``, most stable first."""
    out: list[Reading] = []
    if holder is scope:
        out.append(Reading(None, attr=attr, rank=0))
    for label, after in _labels_for(holder, scope):
        if after is holder:
            out.append(Reading(None, label=label, attr=attr, rank=1))
        else:
            for rank, sel in _selectors_for(holder, after):
                out.append(Reading(sel, label=label, attr=attr, rank=2 + rank))
    for rank, sel in _selectors_for(holder, scope):
        out.append(Reading(sel, attr=attr, rank=10 + rank))
    return out


def list_readings(holders: Sequence[Node], scope: Node) -> list[Reading]:
    """Ways to read all of ``holders`` (and nothing else) inside ``scope`` as a list."""
    if not holders:
        return []
    out = []
    for c in compounds(holders[0]):
        sel = Selector((c,))
        if sel.select(scope) == list(holders):
            out.append(Reading(sel, all=True, rank=c.weight))
    return out


# -- matching a value with what is known ----------------------------------------------------

Matcher = Callable[[Any], bool]


def exact_matcher(expected: str | Sequence[str]) -> Matcher:
    return lambda got: got == expected


def date_matcher(expected: datetime, zone: str, fmt: str) -> Matcher:
    """True when the text parses with ``fmt`` to ``expected``: to the minute, or to the day
    (in ``zone``) for a format without a time."""
    has_time = fmt == ISO or any(d in fmt for d in ("%H", "%I", "%M"))
    tz = ZoneInfo(zone)

    def match(got: Any) -> bool:
        if not isinstance(got, str) or not got.strip():
            return False
        try:
            parsed = parse_site_datetime(got, [fmt], zone)
        except DateParseError:
            return False
        if has_time:
            return abs(parsed - expected) < timedelta(minutes=1)
        return parsed.astimezone(tz).date() == expected.astimezone(tz).date()

    return match


@dataclass
class Score:
    """How well one reading reproduces one field over every instance it was tried on."""

    reading: Reading
    matched: int = 0
    checked: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[int, int]:
        return (-self.matched, self.reading.rank)
