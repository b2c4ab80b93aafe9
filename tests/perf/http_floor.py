"""The raw-HTTP floor: what reading the Case Log costs with no browser at all.

It asks the mock (always in its own process) for exactly what ``caselog sync`` asks the
modern Case Log's JSON API for, with a signed-in session's cookies:

1. the landing page (the lobby, selecting the marketplace), once: the sign-in check;
2. ``POST SearchForCases`` page 0, then every other page (the map's ``page_size``);
3. ``GET ViewCase`` for each case to read (the map's ``contacts_page_size``), following each
   ``currentToken`` to the older contacts;
4. ``GET ViewContact`` for each contact the site cut short (``messageTruncated``).

A full floor reads every listed case; an incremental floor reads only the cases whose list
row differs from the previous listing's (status, subject, dates, number of contacts: what the
agent's fingerprint covers), as the agent does against its store.

How: ``concurrency`` threads of this process, each with one keep-alive
:class:`http.client.HTTPConnection`, every answer parsed with orjson. The details run as one
pipeline (a token page or a full contact is asked for as soon as its case answers), without
the agent's batches, so this is a floor, not a re-implementation. URLs, page sizes and the
request body come from the same selector map the agent reads (``caselog_selectors``), so a
change there moves both.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import json
import os
import re
import threading
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import orjson

__all__ = [
    "ApiSpec",
    "Floor",
    "FloorError",
    "FloorRun",
    "cookie_header_from_state",
    "normalized",
    "row_key",
]


class FloorError(RuntimeError):
    """The floor could not read everything (a floor that skipped work would flatter)."""


@dataclass(frozen=True)
class ApiSpec:
    """The modern Case Log's API as a selector map describes it, for one marketplace."""

    landing: str
    search: str
    view: str
    contact: str
    page_size: int
    contacts_page_size: int

    @classmethod
    def from_map(
        cls, name: str = "modern-en-US", merchant: str = "", marketplace: str = ""
    ) -> ApiSpec:
        data = tomllib.loads((maps_dir() / f"{name}.toml").read_text("utf-8"))
        api, urls = data["api"], data["urls"]
        landing = urls["lobby"]
        if marketplace:
            switch = urls["switch"].format(merchant=quote(merchant), marketplace=quote(marketplace))
            landing += ("&" if "?" in landing else "?") + switch
        return cls(
            landing=landing,
            search=api["search"],
            view=api["view"],
            contact=api["contact"],
            page_size=int(api["page_size"]),
            contacts_page_size=int(api["contacts_page_size"]),
        )

    def search_body(self, page: int) -> str:
        """The body the agent sends for list page ``page`` (0-based), every case ever."""
        return json.dumps(
            {
                "page": page,
                "searchPageSize": self.page_size,
                "sortBy": "CreationDate",
                "sortByOrder": "DESC",
                "getCountOnly": False,
                "caseFilters": {"caseOwner": "MerchantCases", "startDate": 0},
            }
        )

    def view_path(self, case_id: str, token: str | None = None) -> str:
        path = (
            f"{self.view}?caseId={quote(case_id)}&pageSize={self.contacts_page_size}&timeZone=UTC"
        )
        return path + (f"&currentToken={quote(token)}" if token else "")

    def contact_path(self, case_id: str, contact_id: str) -> str:
        return f"{self.contact}?caseId={quote(case_id)}&contactId={quote(contact_id)}"


def maps_dir() -> Path:
    """The bundled selector maps (``caselog_selectors``, a namespace package in an editable
    install, so found by its search path rather than ``importlib.resources``)."""
    spec = importlib.util.find_spec("caselog_selectors")
    for location in (spec.submodule_search_locations or []) if spec else []:
        if Path(location).is_dir():
            return Path(location)
    return Path(__file__).resolve().parents[2] / "selectors"


def cookie_header_from_state(state_file: Path, host: str) -> str:
    """The ``Cookie`` header for ``host`` from a browser storage-state file (the agent's
    saved session, ``state/<account>.json``)."""
    state = json.loads(state_file.read_text())
    jar = [
        f"{c['name']}={c['value']}"
        for c in state.get("cookies", [])
        if c.get("domain", "").lstrip(".") in (host, "")
    ]
    if not jar:
        raise FloorError(f"{state_file} holds no cookie for {host}: sign in first")
    return "; ".join(jar)


def row_key(row: dict[str, Any]) -> tuple[Any, ...]:
    """What the agent's list fingerprint covers, from one ``caseSearchResultList`` item."""
    return (
        row.get("statusLabel") or row.get("status"),
        row.get("shortDescription"),
        row.get("lastAmazonReplyDate"),
        row.get("lastUpdatedDate"),
        row.get("numberOfContacts"),
    )


_TOKEN = re.compile(r"currentToken=[^&]*")


def normalized(entry: dict[str, Any]) -> tuple[str, str, str]:
    """One request of the server's log as ``(method, path, body)`` to compare two clients:
    a ``currentToken`` value (opaque) becomes ``*``, a JSON body is re-serialised with sorted
    keys (the same request need not be the same bytes)."""
    body = entry.get("body") or ""
    if body:
        with contextlib.suppress(ValueError):
            body = json.dumps(json.loads(body), sort_keys=True)
    return entry["method"], _TOKEN.sub("currentToken=*", entry["path"]), body


@dataclass
class FloorRun:
    """One floor run: seconds (and per phase), requests by route, what it read, and where
    it ran (``pid``, the threads that did the requests)."""

    seconds: float = 0.0
    cpu_seconds: float = 0.0  # of this whole process while the floor ran
    landing_seconds: float = 0.0
    list_seconds: float = 0.0
    details_seconds: float = 0.0
    requests: Counter[str] = field(default_factory=Counter)
    listed: int = 0
    stated: int = 0
    read: list[str] = field(default_factory=list)
    rows: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    pid: int = 0
    threads: set[int] = field(default_factory=set)

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())


class _Client:
    """The pool's HTTP side: one keep-alive connection per thread, opened on first use."""

    def __init__(self, url: str, cookie: str, timeout: float) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.cookie = cookie
        self.timeout = timeout
        self.local = threading.local()
        self.lock = threading.Lock()
        self.opened: list[http.client.HTTPConnection] = []
        self.run = FloorRun(pid=os.getpid())

    def _conn(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self.local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.local.conn = conn
            with self.lock:
                self.opened.append(conn)
        return conn

    def close(self) -> None:
        for conn in self.opened:
            conn.close()

    def call(self, method: str, path: str, body: str | None = None, parse: bool = True) -> Any:
        headers = {"Cookie": self.cookie, "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):  # a keep-alive connection the server closed: once more
            conn = self._conn()
            try:
                conn.request(method, path, body, headers)
                resp = conn.getresponse()
                data = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionError):
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    raise
        with self.lock:
            self.run.requests[f"{method} {path.split('?', 1)[0]}"] += 1
            self.run.threads.add(threading.get_ident())
        if resp.status != 200:
            raise FloorError(f"{method} {path}: HTTP {resp.status} {data[:200]!r}")
        return orjson.loads(data) if parse else data


Choose = Callable[[dict[str, tuple[Any, ...]]], list[str]]


class Floor:
    """The floor for one account on ``url`` (see the module docstring)."""

    def __init__(
        self,
        url: str,
        cookie: str,
        spec: ApiSpec,
        concurrency: int = 4,
        timeout: float = 60.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.cookie = cookie
        self.spec = spec
        self.concurrency = concurrency
        self.timeout = timeout

    def full(self) -> FloorRun:
        """Landing page, every list page, every case whole."""
        return self._run(lambda rows: list(rows))

    def incremental(self, previous: dict[str, tuple[Any, ...]]) -> FloorRun:
        """Landing page, every list page, and only the cases whose row is new or differs
        from ``previous`` (case ID -> :func:`row_key`, e.g. an earlier run's ``rows``)."""
        return self._run(lambda rows: [c for c, k in rows.items() if previous.get(c) != k])

    def _run(self, choose: Choose) -> FloorRun:
        client = _Client(self.url, self.cookie, self.timeout)
        run = client.run
        started, cpu = time.perf_counter(), time.process_time()
        try:
            with ThreadPoolExecutor(self.concurrency, thread_name_prefix="floor") as pool:
                t = time.perf_counter()
                pool.submit(client.call, "GET", self.spec.landing, None, False).result()
                run.landing_seconds = time.perf_counter() - t
                t = time.perf_counter()
                run.rows, run.stated = self._list(pool, client)
                run.listed = len(run.rows)
                run.list_seconds = time.perf_counter() - t
                t = time.perf_counter()
                run.read = choose(run.rows)
                self._details(pool, client, run.read)
                run.details_seconds = time.perf_counter() - t
            run.seconds = time.perf_counter() - started
            run.cpu_seconds = time.process_time() - cpu
        finally:
            client.close()
        return run

    def _list(
        self, pool: ThreadPoolExecutor, client: _Client
    ) -> tuple[dict[str, tuple[Any, ...]], int]:
        def page(p: int) -> Any:
            return client.call("POST", self.spec.search, self.spec.search_body(p))

        first = pool.submit(page, 0).result()
        stated = int(first.get("totalNumberOfResults", -1))
        pages = max(1, -(-stated // self.spec.page_size))
        rows: dict[str, tuple[Any, ...]] = {}
        for answer in [first, *pool.map(page, range(1, pages))]:
            for item in answer.get("caseSearchResultList") or ():
                rows[str(item["caseId"])] = row_key(item)
        if len(rows) != stated:
            raise FloorError(f"the site states {stated} cases but {len(rows)} were listed")
        return rows, stated

    def _details(self, pool: ThreadPoolExecutor, client: _Client, case_ids: Iterable[str]) -> None:
        spec = self.spec
        pending: dict[Future[Any], tuple[str, str]] = {}

        def ask(what: str, cid: str, path: str) -> None:
            pending[pool.submit(client.call, "GET", path)] = (what, cid)

        for cid in case_ids:
            ask("view", cid, spec.view_path(cid))
        while pending:
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for fut in done:
                what, cid = pending.pop(fut)
                data = fut.result()
                if what == "contact":
                    if "message" not in data.get("contact", data):
                        raise FloorError(f"ViewContact {cid} gave no message")
                    continue
                if "viewCaseMetaData" not in data:
                    raise FloorError(f"ViewCase {cid} answered without case data")
                if data.get("currentToken"):
                    ask("view", cid, spec.view_path(cid, str(data["currentToken"])))
                for c in data.get("contactList") or ():
                    if c.get("messageTruncated"):
                        ask("contact", cid, spec.contact_path(cid, str(c["contactId"])))
