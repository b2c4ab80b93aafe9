"""The fetch pool reads with the page's cookies from a shared worker of the page's origin,
falls back to the page itself where the site's policy forbids workers with the same answers,
and never follows a redirect to another host."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from agent.config import Account
from agent.core.models import IncompleteReason
from agent.errors import ReadError
from agent.site.fetcher import Fetcher, PagePool, Request
from agent.site.retry import RetryPolicy


class Site:
    """A tiny site: a page (optionally with a CSP that forbids workers), JSON answers that
    echo the cookie they were asked with, and a redirect to another origin."""

    def __init__(self, elsewhere: str = "") -> None:
        self.hits: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.hits.append(self.path)
                if self.path.startswith("/away"):
                    self.send_response(302)
                    self.send_header("Location", elsewhere + "/data/1")
                    self.end_headers()
                    return
                if self.path.startswith("/data/"):
                    body = json.dumps(
                        {"n": self.path.rsplit("/", 1)[1], "cookie": self.headers.get("Cookie")}
                    ).encode()
                    ctype = "application/json"
                else:
                    body = b"<!doctype html><title>page</title><p>page</p>"
                    ctype = "text/html"
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                if self.path.startswith("/strict"):
                    self.send_header("Content-Security-Policy", "worker-src 'none'")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sites() -> Iterator[tuple[Site, Site]]:
    other = Site()
    site = Site(elsewhere=other.url)
    yield site, other
    site.close()
    other.close()


def _fetcher(session: Any, url: str, start: str, state: Path) -> tuple[Any, Fetcher]:
    ctx = session.context(Account(name="shop", base_url=url), state)
    ctx.context.add_cookies([{"name": "session-id", "value": "s-42", "url": url}])
    ctx.page.goto(url + start)
    fetcher = Fetcher(
        PagePool(ctx.page, ctx.origin),
        account="shop",
        relogin=lambda: None,
        concurrency=4,
        retry=RetryPolicy(1, sleep=lambda s: None),
        timeout_s=10,
    )
    return ctx, fetcher


@pytest.mark.browser
@pytest.mark.parametrize(("start", "transport"), [("/", "worker"), ("/strict", "page")])
def test_answers_are_the_same_from_the_worker_and_from_the_page(
    agent_session: Any,
    sites: tuple[Site, Site],
    start: str,
    transport: str,
    tmp_path: Path,
) -> None:
    site, _ = sites
    with agent_session as session:
        ctx, fetcher = _fetcher(session, site.url, start, tmp_path / "state.json")
        try:
            got = fetcher.fetch(
                [Request(key=str(i), url=f"/data/{i}", kind="json") for i in range(40)]
            )
        finally:
            ctx.close()
    assert got == {str(i): {"n": str(i), "cookie": "session-id=s-42"} for i in range(40)}
    assert fetcher.counters.transport == transport
    assert fetcher.counters.requests == 40


@pytest.mark.browser
@pytest.mark.parametrize("start", ["/", "/strict"])
def test_a_redirect_to_another_host_is_refused_before_it_is_followed(
    agent_session: Any, sites: tuple[Site, Site], start: str, tmp_path: Path
) -> None:
    site, other = sites
    with agent_session as session:
        ctx, fetcher = _fetcher(session, site.url, start, tmp_path / "state.json")
        try:
            with pytest.raises(ReadError) as caught:
                fetcher.fetch([Request(key="a", url="/away", kind="json")])
        finally:
            ctx.close()
    assert caught.value.reason == IncompleteReason.HTTP_ERROR
    assert site.hits.count("/away") == 2  # the first try and one retry
    assert other.hits == []  # the other host never saw a request


@pytest.mark.browser
def test_each_batch_s_worker_ends_with_it(
    agent_session: Any, sites: tuple[Site, Site], tmp_path: Path
) -> None:
    site, _ = sites
    with agent_session as session:
        ctx, fetcher = _fetcher(session, site.url, "/", tmp_path / "state.json")
        cdp = session.browser.new_browser_cdp_session()
        try:
            for batch in range(5):
                fetcher.fetch([Request(key=str(batch), url=f"/data/{batch}", kind="json")])
            assert fetcher.counters.transport == "worker"
            workers = -1
            deadline = time.monotonic() + 10
            while workers and time.monotonic() < deadline:
                targets = cdp.send("Target.getTargets")["targetInfos"]
                workers = sum(t["type"] == "shared_worker" for t in targets)
                time.sleep(0.1)
        finally:
            cdp.detach()
            ctx.close()
    assert workers == 0  # five batches leave no worker running beside the page
