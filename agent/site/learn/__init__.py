"""``caselog maps learn``: infer a selector map from Case Log pages and records known to be
true, by a deterministic search over the pages (no language model, no network beyond the
account's own site).

- :func:`capture` / :func:`capture_html` turn a live page or a saved one into a tree;
- :mod:`.listing`, :mod:`.detail` and :mod:`.urls` learn the map's parts;
- :func:`assemble` writes them as a whole map on top of a base map (the one it replaces);
- :func:`compare_rows` / :func:`compare_details` say, per field, how many known records the
  map's real readers reproduce: the candidate is judged by what it reads, not by how it was
  found.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from importlib.resources import files
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from agent.core.models import Case, CaseStatus, ListRow, Message
from agent.core.text import squash
from agent.errors import IncompleteReason, ReadError
from agent.site.learn.detail import DetailLearned, DetailPage, learn_detail
from agent.site.learn.listing import ListLearned, learn_list
from agent.site.learn.tree import Node, parse_tree
from agent.site.learn.urls import LearnedUrls, infer_urls
from agent.site.readers.base import CaseDetail
from agent.site.selectormap import SelectorMap, available_maps, load_map

__all__ = [
    "DetailLearned",
    "DetailPage",
    "LearnedUrls",
    "ListLearned",
    "Score",
    "Snapshot",
    "all_status_labels",
    "assemble",
    "capture",
    "capture_html",
    "compare_details",
    "compare_rows",
    "infer_urls",
    "learn_detail",
    "learn_list",
]


@cache
def _snapshot_js() -> str:
    return (files("agent.site") / "js" / "dom_snapshot.js").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Snapshot:
    url: str
    doc: Node


def capture(page: Page, expect: Sequence[str] = (), timeout_s: float = 30) -> Snapshot:
    """The page as rendered, once it shows one of ``expect`` (text a rendered page must
    hold, e.g. a known case ID) where given: the modern Case Log renders after loading."""
    if expect:
        try:
            page.wait_for_function(
                """(wanted) => {
                  const seen = (root) => {
                    if (wanted.some((w) => (root.textContent || "").includes(w))) return true;
                    for (const el of root.querySelectorAll("*"))
                      if (el.shadowRoot && seen(el.shadowRoot)) return true;
                    return false;
                  };
                  return seen(document.documentElement);
                }""",
                arg=list(expect),
                timeout=timeout_s * 1000,
            )
        except PlaywrightError:
            raise ReadError(
                IncompleteReason.SELECTOR_MISSING,
                f"{page.url} never showed any of the known cases ({', '.join(expect[:3])}...)",
            ) from None
    _settle(page)
    data = json.loads(page.evaluate(_snapshot_js(), None))
    return Snapshot(data["url"], parse_tree(data["root"]))


_DEEP_SIZE = """() => {
  let n = 0;
  const walk = (root) => {
    n += (root.textContent || "").length;
    for (const el of root.querySelectorAll("*")) if (el.shadowRoot) walk(el.shadowRoot);
  };
  walk(document.documentElement);
  return n;
}"""


def _settle(page: Page, quiet_s: float = 0.3, limit_s: float = 10) -> None:
    """Wait until the page stops changing (a rendered page fills in its parts one by one)."""
    deadline = time.monotonic() + limit_s
    last = page.evaluate(_DEEP_SIZE)
    while time.monotonic() < deadline:
        page.wait_for_timeout(quiet_s * 1000)
        size = page.evaluate(_DEEP_SIZE)
        if size == last:
            return
        last = size


def capture_html(page: Page, html: str, url: str) -> Snapshot:
    """A saved page, parsed in ``page`` (its scripts never run)."""
    data = json.loads(page.evaluate(_snapshot_js(), html))
    return Snapshot(url, parse_tree(data["root"]))


@cache
def all_status_labels() -> dict[str, CaseStatus]:
    """Every status label any bundled map knows (displayed and API values)."""
    labels: dict[str, CaseStatus] = {}
    for name in available_maps():
        smap = load_map(name)
        labels.update(smap.statuses)
        if smap.api:
            labels.update(smap.api.statuses)
    return labels


def assemble(
    base: SelectorMap,
    name: str,
    listing: ListLearned,
    detail: DetailLearned,
    urls: LearnedUrls | None,
    *,
    reader: str,
) -> dict[str, Any]:
    """A whole map (as TOML data): the learned list and detail on top of ``base``'s
    settings (locale, time zone, statuses, texts); ``base``'s URLs where none were learned."""
    data = base.model_dump(exclude_none=True, mode="json")
    data["name"] = name
    data["ui"] = f"learned from {base.name}"
    data["reader"] = reader
    statuses = dict(data["statuses"])
    for label, status in {**listing.statuses, **detail.statuses}.items():
        if all(squash(k).casefold() != squash(label).casefold() for k in statuses):
            statuses[label] = status.value
    data["statuses"] = statuses
    if listing.spec is None or detail.spec is None:
        raise ValueError("assemble needs a learned list and detail")
    page_size = (urls.page_size if urls and urls.page_size else None) or data["list"]["page_size"]
    data["list"] = {"page_size": page_size, **listing.spec}
    data["detail"] = detail.spec
    if reader != "dom":
        data.pop("dom", None)
    if reader != "api":
        data.pop("api", None)
    if urls is not None:
        for key in ("lobby", "list", "search", "detail"):
            value = getattr(urls, key)
            if value:
                data["urls"][key] = value
    return data


# -- judging a candidate by what it reads ----------------------------------------------------


@dataclass
class Score:
    """Per field: how many known records the map reproduces, of how many it could check."""

    fields: dict[str, list[int]] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)

    def tally(self, name: str, ok: bool, what: str) -> None:
        counts = self.fields.setdefault(name, [0, 0])
        counts[0] += ok
        counts[1] += 1
        if not ok and len(self.misses) < 20:
            self.misses.append(f"{name}: {what}")

    @property
    def complete(self) -> bool:
        return bool(self.fields) and all(ok == of for ok, of in self.fields.values())

    def as_dict(self) -> dict[str, tuple[int, int]]:
        return {k: (v[0], v[1]) for k, v in self.fields.items()}


def _same_time(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return bool(abs(a - b) < timedelta(minutes=1))


def compare_rows(rows: Sequence[ListRow], known: Sequence[Case], score: Score) -> None:
    """The list as read against the known cases (those the site still lists)."""
    by_id = {r.case_id: r for r in rows}
    for case in known:
        row = by_id.get(case.case_id)
        score.tally("list.case_id", row is not None, f"case {case.case_id} not listed")
        if row is None:
            continue
        score.tally("list.subject", row.subject == case.subject, case.case_id)
        score.tally("list.status", row.status is case.status, case.case_id)
        score.tally("list.created_at", _same_time(row.created_at, case.created_at), case.case_id)


def compare_details(
    details: Mapping[str, CaseDetail],
    known: Sequence[Case],
    messages: Mapping[str, Sequence[Message]],
    score: Score,
) -> None:
    """Case pages as read against the known cases and their messages, field by field."""
    for case in known:
        got = details.get(case.case_id)
        if got is None:
            continue
        cid = case.case_id
        score.tally("detail.subject", got.subject == case.subject, cid)
        score.tally("detail.status", got.status is case.status, cid)
        score.tally("detail.created_at", _same_time(got.created_at, case.created_at), cid)
        score.tally("detail.primary_email", got.primary_email == case.primary_email, cid)
        score.tally("detail.cc", list(got.cc) == list(case.cc), cid)
        want = list(messages.get(cid, ()))
        have = got.messages
        score.tally("messages.count", len(have) == len(want), f"{cid}: {len(have)}/{len(want)}")
        for w, h in zip(want, have, strict=False):
            where = f"{cid}/{w.message_id}"
            score.tally("messages.body", h.body == w.body, where)
            score.tally("messages.direction", h.direction is w.direction, where)
            score.tally("messages.sender", h.sender == w.sender, where)
            score.tally("messages.sent_at", _same_time(h.sent_at, w.sent_at), where)
            score.tally("messages.attachments", h.attachments == w.attachments, where)
            score.tally("messages.sender_email", h.sender_email == w.sender_email, where)
