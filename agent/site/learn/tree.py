"""A page's DOM as plain data (from ``js/dom_snapshot.js``), and the few CSS selectors the
learner writes: compounds of a tag, attribute tests and stable classes, one descendant step,
and ``:has()``. Matching here follows the fetch pool's ``qsa``: a query from a node sees its
light-DOM descendants and, through open shadow roots, theirs; each compound matches inside
one tree (a descendant step never crosses a shadow boundary)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from agent.core.text import squash

__all__ = ["Compound", "Node", "Selector", "parse_tree", "stable_class"]

# Class names a build generates (hashes, CSS-module suffixes) say nothing that survives the
# next build: a stable class is a word or words joined by - or _ with no digit run.
_HASHED = re.compile(r"\d{2}|[0-9a-f]{5,}|^[a-z]{1,2}-[0-9a-z]{4,}$|__[0-9a-zA-Z]{4,}$")
# Attributes that name what an element is (not where it points or what it shows).
HOOK_ATTRS = (
    "data-testid",
    "data-test-tag",
    "data-test",
    "role",
    "aria-label",
    "itemprop",
    "name",
    "rel",
    "type",
)
_ID_SAFE = re.compile(r"^[A-Za-z][\w-]*$")


def stable_class(name: str) -> bool:
    return bool(name) and not _HASHED.search(name.lower())


def stable_id(value: str) -> bool:
    return bool(_ID_SAFE.match(value)) and not _HASHED.search(value.lower())


@dataclass(eq=False)
class Node:
    """One element; ``children`` are light-DOM, ``shadow`` the children of its open shadow
    root; ``template`` is a ``<template>``'s content text."""

    tag: str
    attrs: dict[str, str]
    own: str  # its own text, "\x00" where each child stands
    children: list[Node] = field(default_factory=list)
    shadow: list[Node] = field(default_factory=list)
    template: str | None = None
    parent: Node | None = None
    in_shadow: bool = False  # a child of a shadow root (the root of its own tree)
    index: int = 0  # document order

    @cached_property
    def text(self) -> str:
        """``textContent``: the light-DOM text of it and its descendants, in order."""
        kids = iter(self.children)
        return "".join(
            (next(kids).text if part == "\x00" else part) for part in re.split("(\x00)", self.own)
        )

    @cached_property
    def value_text(self) -> str:
        """What a field reads from it: a ``<template>``'s content, else its text."""
        return self.template if self.template is not None else self.text

    @property
    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()

    def walk(self) -> Iterator[Node]:
        """Itself, then every descendant (light and shadow) in document order."""
        yield self
        for child in (*self.children, *self.shadow):
            yield from child.walk()

    def ancestors(self) -> Iterator[Node]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def contains(self, other: Node) -> bool:
        return other is self or any(a is self for a in other.ancestors())

    def tree_root(self) -> Node:
        """The root of the tree (document or shadow root) it is in."""
        node = self
        while node.parent is not None and not node.in_shadow:
            node = node.parent
        return node

    def element_siblings(self) -> list[Node]:
        if self.parent is None:
            return [self]
        return self.parent.shadow if self.in_shadow else self.parent.children

    def next_sibling(self) -> Node | None:
        sibs = self.element_siblings()
        i = next(i for i, s in enumerate(sibs) if s is self)
        return sibs[i + 1] if i + 1 < len(sibs) else None

    def __repr__(self) -> str:
        return f"<{self.tag} {self.attrs} {squash(self.text)[:40]!r}>"


def parse_tree(data: Sequence[Any]) -> Node:
    counter = iter(range(10**9))

    def build(raw: Sequence[Any], parent: Node | None, shadowed: bool) -> Node:
        tag, attrs, own, kids, shadow, template = raw
        node = Node(tag, dict(attrs), own, template=template, parent=parent, in_shadow=shadowed)
        node.index = next(counter)
        node.children = [build(k, node, False) for k in kids]
        node.shadow = [build(s, node, True) for s in shadow]
        return node

    return build(data, None, False)


def _css_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class Compound:
    """``tag[attr=value].class:has(inner)`` (every part optional but one)."""

    tag: str = ""
    attrs: tuple[tuple[str, str | None], ...] = ()
    classes: tuple[str, ...] = ()
    has: Compound | None = None

    def css(self) -> str:
        out = self.tag
        for name, value in self.attrs:
            if name == "id" and value is not None and stable_id(value):
                out += f"#{value}"
            else:
                out += f"[{name}]" if value is None else f"[{name}={_css_string(value)}]"
        out += "".join(f".{c}" for c in self.classes)
        if self.has is not None:
            out += f":has({self.has.css()})"
        return out or "*"

    def matches(self, node: Node) -> bool:
        if self.tag and node.tag != self.tag:
            return False
        for name, value in self.attrs:
            if name not in node.attrs or (value is not None and node.attrs[name] != value):
                return False
        if any(c not in node.classes for c in self.classes):
            return False
        if self.has is not None:
            inner = self.has
            return any(inner.matches(d) for d in _tree_descendants(node))
        return True

    @property
    def weight(self) -> int:
        """How much it says (fewer parts is simpler; ties go to the simpler one)."""
        return (
            len(self.attrs)
            + len(self.classes)
            + (1 if self.tag else 0)
            + (self.has.weight if self.has else 0)
        )


def _tree_descendants(node: Node) -> Iterator[Node]:
    """Descendants in the same tree (not into shadow roots): what a CSS combinator sees."""
    for child in node.children:
        yield child
        yield from _tree_descendants(child)


@dataclass(frozen=True)
class Selector:
    """One compound, or ``ancestor descendant`` (both in the same tree)."""

    parts: tuple[Compound, ...]

    def css(self) -> str:
        return " ".join(p.css() for p in self.parts)

    def matches(self, node: Node) -> bool:
        *ups, last = self.parts
        if not last.matches(node):
            return False
        if not ups:
            return True
        (up,) = ups
        current = node
        while current.parent is not None and not current.in_shadow:  # up to its tree's root
            current = current.parent
            if up.matches(current):
                return True
        return False

    def select(self, scope: Node) -> list[Node]:
        """What the fetch pool's ``qsa(scope, css)`` returns, in document order."""
        return [n for n in scope.walk() if n is not scope and self.matches(n)]

    @property
    def weight(self) -> int:
        return sum(p.weight for p in self.parts) + 2 * (len(self.parts) - 1)


def compounds(node: Node) -> list[Compound]:
    """The compounds that could name ``node``, from the most telling: test ids, ids, roles,
    labels and other hook attributes, stable classes, then the bare tag."""
    out: list[Compound] = []
    tag = node.tag
    for name in ("data-testid", "data-test-tag", "data-test", "id"):
        value = node.attrs.get(name)
        if value and (name != "id" or stable_id(value)):
            out.append(Compound(tag, ((name, value),)))
            out.append(Compound("", ((name, value),)))
    role = node.attrs.get("role")
    label = node.attrs.get("aria-label")
    if role and label:
        out.append(Compound(tag, (("role", role), ("aria-label", label))))
    if label and len(label) <= 60:
        out.append(Compound(tag, (("aria-label", label),)))
    if role:
        out.append(Compound(tag, (("role", role),)))
        out.append(Compound("", (("role", role),)))
    for name in ("itemprop", "name", "rel", "type"):
        value = node.attrs.get(name)
        if value and len(value) <= 40:
            out.append(Compound(tag, ((name, value),)))
    for name in node.attrs:
        if name.startswith("data-") and name not in ("data-testid", "data-test-tag", "data-test"):
            out.append(Compound(tag, ((name, None),)))
    for cls in node.classes:
        if stable_class(cls):
            out.append(Compound(tag, (), (cls,)))
    if "hidden" in node.attrs:
        out.append(Compound(tag, (("hidden", None),)))
    out.append(Compound(tag))
    return list(dict.fromkeys(out))
