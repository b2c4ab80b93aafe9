"""The browser floor: what the same reads cost inside Chromium, with no agent code at all.

The raw-HTTP floor (:mod:`tests.perf.http_floor`) has no browser; the sync must read inside the
signed-in browser (Seller Central's cookies, TLS and bot checks stay the browser's). Between
the two sits Chromium's own cost for each request: its network service, its browser process
and the page's renderer. This floor measures that part alone, so that a sync's figures can be
split into what Chromium costs and what the agent adds.

It launches the Chromium the agent would launch (``agent.site.browser.launch_options``), opens
a context with the session the agent saved, loads the landing page (the sign-in check), and
then, from one shared worker of the page's origin (the agent's fast path), asks for exactly
what :class:`~tests.perf.http_floor.Floor` asks for: every ``SearchForCases`` page, then
``ViewCase`` for each case (following ``currentToken``) and ``ViewContact`` for each contact
cut short, ``concurrency`` at a time, each answer parsed with ``JSON.parse``. Nothing crosses
back to Python but counts and times. Launching Chromium and opening the context are not
timed (as the raw floor leaves out process start-up); the timed part starts at the landing
page. Runs in the benchmark's own process; the mock runs in its own.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, sync_playwright

from agent.site.browser import launch_options
from tests.perf.http_floor import ApiSpec, FloorError
from tests.perf.proc_tree import cpu_seconds, tree_pids

__all__ = ["BrowserFloor", "BrowserFloorRun"]

# Runs in a shared worker; everything it needs comes in its message.
_WORKER = r"""
onconnect = (e) => {
  const port = e.ports[0];
  port.onmessage = async ({ data: job }) => {
    const counts = {};
    const ask = async (method, path, body) => {
      const init = { method, mode: "same-origin", credentials: "same-origin", cache: "no-store",
                     headers: { Accept: "application/json" } };
      if (body) { init.body = body; init.headers["Content-Type"] = "application/json"; }
      const res = await fetch(job.origin + path, init);
      const text = await res.text();
      const key = method + " " + path.split("?")[0];
      counts[key] = (counts[key] || 0) + 1;
      if (res.status !== 200) throw new Error(`${method} ${path}: HTTP ${res.status}`);
      return JSON.parse(text);
    };
    // `limit` at a time over a queue that grows while it runs (tokens, cut-short contacts)
    const pool = async (queue, limit, each) => {
      let active = 0, failed = null;
      await new Promise((resolve) => {
        const pump = () => {
          if (failed) return;
          while (active < limit && queue.length) {
            const item = queue.shift();
            active++;
            each(item, queue).then(() => { active--; pump(); },
                                    (err) => { failed = err; resolve(); });
          }
          if (!active && !queue.length) resolve();
        };
        pump();
      });
      if (failed) throw failed;
    };
    try {
      const t0 = performance.now();
      const first = await ask("POST", job.search, job.bodies[0]);
      const stated = first.totalNumberOfResults;
      const pages = Math.max(1, Math.ceil(stated / job.pageSize));
      if (pages > job.bodies.length) {
        throw new Error(`${pages} list pages, but bodies for ${job.bodies.length}`);
      }
      const ids = new Set((first.caseSearchResultList || []).map((c) => String(c.caseId)));
      await pool([...Array(pages - 1).keys()].map((p) => p + 1), job.concurrency, async (p) => {
        const page = await ask("POST", job.search, job.bodies[p]);
        for (const c of page.caseSearchResultList || []) ids.add(String(c.caseId));
      });
      if (ids.size !== stated) throw new Error(`stated ${stated} cases, listed ${ids.size}`);
      const t1 = performance.now();
      const view = (id, token) => job.view.replace("{id}", encodeURIComponent(id))
        + (token ? "&currentToken=" + encodeURIComponent(token) : "");
      await pool([...ids].map((id) => ["view", id, view(id)]), job.concurrency,
        async ([what, id, path], queue) => {
          const data = await ask("GET", path);
          if (what === "contact") return;
          if (!data.viewCaseMetaData) throw new Error(`ViewCase ${id} answered without case data`);
          if (data.currentToken) queue.push(["view", id, view(id, data.currentToken)]);
          for (const c of data.contactList || []) {
            if (c.messageTruncated) {
              queue.push(["contact", id, job.contact.replace("{id}", encodeURIComponent(id))
                + encodeURIComponent(c.contactId)]);
            }
          }
        });
      port.postMessage({ ok: true, listMs: t1 - t0, detailsMs: performance.now() - t1,
                         listed: ids.size, counts });
    } catch (err) {
      port.postMessage({ ok: false, error: String(err), counts });
    }
    close();
  };
};
"""

_RUN = """
async (job) => {
  const url = URL.createObjectURL(new Blob([job.source], { type: "text/javascript" }));
  const worker = new SharedWorker(url);
  const answer = await new Promise((resolve) => {
    worker.port.onmessage = ({ data }) => resolve(data);
    worker.onerror = () => resolve({ ok: false, error: "the shared worker did not start" });
    worker.port.postMessage(job);
  });
  URL.revokeObjectURL(url);
  return answer;
}
"""


@dataclass
class BrowserFloorRun:
    seconds: float = 0.0  # landing page + list + details
    landing_seconds: float = 0.0
    list_seconds: float = 0.0
    details_seconds: float = 0.0
    launch_seconds: float = 0.0  # Playwright, Chromium, context, page: not in ``seconds``
    cpu_seconds: float = 0.0  # Chromium and Playwright's driver during ``seconds``
    listed: int = 0
    requests: dict[str, int] = field(default_factory=dict)

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())


class BrowserFloor:
    """The browser floor for one account on ``url`` (see the module docstring)."""

    def __init__(
        self, url: str, state_file: Path, spec: ApiSpec, concurrency: int, exclude: set[int]
    ) -> None:
        self.url = url.rstrip("/")
        self.state_file = state_file
        self.spec = spec
        self.concurrency = concurrency
        self.exclude = exclude  # processes of this tree that are not the browser (the mock)

    def _cpu(self) -> float:
        pids = tree_pids(os.getpid()) - self.exclude - {os.getpid()}
        return sum(cpu_seconds(p) or 0.0 for p in pids)

    def full(self, pages: int, browser: Browser | None = None) -> BrowserFloorRun:
        """Landing page, ``pages`` list pages (what the raw floor found), every case whole;
        in ``browser`` if one is lent (a test's), else in a Chromium of its own."""
        started = time.perf_counter()
        if browser is not None:
            return self._run(browser, pages, started)
        with sync_playwright() as pw:
            own = pw.chromium.launch(**launch_options(pw=pw))
            try:
                return self._run(own, pages, started)
            finally:
                own.close()

    def _run(self, browser: Browser, pages: int, started: float) -> BrowserFloorRun:
        run = BrowserFloorRun()
        spec = self.spec
        job = {
            "source": _WORKER,
            "origin": self.url,
            "search": spec.search,
            "bodies": [spec.search_body(p) for p in range(max(1, pages))],
            "pageSize": spec.page_size,
            "view": spec.view_path("{id}").replace("%7Bid%7D", "{id}"),
            "contact": spec.contact_path("{id}", "").replace("%7Bid%7D", "{id}"),
            "concurrency": self.concurrency,
        }
        context = browser.new_context(storage_state=str(self.state_file), service_workers="block")
        try:
            page = context.new_page()
            run.launch_seconds = time.perf_counter() - started
            cpu, t = self._cpu(), time.perf_counter()
            response = page.goto(self.url + spec.landing, wait_until="domcontentloaded")
            if response is None or response.status != 200 or "/ap/" in page.url:
                raise FloorError(f"the landing page did not load signed in ({page.url})")
            run.landing_seconds = time.perf_counter() - t
            answer: dict[str, Any] = page.evaluate(_RUN, job)
            run.seconds = time.perf_counter() - t
            run.cpu_seconds = self._cpu() - cpu
        finally:
            context.close()
        if not answer.get("ok"):
            raise FloorError(f"the browser floor failed: {answer.get('error')}")
        run.list_seconds = answer["listMs"] / 1000
        run.details_seconds = answer["detailsMs"] / 1000
        run.listed = int(answer["listed"])
        run.requests = {k: int(v) for k, v in answer["counts"].items()}
        return run
