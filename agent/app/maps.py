"""Selector maps as the seller sees them: which map reads each marketplace, learning a new one
from the live site (by hand with ``caselog maps learn``, or by itself when a sync meets a
page no selector matches), accepting it, and checking any map file.

A learned map is a *candidate* until accepted: it waits in ``maps/candidates/`` (or, learned
by a failed sync, beside the failed page) with a report of how many known records it
reproduces, field by field, and the pages it was learned from. ``caselog maps accept`` checks
it again (its schema and selectors, and every saved page it was learned from) and puts it in
``maps/<account>-<marketplace>.toml``, which then reads that marketplace instead of the map
``caselog.toml`` names. Nothing is switched without the seller's word, unless the account
says ``auto_accept_maps = true`` and every check passes.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import tomli_w

from agent.app.accounts import open_store
from agent.config import Account, Marketplace
from agent.core.models import Case, Message, utcnow
from agent.errors import ConfigError, NotFound, ReadError
from agent.home import Home, inside, write_private
from agent.site.fetcher import Fetcher, Request, SavedPages
from agent.site.learn.live import LiveLearned, learn_live
from agent.site.readers.records import PageRecords
from agent.site.retry import RetryPolicy
from agent.site.selectormap import SelectorMap, available_maps, load_map, parse_map
from agent.site.session import AccountContext, BrowserSession

__all__ = [
    "Candidate",
    "accept",
    "candidates",
    "check_map",
    "known_records",
    "learn",
    "list_maps",
    "maps_in_use",
    "repair",
]

GENERATED = "# Learned by caselog-agent from the live Case Log; see the report beside it.\n"


def maps_in_use(home: Home, account: Account) -> list[tuple[Marketplace | None, SelectorMap]]:
    """Each marketplace of ``account`` with the map that reads it: an accepted learned map
    where there is one, else the one ``caselog.toml`` names (the account's default when the
    account lists no marketplace). Loading them checks them: a bad map stops here."""
    markets: list[Marketplace | None] = list(account.marketplaces) or [None]
    out = []
    for mp in markets:
        accepted = home.accepted_map(account.name, mp.id if mp else "")
        if accepted.is_file():
            out.append((mp, load_map(str(accepted))))
        else:
            out.append((mp, load_map((mp.selector_map if mp else None) or account.selector_map)))
    return out


def known_records(
    home: Home, account: Account, marketplace: str
) -> tuple[list[Case], dict[str, list[Message]]]:
    """What the store holds for one marketplace: the records a learned map must reproduce."""
    if not home.has_store(account.name):
        raise NotFound(
            f"account {account.name} has no stored cases to learn from; run `caselog sync` "
            "(with the map that worked) first, or give the records with --expected"
        )
    with open_store(home, account.name, readonly=True) as store:
        cases = [c for c in store.cases() if not marketplace or c.marketplace == marketplace]
        ids = {c.case_id for c in cases}
        messages: dict[str, list[Message]] = {}
        for m in store.messages():
            if m.case_id in ids:
                messages.setdefault(m.case_id, []).append(m)
    return cases, messages


@dataclass(frozen=True)
class Candidate:
    path: Path
    report: dict[str, Any]

    @property
    def complete(self) -> bool:
        return bool(self.report.get("complete"))


def _write_candidate(path: Path, learned: LiveLearned, meta: dict[str, Any]) -> Candidate:
    """The candidate map, its report and its pages, side by side (all 0600)."""
    assert learned.data is not None
    write_private(path, (GENERATED + tomli_w.dumps(learned.data)).encode())
    pages_dir = path.with_suffix(".pages")
    if pages_dir.exists():
        shutil.rmtree(pages_dir)
    saved = []
    for i, (url, html) in enumerate(learned.pages.items()):
        page = inside(pages_dir, f"page-{i:02d}.html")
        write_private(page, html.encode("utf-8", "replace"))
        saved.append({"url": url, "file": page.name})
    report = {
        **meta,
        "learned_at": utcnow().isoformat(),
        "seconds": round(learned.seconds, 2),
        "complete": learned.complete,
        "fields": learned.score.as_dict(),
        "misses": learned.score.misses,
        "problems": learned.problems,
        "pages": saved,
    }
    write_private(path.with_suffix(".json"), json.dumps(report, indent=2).encode())
    return Candidate(path, report)


def _report(learned: LiveLearned, meta: dict[str, Any]) -> dict[str, Any]:
    return {**meta, "complete": False, "problems": learned.problems, "fields": {}}


def learn(
    home: Home,
    session: BrowserSession,
    account: Account,
    marketplace: Marketplace | None,
    *,
    base: SelectorMap | None = None,
    partial: bool = False,
    ctx: AccountContext | None = None,
    where: Path | None = None,
) -> Candidate:
    """Learn a map for one marketplace from the live site and the store's records; write it
    as a candidate (``where``, default ``maps/candidates/``). A map that reproduces fewer
    than all known records is written only with ``partial``."""
    market = marketplace.id if marketplace else ""
    in_use = dict((mp.id if mp else "", smap) for mp, smap in maps_in_use(home, account))
    base = base or in_use[market]
    cases, messages = known_records(home, account, market)
    if len(cases) < 2:
        raise NotFound(
            f"account {account.name} has fewer than two stored cases for this marketplace: "
            "too few to learn a map from"
        )
    own_ctx = ctx is None
    ctx = ctx or session.context(account, home.state_path(account.name))
    try:
        name = f"learned-{account.name}-{market or 'all'}-{datetime.now():%Y%m%d%H%M}"
        learned = learn_live(ctx, base, account, marketplace, cases, messages, name=name)
    finally:
        if own_ctx:
            ctx.close()
    meta = {"account": account.name, "marketplace": market, "base": base.name}
    if learned.data is None or not (learned.complete or partial):
        path = where or home.candidate_map(account.name, market)
        if learned.data is None:
            return Candidate(path, _report(learned, meta))
        report = {
            **_report(learned, meta),
            "fields": learned.score.as_dict(),
            "misses": learned.score.misses,
            "seconds": round(learned.seconds, 2),
        }
        return Candidate(path, report)
    return _write_candidate(where or home.candidate_map(account.name, market), learned, meta)


def candidates(home: Home, account: str) -> list[Candidate]:
    """The account's candidate maps, newest first (learned by hand, or by a failed sync)."""
    found = []
    folders = [home.maps_dir / "candidates", home.root / "failed-pages"]
    for folder in folders:
        if not folder.is_dir():
            continue
        for report in folder.glob("*.json"):
            path = report.with_suffix(".toml")
            if not path.is_file():
                continue
            try:
                data = json.loads(report.read_text())
            except (OSError, ValueError):
                continue
            if data.get("account") == account:
                found.append(Candidate(path, data))
    return sorted(found, key=lambda c: c.path.stat().st_mtime, reverse=True)


def accept(
    home: Home, account: Account, marketplace: str | None = None, *, partial: bool = False
) -> tuple[Candidate, Path]:
    """Check the newest candidate for the account (one marketplace, or the only one) and put
    it in use for its marketplace."""
    options = [
        c
        for c in candidates(home, account.name)
        if marketplace is None or c.report.get("marketplace", "") == marketplace
    ]
    if not options:
        raise NotFound(
            f"account {account.name} has no learned map waiting; run "
            f"`caselog maps learn --account {account.name}` first"
        )
    candidate = options[0]
    if not (candidate.complete or partial):
        raise ConfigError(
            f"the learned map {candidate.path} reproduces fewer than all known records "
            f"({_gaps(candidate.report)}); accept it anyway with --partial, or learn again"
        )
    problems = check_map(candidate.path, pages=candidate.path.with_suffix(".pages"))
    if problems:
        raise ConfigError(f"the learned map {candidate.path} fails its checks: {problems[0]}")
    market = str(candidate.report.get("marketplace", ""))
    target = home.accepted_map(account.name, market)
    write_private(target, candidate.path.read_bytes())
    load_map.cache_clear()
    return candidate, target


def _gaps(report: dict[str, Any]) -> str:
    gaps = [f"{k} {ok}/{of}" for k, (ok, of) in report.get("fields", {}).items() if ok != of]
    return ", ".join(gaps) or "; ".join(report.get("problems", [])) or "no figures"


def check_map(path: Path, pages: Path | None = None) -> list[str]:
    """What is wrong with a map file: its TOML, keys, selectors and patterns (a
    :class:`ConfigError` names the first), and, given a folder of pages it was learned from,
    whether it still reads each of them (every list row has a case ID; every case page a
    status and dated messages). An empty list means it passed."""
    smap = parse_map(path.read_text(encoding="utf-8"), str(path), base=path.parent)
    if pages is None or not pages.is_dir() or smap.read_with != "html":
        return []
    return read_saved_pages(smap, sorted(pages.glob("*.html")))


def read_saved_pages(
    smap: SelectorMap, files: list[Path], session: BrowserSession | None = None
) -> list[str]:
    """Read each saved page with ``smap`` in a browser (nothing fetched, no script run): a
    list page must give rows that all have case IDs and dates, a case page a status and
    dated messages. ``session``: a browser already running (default: one of its own)."""
    if session is None:
        with BrowserSession() as own:
            return read_saved_pages(smap, files, own)
    problems: list[str] = []
    records = PageRecords(smap)
    page = session.browser.new_page()
    try:
        for file in files:
            html = file.read_text(encoding="utf-8", errors="replace")
            transport = SavedPages(page, "http://saved.invalid", {"p": html})
            fetcher = Fetcher(
                transport,
                account="check",
                relogin=lambda: None,
                concurrency=1,
                retry=RetryPolicy(0),
                timeout_s=30,
            )
            req = Request(key="p", url="http://saved.invalid/", kind="list")
            listed = fetcher.fetch([req], smap.list.model_dump(), smap.blank_texts)["p"]
            try:
                if "error" not in listed:
                    rows = [records.row(r) for r in listed["rows"]]
                    records.stated(listed)
                    if not rows:
                        problems.append(f"{file.name}: a list page with no rows")
                    continue
                req = Request(key="p", url="http://saved.invalid/", kind="detail")
                spec = smap.detail.model_dump()
                data = fetcher.fetch([req], spec, smap.blank_texts)["p"]
                detail = records.detail("00000000", data)
                if not detail.messages:
                    problems.append(f"{file.name}: a case page with no messages")
            except ReadError as exc:
                problems.append(f"{file.name}: {exc.detail}")
    finally:
        page.close()
    return problems


def list_maps(home: Home) -> list[dict[str, Any]]:
    """The bundled maps, and the learned ones in the home (accepted and waiting)."""
    out = [
        {"name": name, "source": "bundled", "ui": load_map(name).ui} for name in available_maps()
    ]
    for folder, state in ((home.maps_dir, "accepted"), (home.maps_dir / "candidates", "waiting")):
        if folder.is_dir():
            for path in sorted(folder.glob("*.toml")):
                out.append({"name": path.stem, "source": state, "path": str(path)})
    return out


def repair(
    home: Home,
    session: BrowserSession,
    ctx: AccountContext,
    account: Account,
    marketplace: Marketplace | None,
    base: SelectorMap,
    stem: str,
) -> Candidate | None:
    """After a sync found no element a selector names: learn a map from the live pages and
    the store's records, and keep it beside the failed page (``<stem>.map.toml``)."""
    started = time.monotonic()
    try:
        candidate = learn(
            home,
            session,
            account,
            marketplace,
            base=base,
            ctx=ctx,
            where=inside(home.failed_pages, f"{stem}.map.toml"),
        )
    except NotFound:
        return None
    candidate.report.setdefault("seconds", round(time.monotonic() - started, 2))
    return candidate
