"""Fetch many pages with the signed-in page's cookies, politely, through one transport.

:class:`Fetcher` is what readers call: bounded concurrency, retries with backoff on 429
(honouring Retry-After), 5xx and timeouts (the one :class:`~agent.site.retry.RetryPolicy`),
and recovery when the session expires mid-run (sign in again once, or stop for a person).

Where the answers come from is the transport's business, as with httpx's transports:

- :class:`PagePool` (the default): ``js/fetch_pool.js`` fetches from a shared worker of the
  page's origin, or from the page itself where workers are forbidden, same-origin only;
- :class:`RenderedPage`: the page as it is rendered now (the DOM reader, after it navigated
  and expanded everything), nothing fetched;
- :class:`SavedPages`: saved HTML (the offline selector-map tests), nothing fetched.

HTML is turned into records inside the page by the selector map; JSON comes back as text
and is parsed here (orjson is faster than the page's wire encoding).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any, Protocol

import orjson
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from agent.errors import AuthRequired, IncompleteReason, ReadError
from agent.site.pages import PageKind, classify_url
from agent.site.retry import RetryPolicy
from agent.site.signin import login_hint

__all__ = [
    "Counters",
    "Fetcher",
    "PagePool",
    "RenderedPage",
    "Request",
    "SavedPages",
    "Transport",
]


@cache
def _pool_js() -> str:
    return (files("agent.site") / "js" / "fetch_pool.js").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Request:
    """One thing to read: ``kind`` is ``list`` or ``detail`` (HTML, extracted in the page
    with the selector map) or ``json`` (returned as it is)."""

    key: str
    url: str
    kind: str
    method: str = "GET"
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def to_js(self, origin: str) -> dict[str, Any]:
        return {
            "key": self.key,
            "url": self.url if self.url.startswith("http") else origin + self.url,
            "kind": self.kind,
            "method": self.method,
            "body": self.body,
            "headers": self.headers,
        }


@dataclass(frozen=True)
class Job:
    """What the page needs beside the requests: the map's part, and how to fetch."""

    spec: dict[str, Any]
    blank_texts: Sequence[str]
    concurrency: int
    timeout_ms: int


class Transport(Protocol):
    """Answers requests: ``(where they were fetched, one result per request)``."""

    def send(self, requests: Sequence[Request], job: Job) -> tuple[str, list[dict[str, Any]]]: ...


class _InPage:
    """Runs ``fetch_pool.js`` in ``page`` with one source of HTML."""

    source = ""

    def __init__(self, page: Page, origin: str) -> None:
        self.page = page
        self.origin = origin

    def extra(self, requests: Sequence[Request]) -> dict[str, Any]:
        return {}

    def send(self, requests: Sequence[Request], job: Job) -> tuple[str, list[dict[str, Any]]]:
        arg = {
            "source": self.source,
            "requests": [r.to_js(self.origin) for r in requests],
            "concurrency": job.concurrency,
            "timeoutMs": job.timeout_ms,
            "spec": job.spec,
            "blankTexts": list(job.blank_texts),
            **self.extra(requests),
        }
        try:
            answer: dict[str, Any] = orjson.loads(
                self.page.evaluate(_pool_js(), orjson.dumps(arg).decode())
            )
        except PlaywrightError as exc:
            raise ReadError(
                IncompleteReason.HTTP_ERROR, f"the page stopped while reading ({exc})"
            ) from None
        results: list[dict[str, Any]] = answer["results"]
        for res in results:
            if "text" in res:  # a JSON answer, parsed here
                text = res.pop("text")
                try:
                    res["data"] = orjson.loads(text)
                except orjson.JSONDecodeError as exc:
                    res.update(error="json", detail=str(exc), snippet=text[:300])
        return answer["transport"], results


class PagePool(_InPage):
    """The network, with the page's cookies: a shared worker of its origin, or the page."""

    source = "network"


class RenderedPage(_InPage):
    """The page as it is rendered now; each request names what to extract from it."""

    source = "rendered"


class SavedPages(_InPage):
    """Saved HTML by request key; nothing is fetched (``page`` only parses)."""

    source = "saved"

    def __init__(self, page: Page, origin: str, pages: Mapping[str, str]) -> None:
        super().__init__(page, origin)
        self.pages = dict(pages)

    def extra(self, requests: Sequence[Request]) -> dict[str, Any]:
        return {"pages": {r.key: self.pages[r.key] for r in requests}}


@dataclass
class Counters:
    requests: int = 0
    # Where the last requests were fetched: "worker" (a shared worker of the page's origin,
    # the fast path) or "page" (the page itself, where the site's policy forbids workers).
    transport: str = ""


Relogin = Callable[[], None]


class Fetcher:
    """Fetches through a transport, retrying what failed; see the module docstring."""

    def __init__(
        self,
        transport: Transport,
        *,
        account: str,
        relogin: Relogin,
        concurrency: int,
        retry: RetryPolicy,
        timeout_s: float,
    ) -> None:
        self.transport = transport
        self.account = account
        self.relogin = relogin
        self.concurrency = concurrency
        self.retry = retry
        self.timeout_s = timeout_s
        self.counters = Counters()
        self._relogged = False
        self.failed_page: tuple[str, str] | None = None  # (url, html) a selector missed on

    def fetch(
        self,
        requests: Sequence[Request],
        spec: dict[str, Any] | None = None,
        blank_texts: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Fetch every request; return ``{key: data}``; raise :class:`ReadError` on failure."""
        job = Job(spec or {}, blank_texts, self.concurrency, int(self.timeout_s * 1000))
        pending = list(requests)
        done: dict[str, Any] = {}
        tries = 0
        while pending:
            where, results = self.transport.send(pending, job)
            if where != "none":
                self.counters.transport = where
                self.counters.requests += len(pending)
            by_key = {r.key: r for r in pending}
            retry: list[Request] = []
            retry_afters: list[str | None] = []  # of the failures, for the backoff
            auth_lost = False
            for res in results:
                status = res.get("status", 0)
                landed = classify_url(res.get("url") or "")
                if status == 401 or (status == 200 and landed is not PageKind.CONTENT):
                    auth_lost = True
                    retry.append(by_key[res["key"]])
                elif status == 200 and "error" not in res:
                    done[res["key"]] = res["data"]
                    if res.get("html") and self.failed_page is None:
                        self.failed_page = (res.get("url") or "", res["html"])
                elif status == 200:
                    raise ReadError(
                        IncompleteReason.HTTP_ERROR,
                        f"{res.get('url')} answered something unreadable ({res.get('detail')})",
                    )
                elif self.retry.retryable(status):
                    retry.append(by_key[res["key"]])
                    retry_afters.append(res.get("retryAfter"))
                else:
                    raise ReadError(
                        IncompleteReason.HTTP_ERROR,
                        f"{res.get('url')} answered HTTP {status}",
                    )
            if auth_lost:
                self._recover_auth()
            if retry:
                tries += 1
                if not self.retry.again(tries, retry_afters):
                    raise self._exhausted(retry, results)
            pending = retry
        return done

    def _exhausted(self, retry: list[Request], results: list[dict[str, Any]]) -> ReadError:
        sample = next(r for r in results if r["key"] == retry[0].key)
        what = (
            f"HTTP {sample['status']}" if sample.get("status") else sample.get("error", "no answer")
        )
        reason = (
            IncompleteReason.TIMEOUT
            if sample.get("error") == "timeout"
            else IncompleteReason.HTTP_ERROR
        )
        return ReadError(
            reason,
            f"{len(retry)} request(s) still failing after {self.retry.max_retries} "
            f"retries ({what} from {sample.get('url') or retry[0].url})",
        )

    def _recover_auth(self) -> None:
        if self._relogged:
            raise AuthRequired(
                f"account {self.account}: the session keeps expiring; {login_hint(self.account)}"
            )
        self._relogged = True
        self.relogin()
