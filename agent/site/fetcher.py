"""Fetch many pages with the signed-in page's cookies (from a worker of its origin, or the
page itself where workers are forbidden; see js/fetch_pool.js), politely: bounded concurrency,
retries with backoff on 429 (honouring Retry-After), 5xx and timeouts, and recovery when
the session expires mid-run (sign in again once, or stop for a person)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

import orjson
from playwright.sync_api import Error as PlaywrightError

from agent.core.models import IncompleteReason
from agent.errors import AuthRequired, ReadError
from agent.site.retry import backoff
from agent.site.session import AccountContext, PageKind, classify_url


@cache
def _pool_js() -> str:
    return (files("agent.site") / "js" / "fetch_pool.js").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Request:
    key: str
    url: str
    kind: str  # "list" | "detail" (HTML, extracted in the page) | "json"
    method: str = "GET"
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    html: str | None = None  # a saved page to extract from instead of fetching (offline tests)
    live: bool = False  # extract from the page as it is rendered now (the DOM reader)

    def to_js(self, origin: str) -> dict[str, Any]:
        return {
            "key": self.key,
            "url": self.url if self.url.startswith("http") else origin + self.url,
            "kind": self.kind,
            "method": self.method,
            "body": self.body,
            "headers": self.headers,
            "html": self.html,
            "live": self.live,
        }


@dataclass
class Counters:
    requests: int = 0
    # Where the last requests were fetched: "worker" (a shared worker of the page's origin,
    # the fast path) or "page" (the page itself, where the site's policy forbids workers).
    transport: str = ""


Relogin = Callable[[], None]


class Fetcher:
    """Runs :file:`fetch_pool.js` in the account's page, retrying what failed."""

    def __init__(
        self,
        ctx: AccountContext,
        *,
        concurrency: int,
        max_retries: int,
        timeout_s: float,
        relogin: Relogin,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.ctx = ctx
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.timeout_s = timeout_s
        self.relogin = relogin
        self.sleep = sleep
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
        pending = list(requests)
        done: dict[str, Any] = {}
        attempt = 0
        while pending:
            results = self._run(pending, spec, blank_texts)
            self.counters.requests += len(pending)
            by_key = {r.key: r for r in pending}
            retry: list[Request] = []
            wait = 0.0
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
                elif status in (429, 0) or status >= 500:
                    retry.append(by_key[res["key"]])
                    wait = max(wait, self._delay(attempt, res.get("retryAfter")))
                else:
                    raise ReadError(
                        IncompleteReason.HTTP_ERROR,
                        f"{res.get('url')} answered HTTP {status}",
                    )
            if auth_lost:
                self._recover_auth()
            if retry:
                attempt += 1
                if attempt > self.max_retries:
                    sample = next(r for r in results if r["key"] == retry[0].key)
                    what = (
                        f"HTTP {sample['status']}"
                        if sample.get("status")
                        else sample.get("error", "no answer")
                    )
                    reason = (
                        IncompleteReason.TIMEOUT
                        if sample.get("error") == "timeout"
                        else IncompleteReason.HTTP_ERROR
                    )
                    raise ReadError(
                        reason,
                        f"{len(retry)} request(s) still failing after {self.max_retries} "
                        f"retries ({what} from {sample.get('url') or retry[0].url})",
                    )
                if wait:
                    self.sleep(wait)
            pending = retry
        return done

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        return backoff(attempt, retry_after)

    def _recover_auth(self) -> None:
        if self._relogged:
            raise AuthRequired(
                f"account {self.ctx.account.name}: the session keeps expiring; run "
                f"`caselog login --account {self.ctx.account.name} --headed`"
            )
        self._relogged = True
        self.relogin()

    def _run(
        self, requests: Sequence[Request], spec: dict[str, Any] | None, blank: Sequence[str]
    ) -> list[dict[str, Any]]:
        arg = {
            "requests": [r.to_js(self.ctx.origin) for r in requests],
            "concurrency": self.concurrency,
            "timeoutMs": int(self.timeout_s * 1000),
            "spec": spec or {},
            "blankTexts": list(blank),
        }
        try:
            answer: dict[str, Any] = orjson.loads(
                self.ctx.page.evaluate(_pool_js(), orjson.dumps(arg).decode())
            )
        except PlaywrightError as exc:
            raise ReadError(
                IncompleteReason.HTTP_ERROR, f"the page stopped while reading ({exc})"
            ) from None
        if answer["transport"] != "none":
            self.counters.transport = answer["transport"]
        results: list[dict[str, Any]] = answer["results"]
        for res in results:
            if "text" in res:  # a JSON answer, parsed here (orjson is faster than the page)
                text = res.pop("text")
                try:
                    res["data"] = orjson.loads(text)
                except orjson.JSONDecodeError as exc:
                    res.update(error="json", detail=str(exc), snippet=text[:300])
        return results
