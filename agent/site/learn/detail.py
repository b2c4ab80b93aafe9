"""Learning the ``[detail]`` part of a map from case pages and the cases known to be on them.

The known values locate the summary (the smallest element around the subject, status and
creation date) and the messages: a message is the largest element around one known body that
holds no other. Each field is then read every way that finds it in the first page, and the
way that reproduces the known values on every page is kept (the most stable one on a tie).
A long message may show a cut preview with its whole text in a ``<template>`` or a hidden
element: the body then reads the visible element, and ``full_text`` the whole one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.core.models import Case, CaseStatus, Direction, Message
from agent.core.text import squash
from agent.site.learn.tree import Node, Selector, compounds
from agent.site.learn.values import (
    DATE_FORMATS,
    Reading,
    date_matcher,
    list_readings,
    read,
    readings,
)

__all__ = ["DetailLearned", "DetailPage", "learn_detail"]

OLDER_WORDS = ("older", "earlier", "previous messages", "更早", "以前")
SKIP_TAGS = frozenset({"title", "head", "form", "textarea", "input", "option", "script", "style"})


@dataclass
class DetailPage:
    doc: Node
    case: Case
    messages: list[Message]  # oldest first


@dataclass
class DetailLearned:
    spec: dict[str, Any] | None
    report: dict[str, tuple[int, int]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    statuses: dict[str, CaseStatus] = field(default_factory=dict)


def _visible(node: Node) -> bool:
    return not any(a.tag in SKIP_TAGS for a in (node, *node.ancestors()))


def _holders(doc: Node, want: str) -> list[Node]:
    """The deepest elements whose text (or ``<template>`` content) is exactly ``want``."""
    if not want:
        return []
    out = []
    for node in doc.walk():
        if node.value_text == want and _visible(node):
            kids = (*node.children, *node.shadow)
            if not any(k.value_text == want for k in kids):
                out.append(node)
    return out


def _lca(nodes: Sequence[Node]) -> Node:
    first = nodes[0]
    for anc in (first, *first.ancestors()):
        if all(anc.contains(n) for n in nodes):
            return anc
    return first


def _unique(node: Node, doc: Node) -> Selector | None:
    for c in compounds(node):
        sel = Selector((c,))
        if sel.select(doc)[:1] == [node] and len(sel.select(doc)) == 1:
            return sel
    return None


def _label_status(statuses: dict[str, CaseStatus], text: str) -> CaseStatus:
    wanted = squash(text).casefold()
    return next(
        (s for label, s in statuses.items() if squash(label).casefold() == wanted),
        CaseStatus.UNKNOWN,
    )


Check = Callable[[Any, DetailPage], bool]


def _best(
    candidates: Sequence[Reading],
    instances: Sequence[tuple[Node, DetailPage, Any]],
    check: Callable[[Reading, Any, DetailPage, Any], bool],
) -> tuple[Reading, int] | None:
    """The reading that passes ``check`` on the most instances (scope, page, expected)."""
    best: tuple[int, int, Reading] | None = None
    seen: set[tuple[Any, ...]] = set()
    for reading in candidates:
        key = (
            reading.selector.css() if reading.selector else None,
            reading.label,
            reading.attr,
            reading.full_text.css() if reading.full_text else None,
            reading.formats,
            reading.all,
        )
        if key in seen:
            continue
        seen.add(key)
        ok = sum(
            check(reading, read(reading, scope), page, want) for scope, page, want in instances
        )
        if ok and (best is None or (-ok, reading.rank) < (-best[0], best[1])):
            best = (ok, reading.rank, reading)
    return (best[2], best[0]) if best else None


def _candidates(holder: Node, scope: Node) -> list[Reading]:
    out = list(readings(holder, scope))
    for attr, value in holder.attrs.items():
        if attr not in ("class", "style") and value.strip():
            out += readings(holder, scope, attr=attr)
    return out


def _has_time(fmt: str) -> bool:
    return fmt == "iso" or any(d in fmt for d in ("%H", "%I", "%M"))


def _date_readings(
    scope: Node, want: Any, zone: str, formats: Sequence[str], *, to_the_minute: bool = False
) -> list[Reading]:
    """Readings of a date somewhere in ``scope`` that parse to ``want`` with some format: to
    the minute where any does (or only those, with ``to_the_minute``), else to the day."""
    timed = [f for f in formats if _has_time(f)]
    found = _date_readings_with(scope, want, zone, timed)
    if found or to_the_minute:
        return found
    return _date_readings_with(scope, want, zone, [f for f in formats if not _has_time(f)])


def _date_readings_with(scope: Node, want: Any, zone: str, formats: Sequence[str]) -> list[Reading]:
    out: list[Reading] = []
    for node in scope.walk():
        if not _visible(node):
            continue
        sources = [(None, node.value_text)] + [
            (a, v) for a, v in node.attrs.items() if a not in ("class", "style")
        ]
        for attr, text in sources:
            if not text.strip() or len(text) > 80:
                continue
            for fmt in formats:
                if date_matcher(want, zone, fmt)(text):
                    out += [r.with_formats([fmt]) for r in readings(node, scope, attr=attr)]
    return out


def learn_detail(
    pages: Sequence[DetailPage],
    *,
    zone: str,
    formats: Sequence[str],
    statuses: dict[str, CaseStatus],
) -> DetailLearned:
    """The ``[detail]`` section that reads each page into its known case and messages."""
    out = DetailLearned(spec=None)
    formats = list(dict.fromkeys([*formats, *DATE_FORMATS]))
    first = pages[0]
    summary = _summary(first, zone, formats, statuses)
    if summary is None:
        out.problems.append("no element holds the known subject, status and date together")
        return out
    summary_sel = _unique(summary, first.doc)
    if summary_sel is None:
        out.problems.append("no selector singles out the case summary")
        return out
    scopes = []
    for page in pages:
        hits = summary_sel.select(page.doc)
        if not hits:
            out.problems.append(f"case {page.case.case_id}: no summary ({summary_sel.css()})")
            return out
        scopes.append(hits[0])
    fields = _summary_fields(pages, scopes, zone, formats, statuses, out)
    messages = _messages(pages, zone, formats, out)
    if "status" not in fields or "created_at" not in fields or messages is None:
        return out
    message_sel, message_fields, extra = messages
    out.spec = {
        "summary": summary_sel.css(),
        "message": message_sel.css(),
        "fields": fields,
        "message_fields": message_fields,
        **extra,
    }
    return out


def _summary(
    page: DetailPage, zone: str, formats: Sequence[str], statuses: dict[str, CaseStatus]
) -> Node | None:
    """The smallest element around the known subject, a status label and the creation date."""
    subjects = _holders(page.doc, page.case.subject) or [
        n for n in page.doc.walk() if squash(n.text) == squash(page.case.subject) and _visible(n)
    ]
    status_holders = [
        n
        for n in page.doc.walk()
        if _visible(n)
        and len(n.text) < 60
        and _label_status(statuses, n.text) is page.case.status
        and not any(_label_status(statuses, k.text) is page.case.status for k in n.children)
    ]
    best: Node | None = None
    for s in subjects:
        for st in status_holders:
            node = _lca([s, st])
            if best is None or best.contains(node):
                best = node
    return best


def _summary_fields(
    pages: Sequence[DetailPage],
    scopes: Sequence[Node],
    zone: str,
    formats: Sequence[str],
    statuses: dict[str, CaseStatus],
    out: DetailLearned,
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    first, scope0 = pages[0], scopes[0]

    def text_field(name: str, want: Callable[[DetailPage], str], required: bool) -> None:
        value = want(first)
        cands = (
            [r for h in _holders(scope0, value) for r in _candidates(h, scope0)] if value else []
        )
        inst = [(s, p, want(p)) for s, p in zip(scopes, pages, strict=True)]
        found = _best(cands, inst, lambda r, got, p, w: got == w)
        _keep(name, found, len(pages), fields, out, required)

    text_field("subject", lambda p: p.case.subject, True)
    # status: any label that means the known status
    cands = []
    for node in scope0.walk():
        if len(node.text) < 60 and _label_status(statuses, node.text) is first.case.status:
            cands += _candidates(node, scope0)
    inst = [(s, p, p.case.status) for s, p in zip(scopes, pages, strict=True)]
    status = _best(
        cands, inst, lambda r, got, p, w: isinstance(got, str) and _label_status(statuses, got) is w
    )
    _keep("status", status, len(pages), fields, out, True)
    if status is not None:
        for s, p in zip(scopes, pages, strict=True):
            label = read(status[0], s)
            if isinstance(label, str):
                out.statuses.setdefault(squash(label), p.case.status)
    for name in ("created_at", "last_updated_at"):
        want = getattr(first.case, name)
        if want is None:
            continue
        cands = _date_readings(scope0, want, zone, formats)
        inst = [(s, p, getattr(p.case, name)) for s, p in zip(scopes, pages, strict=True)]
        found = _best(
            cands,
            inst,
            lambda r, got, p, w: (
                w is not None
                and isinstance(got, str)
                and date_matcher(w, zone, (r.formats or ("iso",))[0])(got)
            ),
        )
        _keep(name, found, len(pages), fields, out, name == "created_at")
    if first.case.primary_email:
        text_field("primary_email", lambda p: p.case.primary_email, False)
    cc_pages = [(s, p) for s, p in zip(scopes, pages, strict=True) if p.case.cc]
    if cc_pages:
        s0, p0 = cc_pages[0]
        holders = [h for address in p0.case.cc for h in _holders(s0, address)[:1]]
        found = _best(
            list_readings(holders, s0),
            [(s, p, list(p.case.cc)) for s, p in cc_pages],
            lambda r, got, p, w: got == w,
        )
        _keep("cc", found, len(cc_pages), fields, out, False)
    return fields


def _keep(
    name: str,
    found: tuple[Reading, int] | None,
    of: int,
    into: dict[str, Any],
    out: DetailLearned,
    required: bool,
) -> None:
    if found is None:
        if required:
            out.problems.append(f"nothing on the page reproduces {name}")
        return
    reading, ok = found
    out.report[name] = (ok, of)
    into[name] = {**reading.spec(), **({} if required else {"required": False})}


def _messages(
    pages: Sequence[DetailPage], zone: str, formats: Sequence[str], out: DetailLearned
) -> tuple[Selector, dict[str, Any], dict[str, Any]] | None:
    """The message container and its fields, checked on every known message of every page."""
    containers: list[tuple[Node, DetailPage, Message]] = []
    lonely: list[tuple[Node, DetailPage, Message]] = []  # the only message found on its page
    for page in pages:
        bodies = {m.message_id: _holders(page.doc, m.body) for m in page.messages}
        holders = {mid: hs[0] for mid, hs in bodies.items() if hs}
        for m in page.messages:
            if m.message_id not in holders:
                continue
            h = holders[m.message_id]
            others = [o for mid, o in holders.items() if mid != m.message_id]
            if not others:
                lonely.append((h, page, m))
                continue
            box = h
            for anc in h.ancestors():
                if any(anc.contains(o) for o in others):
                    break
                box = anc
            containers.append((box, page, m))
    if containers:
        # a page that shows one known message whole: its box looks like the others' boxes
        shape = compounds(containers[0][0])[0]
        for h, page, m in lonely:
            like = next((a for a in (h, *h.ancestors()) if shape.matches(a)), None)
            if like is not None:
                containers.append((like, page, m))
    if len(containers) < 2:
        out.problems.append("fewer than two known messages are on the pages")
        return None
    sel = _container_selector([c for c, _, _ in containers], pages)
    if sel is None:
        out.problems.append("no selector finds the messages")
        return None
    inst = [(c, p, m) for c, p, m in containers]
    fields: dict[str, Any] = {}

    def pick(name: str, cands: list[Reading], check: Any, required: bool) -> None:
        found = _best(cands, inst, check)
        if found is not None and found[1] < len(inst) and not required:
            found = None  # an optional field that does not always read right: left out
        _keep(name, found, len(inst), fields, out, required)

    c0, _, m0 = containers[0]
    pick("body", _body_readings(containers), lambda r, got, p, m: got == m.body, True)
    amazon = {m.sender for _, _, m in containers if m.direction is Direction.FROM_AMAZON}
    pick(
        "sender",
        [r for h in _holders(c0, m0.sender) for r in _candidates(h, c0)],
        lambda r, got, p, m: got == m.sender,
        True,
    )
    if any(m.sender_email for _, _, m in containers):
        cands = [r for h in _holders(c0, m0.sender_email) for r in _candidates(h, c0)]
        pick("sender_email", cands, lambda r, got, p, m: (got or "") == m.sender_email, False)
    dated = _date_readings(c0, m0.sent_at, zone, formats, to_the_minute=True)
    pick(
        "sent_at",
        dated,
        lambda r, got, p, m: (
            isinstance(got, str) and date_matcher(m.sent_at, zone, (r.formats or ("iso",))[0])(got)
        ),
        False,
    )
    if "sent_at" in fields:
        fields["sent_at"].pop("required", None)
    else:
        _split_date(containers, zone, formats, fields, out)
    with_files = [(c, p, m) for c, p, m in containers if m.attachments]
    if with_files:
        c1, _, m1 = with_files[0]
        files = [h for name in m1.attachments for h in _holders(c1, name)[:1]]
        found = _best(
            list_readings(files, c1),
            [(c, p, list(m.attachments)) for c, p, m in with_files],
            lambda r, got, p, w: got == w,
        )
        _keep("attachments", found, len(with_files), fields, out, False)
    ids = _id_attr(containers)
    if ids:
        fields["message_id"] = {"selector": ":self", "attr": ids, "required": False}
    extra: dict[str, Any] = {
        "from_amazon_senders": sorted(amazon) or ["Amazon"],
        "order": _order(containers),
    }
    extra.update(_controls(sel, pages))
    if "body" not in fields or "sender" not in fields:
        return None
    if "sent_at" not in fields and "date" not in fields:
        out.problems.append("nothing in a message reproduces when it was sent")
        return None
    return sel, fields, extra


def _container_selector(boxes: list[Node], pages: Sequence[DetailPage]) -> Selector | None:
    """Finds every message found, and no more elements than there are known messages (a
    page may show fewer: a long thread's older pages, a message not expanded yet)."""
    ids = set(map(id, boxes))
    known = sum(len(p.messages) for p in pages)
    for c in compounds(boxes[0]):
        sel = Selector((c,))
        hits = [h for p in pages for h in sel.select(p.doc)]
        if ids <= set(map(id, hits)) and len(hits) <= known:
            return sel
    return None


def _body_readings(containers: list[tuple[Node, DetailPage, Message]]) -> list[Reading]:
    """The body read from the element showing it, with the whole text from a ``<template>``
    or hidden element where a long message shows a cut preview."""
    out: list[Reading] = []
    plain = [
        (c, m) for c, _, m in containers if any(h.template is None for h in _holders(c, m.body))
    ]
    whole = [(c, m) for c, _, m in containers if (c, m) not in plain]
    for c, m in plain[:3]:
        for h in _holders(c, m.body):
            out += readings(h, c)
    if whole:
        c, m = whole[0]
        for h in _holders(c, m.body):
            fulls = [Selector((x,)) for x in compounds(h)]
            visible = [n for n in c.walk() if n is not h and n.text and m.body.startswith(
                squash(n.text)[: max(1, min(40, len(squash(n.text)) - 3))].rstrip("…. ")
            )]  # fmt: skip
            base = list(out) or [r for v in visible for r in readings(v, c)]
            for b in base:
                for f in fulls:
                    out.append(
                        Reading(b.selector, b.label, b.attr, f, None, None, False, b.rank + 1)
                    )
    return out


def _split_date(
    containers: list[tuple[Node, DetailPage, Message]],
    zone: str,
    formats: Sequence[str],
    fields: dict[str, Any],
    out: DetailLearned,
) -> None:
    """Date and time in two elements (``Nov 21, 2026`` + ``4:35 PM PST``)."""
    c0, _, m0 = containers[0]
    nodes = [n for n in c0.walk() if _visible(n) and n.text.strip() and len(n.text) < 40]
    for d in nodes:
        for t in nodes:
            if d is t:
                continue
            text = f"{d.text} {t.text}"
            for fmt in filter(_has_time, formats):
                if not date_matcher(m0.sent_at, zone, fmt)(text):
                    continue
                for rd in readings(d, c0):
                    for rt in readings(t, c0):
                        ok = sum(
                            date_matcher(m.sent_at, zone, fmt)(f"{read(rd, c)} {read(rt, c)}")
                            for c, _, m in containers
                        )
                        if ok == len(containers):
                            fields["date"] = {**rd.spec(), "formats": [fmt]}
                            fields["time"] = rt.spec()
                            out.report["sent_at"] = (ok, len(containers))
                            return


def _id_attr(containers: list[tuple[Node, DetailPage, Message]]) -> str | None:
    """An attribute of each message element holding the message's known id."""
    c0, _, m0 = containers[0]
    for name, value in c0.attrs.items():
        if value == m0.message_id and all(
            c.attrs.get(name) == m.message_id for c, _, m in containers
        ):
            return name
    return None


def _order(containers: list[tuple[Node, DetailPage, Message]]) -> str:
    """``newest_first`` when the page lists later messages first."""
    by_page: dict[int, list[tuple[int, Message]]] = {}
    for c, p, m in containers:
        by_page.setdefault(id(p), []).append((c.index, m))
    for items in by_page.values():
        items.sort(key=lambda x: x[0])
        times = [m.sent_at for _, m in items]
        if times != sorted(times):
            return "newest_first"
        if len(set(times)) > 1:
            return "oldest_first"
    return "newest_first"


def _controls(sel: Selector, pages: Sequence[DetailPage]) -> dict[str, Any]:
    """Links to older pages of the thread, buttons that load older messages, and buttons that
    show a message's whole text, in every message the pages show (found or not)."""
    out: dict[str, Any] = {}
    boxes = [b for p in pages for b in sel.select(p.doc)]
    inside = {id(n) for b in boxes for n in b.walk()}
    for page in pages:
        for node in page.doc.walk():
            href = node.attrs.get("href", "")
            if node.tag == "a" and node.attrs.get("rel") == "next" and page.case.case_id in href:
                out["older_link"] = "a[rel=next]"
            text = squash(node.text).casefold()
            if (
                id(node) not in inside
                and node.tag in ("button", "kat-button", "a")
                and node.attrs.get("rel") != "next"
                and any(w in text for w in OLDER_WORDS)
            ):
                hooks = [x for x in compounds(node) if x.attrs]
                if hooks:
                    out.setdefault("load_older", Selector((hooks[0],)).css())
    for box in boxes:
        for node in box.walk():
            if node.tag in ("button", "kat-button") and node.attrs.get("aria-expanded") == "false":
                hooks = [x for x in compounds(node) if x.attrs and x.attrs[0][0] != "type"]
                if hooks:
                    out["see_more"] = Selector((hooks[0],)).css() + "[aria-expanded=false]"
                    return out
    return out
