"""Learning the ``[list]`` part of a map from one list page and the cases known to be on it.

The cases' IDs locate the rows: a row is the largest element around a case's ID that holds
no other case's ID. The rows' cells are the repeated elements that hold the values; the
header cells are the same number of elements outside the rows. Then, for each known field,
each column is tried with every way of reading it, and the reading that reproduces the known
value in the most rows (the most stable one on a tie) is kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.core.models import Case, CaseStatus
from agent.core.text import squash
from agent.site.learn.tree import Compound, Node, Selector, compounds
from agent.site.learn.values import (
    DATE_FORMATS,
    Reading,
    Score,
    date_matcher,
    exact_matcher,
    read,
    readings,
)

__all__ = ["ListLearned", "learn_list"]

CASE_ID = re.compile(r"\b\d{8,14}\b")


@dataclass
class ListLearned:
    spec: dict[str, Any] | None
    report: dict[str, tuple[int, int]] = field(default_factory=dict)  # field -> (ok, of)
    problems: list[str] = field(default_factory=list)
    statuses: dict[str, CaseStatus] = field(default_factory=dict)  # labels seen -> canonical
    row_links: list[tuple[str, str]] = field(default_factory=list)  # (case ID, href)


def _id_holders(doc: Node, ids: set[str]) -> dict[str, Node]:
    """The deepest element whose text is exactly a known case ID, per ID."""
    found: dict[str, Node] = {}
    for node in doc.walk():
        text = squash(node.text)
        if text in ids and not any(squash(c.text) == text for c in (*node.children, *node.shadow)):
            found.setdefault(text, node)
    return found


def _link_holders(doc: Node, ids: set[str]) -> dict[str, Node]:
    """A link whose address names a known case ID, per ID (when no cell shows the ID)."""
    found: dict[str, Node] = {}
    for node in doc.walk():
        href = node.attrs.get("href", "")
        for cid in CASE_ID.findall(href):
            if cid in ids:
                found.setdefault(cid, node)
    return found


def _row_of(holder: Node, holders: dict[str, Node]) -> Node:
    """The largest ancestor of ``holder`` that holds no other known case's holder."""
    others = [h for h in holders.values() if h is not holder]
    row = holder
    for anc in holder.ancestors():
        if any(anc.contains(o) for o in others):
            break
        row = anc
    return row


def _lca(nodes: Sequence[Node]) -> Node:
    first = nodes[0]
    for anc in (first, *first.ancestors()):
        if all(anc.contains(n) for n in nodes):
            return anc
    return first


def _row_selector(rows: list[Node], table: Node, cell: Compound | None) -> Selector | None:
    """A selector that finds every row, and nothing that is not a row of a case."""
    rowset = set(map(id, rows))
    for c in compounds(rows[0]):
        options = [c] + ([Compound(c.tag, c.attrs, c.classes, cell)] if cell else [])
        for option in options:
            sel = Selector((option,))
            hits = sel.select(table)
            if not rowset <= set(map(id, hits)):
                continue
            extras = [h for h in hits if id(h) not in rowset]
            if all(CASE_ID.search(h.text) or _has_case_link(h) for h in extras):
                return sel
    return None


def _has_case_link(node: Node) -> bool:
    return any(CASE_ID.search(n.attrs.get("href", "")) for n in node.walk())


def _cells(rows: list[Node]) -> tuple[Compound, list[list[Node]]] | None:
    """The repeated elements of every row that hold its values (as many in each row)."""
    best: tuple[int, Compound, list[list[Node]]] | None = None
    for c in compounds(rows[0].children[0] if rows[0].children else rows[0]) + [
        cc for child in rows[0].walk() for cc in compounds(child)[:4]
    ]:
        sel = Selector((c,))
        per_row = [sel.select(r) for r in rows]
        counts = {len(cells) for cells in per_row}
        if len(counts) != 1 or (k := counts.pop()) < 2:
            continue
        nested = any(a.contains(b) for cells in per_row for a in cells for b in cells if a is not b)
        if nested:
            continue
        score = k * 10 - c.weight
        if best is None or score > best[0]:
            best = (score, c, per_row)
    return (best[1], best[2]) if best else None


def _header(table: Node, rows: list[Node], k: int) -> tuple[Compound, list[str]] | None:
    """``k`` header cells in the table, outside every row; their labels in order."""
    in_rows = {id(n) for r in rows for n in r.walk()}
    best: tuple[int, Compound, list[str]] | None = None
    for node in table.walk():
        if id(node) in in_rows or node is table:
            continue
        for c in compounds(node):
            hits = [h for h in Selector((c,)).select(table) if id(h) not in in_rows]
            named = sum(bool(squash(h.text)) for h in hits) >= 2
            if len(hits) == k and named and (best is None or c.weight < best[0]):
                best = (c.weight, c, [squash(h.text) for h in hits])
    return (best[1], best[2]) if best else None


def _unique(node: Node, doc: Node) -> Selector | None:
    """A selector that finds ``node`` and only it in the document."""
    for anc in (node, *node.ancestors()):
        for c in compounds(anc):
            sel = Selector((c,))
            hits = sel.select(doc)
            if hits == [anc]:
                return sel
        if anc.parent is None:
            break
    return None


def _count_line(doc: Node, table: Node, total: int) -> tuple[Selector, str] | None:
    """The element that states how many cases there are, and a pattern for the number."""
    number = re.compile(rf"(?<![\d.,]){total:,}(?![\d.,])|(?<![\d.,]){total}(?![\d.,])")
    best: tuple[int, Node, str] | None = None
    for node in doc.walk():
        if table.contains(node):
            continue
        text = squash(node.text)
        if len(text) > 120 or not number.search(text):
            continue
        # "Cases 1 to 50 of 556", "Showing 1–50 of 556": the total is said last
        *_, m = number.finditer(text)
        before = text[: m.start()].rstrip()
        after = text[m.end() :].lstrip()
        word_before = re.search(r"([^\W\d_]+)$", before)
        word_after = re.match(r"^([^\W\d_]+)", after)
        if word_before:
            pat = re.escape(word_before.group(1)) + r"\s*(?P<total>[\d,.]+)"
        elif word_after:
            pat = r"(?P<total>[\d,.]+)\s*" + re.escape(word_after.group(1))
        else:
            continue
        found = re.search(pat, text)
        if found is None or found.start("total") != m.start():
            continue  # the pattern would find another number first
        if best is None or len(text) < best[0]:
            best = (len(text), node, pat)
    if best is None:
        return None
    sel = _unique(best[1], doc)
    return (sel, best[2]) if sel else None


def _labels_to_status(statuses: dict[str, CaseStatus], text: str) -> CaseStatus:
    wanted = squash(text).casefold()
    return next(
        (s for label, s in statuses.items() if squash(label).casefold() == wanted),
        CaseStatus.UNKNOWN,
    )


def _score_column(
    name: str,
    cases: list[Case],
    cells: list[Node],
    zone: str,
    formats: Sequence[str],
    statuses: dict[str, CaseStatus],
) -> Score | None:
    """The best way to read field ``name`` from one column's cells (one per case)."""
    candidates: list[Reading] = []
    first = cells[0]
    want0 = _want(name, cases[0])
    holders = [n for n in first.walk()]
    for holder in holders:
        candidates += readings(holder, first)
        for attr in holder.attrs:
            if attr not in ("class", "style") and holder.attrs[attr].strip():
                candidates += readings(holder, first, attr=attr)
    best: Score | None = None
    seen: set[tuple[Any, ...]] = set()
    for reading in candidates:
        key = (reading.selector.css() if reading.selector else None, reading.label, reading.attr)
        if key in seen:
            continue
        seen.add(key)
        for variant in _variants(name, reading, read(reading, first), want0, zone, formats):
            score = Score(variant)
            for case, cell in zip(cases, cells, strict=True):
                got = read(variant, cell)
                score.checked += 1
                if _matches(name, variant, got, case, zone, statuses):
                    score.matched += 1
                else:
                    score.misses.append(case.case_id)
            if best is None or score.key < best.key:
                best = score
    return best


def _want(name: str, case: Case) -> Any:
    return getattr(case, name, None)


def _variants(
    name: str,
    reading: Reading,
    sample: Any,
    want: Any,
    zone: str,
    formats: Sequence[str],
) -> list[Reading]:
    """The reading as it is, or with the date format / ID pattern a field needs."""
    if not isinstance(sample, str):
        return []
    if name in ("created_at", "last_updated_at", "last_amazon_reply_at"):
        if want is None:
            return []
        return [reading.with_formats([f]) for f in formats if date_matcher(want, zone, f)(sample)]
    if name == "case_id" and sample.strip() != want:
        if want in sample and reading.attr:
            left = re.escape(sample[: sample.index(want)][-12:])
            pattern = f"{left}(\\d{{8,14}})" if left else r"(\d{8,14})"
            return [Reading(reading.selector, reading.label, reading.attr, None, pattern,
                            None, False, reading.rank + 5)]  # fmt: skip
        return []
    return [reading]


def _matches(
    name: str,
    reading: Reading,
    got: Any,
    case: Case,
    zone: str,
    statuses: dict[str, CaseStatus],
) -> bool:
    want = _want(name, case)
    if not isinstance(got, str):
        return False
    if name == "case_id":
        return got.strip() == want
    if name == "status":
        return _labels_to_status(statuses, got) is case.status
    if reading.formats:
        return want is not None and date_matcher(want, zone, reading.formats[0])(got)
    return exact_matcher(want)(got)


def learn_list(
    doc: Node,
    cases: Sequence[Case],
    *,
    total: int,
    zone: str,
    formats: Sequence[str],
    statuses: dict[str, CaseStatus],
) -> ListLearned:
    """The ``[list]`` section that reads ``doc`` (a list page) into ``cases``' rows.

    ``cases`` are the known cases (those not on this page are ignored); ``total`` is how many
    cases the site should say it has; ``statuses`` maps every label known to canonical.
    """
    out = ListLearned(spec=None)
    by_id = {c.case_id: c for c in cases}
    holders = _id_holders(doc, set(by_id)) or _link_holders(doc, set(by_id))
    if len(holders) < 2:
        out.problems.append("the page shows fewer than two of the known cases")
        return out
    ids = sorted(holders)
    rows = [_row_of(holders[cid], holders) for cid in ids]
    table = _lca(rows)
    found = _cells(rows)
    if found is None:
        out.problems.append("no repeated cells in the rows")
        return out
    cell, per_row = found
    k = len(per_row[0])
    header = None
    for _ in range(4):  # the rows' container may hold only the rows (a tbody)
        header = _header(table, rows, k)
        if header is not None or table.parent is None:
            break
        table = table.parent
    if header is None:
        out.problems.append(f"no header of {k} cells above the rows")
        return out
    header_compound, labels = header
    row_sel = _row_selector(rows, table, cell)
    table_sel = _unique(table, doc)
    if row_sel is None or table_sel is None:
        out.problems.append("no selector singles out the rows or the table")
        return out
    known = [by_id[cid] for cid in ids]
    columns: dict[str, Any] = {}
    chosen: dict[str, tuple[Reading, int]] = {}
    formats = list(dict.fromkeys([*formats, *DATE_FORMATS]))
    for name in ("case_id", "subject", "status", "created_at", "last_updated_at",
                 "last_amazon_reply_at"):  # fmt: skip
        wanted = [c for c in known if _want(name, c) is not None]
        if not wanted:
            continue
        best: tuple[Score, int] | None = None
        for j in range(k):
            column = [per_row[ids.index(c.case_id)][j] for c in wanted]
            score = _score_column(name, wanted, column, zone, formats, statuses)
            if score is not None and (best is None or score.key < best[0].key):
                best = (score, j)
        required = name in ("case_id", "created_at", "subject", "status")
        if (
            best is None
            or best[0].matched == 0
            or (not required and best[0].matched < best[0].checked)
        ):
            if required:
                out.problems.append(f"no column reproduces {name}")
            continue  # an optional field no column shows as it is known: left out
        score, j = best
        chosen[name] = (score.reading, j)
        out.report[name] = (score.matched, score.checked)
        columns[name] = {"header": labels[j], **score.reading.spec()}
        if not required:
            columns[name]["required"] = False
    if "status" in chosen:
        status_reading, j = chosen["status"]
        for c, row in zip(known, per_row, strict=True):
            label = read(status_reading, row[j])
            if isinstance(label, str) and squash(label):
                out.statuses.setdefault(squash(label), c.status)
    count = _count_line(doc, table, total)
    if count is None:
        out.problems.append(f"no element states the number of cases ({total})")
        return out
    if "case_id" not in columns or "created_at" not in columns:
        return out
    out.row_links = [
        (cid, n.attrs["href"])
        for cid, row in zip(ids, rows, strict=True)
        for n in row.walk()
        if cid in n.attrs.get("href", "")
    ]
    out.spec = {
        "table": table_sel.css(),
        "header": Selector((header_compound,)).css(),
        "row": row_sel.css(),
        "cell": Selector((cell,)).css(),
        "count": count[0].css(),
        "count_pattern": count[1],
        "columns": columns,
    }
    return out
