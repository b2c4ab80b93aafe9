"""Sync benchmark: prints one JSON line of figures (not a test; nothing is asserted).

    python -m tests.perf.sync_bench --cases 1000 --messages 6 --changed 10

Measures, against the mock's ``large`` scenario (modern UI, JSON API):
- the first sync (signs in with e-mail, password and TOTP, then reads everything);
- full sync from the saved session (``--full``, like the floor): the median of ``--repeat``
  runs, and requests;
- incremental sync after the mock's clock runs a day (``changed`` cases get an answer):
  seconds, requests, list pages, details read;
- a naive baseline: one sequential script that opens every case's detail page through the
  DOM (waits for the thread, clicks every "See more"), as a seller would write first;
- the raw-HTTP floor: the same list and detail URLs over plain HTTP with the session cookie,
  no browser, with the agent's concurrency (the median of ``--repeat`` runs);
- peak RSS of this process (the agent) and of the whole process tree (Chromium included),
  and the seconds and RSS to load the resulting database.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import Cookie, CookieJar
from pathlib import Path
from typing import Any


def tree_rss_kb(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants, in KiB (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
        except OSError:
            continue
        p = int(entry)
        children.setdefault(int(fields.get("PPid", "0").strip()), []).append(p)
        rss[p] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += children.get(p, [])
    return total


class TreeSampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kb = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self.peak_kb = max(self.peak_kb, tree_rss_kb(os.getpid()))


def raw_http_floor(
    url: str, state_file: Path, list_bodies: list[bytes], detail_paths: list[str], concurrency: int
) -> float:
    state = json.loads(state_file.read_text())
    jar = CookieJar()
    for c in state["cookies"]:
        jar.set_cookie(
            Cookie(
                0,
                c["name"],
                c["value"],
                None,
                False,
                c["domain"],
                True,
                False,
                c["path"],
                True,
                c["secure"],
                None,
                False,
                None,
                None,
                {},
            )
        )
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    search = url + "/hill/hillservice/mons-api/SearchForCases"

    def post(body: bytes) -> None:
        req = urllib.request.Request(
            search, data=body, headers={"Content-Type": "application/json"}
        )
        with opener.open(req) as r:
            r.read()

    def get(path: str) -> None:
        with opener.open(url + path) as r:
            r.read()

    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(post, list_bodies))
        list(pool.map(get, detail_paths))
    return time.monotonic() - started


def naive_baseline(session: Any, account: Any, case_ids: list[str]) -> float:
    """Sequential: open each case page, wait for its thread, click every See more."""
    from agent.home import Home
    from agent.site.session import AccountContext

    ctx = AccountContext(session.browser, account, Home.from_env().state_path(account.name))
    page = ctx.page
    started = time.monotonic()
    for cid in case_ids:
        page.goto(f"{account.base_url}/cu/case-dashboard/view-case?caseID={cid}")
        page.locator("[data-testid=contact-card]").first.wait_for()
        for button in page.locator("[data-testid=see-more]").all():
            button.click()
        page.locator("[data-testid=contact-body]").all_inner_texts()
    seconds = time.monotonic() - started
    ctx.close()
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--messages", type=int, default=6)
    ap.add_argument("--changed", type=int, default=10)
    ap.add_argument(
        "--naive-sample",
        type=int,
        default=0,
        help="open only this many cases in the naive baseline and scale up (0 = all)",
    )
    ap.add_argument("--skip-naive", action="store_true")
    ap.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="full syncs and floor runs to take the median of (default 3)",
    )
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error("--repeat must be 1 or more")

    home = Path(tempfile.mkdtemp(prefix="caselog-bench-"))
    os.environ["CASELOG_HOME"] = str(home)
    from caselog_mock import AdminClient, MockServer

    from agent.app.sync import AccountSync
    from agent.config import Account, Marketplace, Settings
    from agent.home import Home
    from agent.site.session import BrowserSession
    from agent.store import Store

    bench_home = Home(home)

    sampler = TreeSampler()
    sampler.start()
    server = MockServer(
        scenario="large",
        port=0,
        params={"cases": args.cases, "messages": args.messages, "changed": args.changed},
    )
    server.start()
    admin = AdminClient(server.url, server.admin_token)
    os.environ["BENCH_PW"], os.environ["BENCH_TOTP"] = (
        server.login["password"],
        server.login["totp_secret"],
    )
    account = Account(
        name="bench",
        base_url=server.url,
        merchant_id="A1LARGESELLER",
        email=server.login["email"],
        password_env="BENCH_PW",
        totp_env="BENCH_TOTP",
        marketplaces=[Marketplace(id="ATVPDKIKX0DER", selector_map="modern-en-US")],
    )
    settings = Settings(accounts=[account])
    out: dict[str, Any] = {"cases": args.cases, "messages": args.messages, "changed": args.changed}
    with BrowserSession() as session:
        # The first run signs in (e-mail, password, TOTP) and stores everything; the full
        # syncs after it start, like the floor, from a saved session.
        first = AccountSync(
            session, account, settings, bench_home, full=True, clock=admin.now
        ).run()
        out["first_sync_seconds"] = round(first.snapshot.counters.seconds, 2)
        runs = []
        for _ in range(args.repeat):
            full = AccountSync(
                session, account, settings, bench_home, full=True, clock=admin.now
            ).run()
            runs.append(round(full.snapshot.counters.seconds, 2))
        out["full_sync_runs"] = runs
        out["full_sync_seconds"] = statistics.median(runs)
        out["full_sync_requests"] = full.snapshot.counters.requests
        out["full_sync_complete"] = first.snapshot.complete and full.snapshot.complete
        out["fetched_in"] = full.transport
        admin.advance(days=1)
        inc = AccountSync(session, account, settings, bench_home, clock=admin.now).run()
        c = inc.snapshot.counters
        out.update(
            incremental_seconds=round(c.seconds, 2),
            incremental_requests=c.requests,
            incremental_list_pages=c.pages,
            incremental_details_read=c.details_read,
            incremental_complete=inc.snapshot.complete,
        )
        with Store.open(bench_home.store_path("bench"), readonly=True) as store:
            ids = [x.case_id for x in store.cases()]
            truncated = {m.case_id for m in store.messages() if len(m.body) > 1000}
        if not args.skip_naive:
            sample = ids[: args.naive_sample] if args.naive_sample else ids
            seconds = naive_baseline(session, account, sample)
            out["naive_seconds"] = round(seconds * len(ids) / len(sample), 2)
            out["naive_cases_opened"] = len(sample)
            out["naive_requests"] = len(ids)
    page_size = 50
    bodies = [
        json.dumps(
            {
                "page": p,
                "searchPageSize": page_size,
                "sortBy": "CreationDate",
                "sortByOrder": "DESC",
                "getCountOnly": False,
                "caseFilters": {"caseOwner": "MerchantCases", "startDate": 0},
            }
        ).encode()
        for p in range(-(-len(ids) // page_size))
    ]
    paths = [
        f"/hill/hillservice/mons-api/ViewCase?caseId={i}&pageSize=100&timeZone=UTC" for i in ids
    ]
    paths += [
        f"/hill/hillservice/mons-api/ViewCase?caseId={i}&pageSize=100&timeZone=UTC"
        for i in truncated
    ]
    floors = [
        round(
            raw_http_floor(
                server.url, home / "state" / "bench.json", bodies, paths, account.concurrency
            ),
            2,
        )
        for _ in range(args.repeat)
    ]
    out["raw_http_floor_runs"] = floors
    out["raw_http_floor_seconds"] = statistics.median(floors)
    server.stop()
    started = time.monotonic()
    with Store.open(bench_home.store_path("bench"), readonly=True) as store:
        n_cases, n_msgs = len(store.cases()), len(store.messages())
    out["load_seconds"] = round(time.monotonic() - started, 2)
    out["loaded_cases"], out["loaded_messages"] = n_cases, n_msgs
    sampler.stop.set()
    out["peak_rss_agent_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["peak_rss_tree_mb"] = round(sampler.peak_kb / 1024, 1)
    out["db_mb"] = round(bench_home.store_path("bench").stat().st_size / 1e6, 1)
    if "naive_seconds" in out and out["incremental_seconds"]:
        out["incremental_speedup_vs_naive"] = round(
            out["naive_seconds"] / out["incremental_seconds"], 1
        )
    floor = max(out["raw_http_floor_seconds"], 1e-9)
    out["full_vs_raw_floor"] = round(out["full_sync_seconds"] / floor, 2)
    out["first_sync_vs_raw_floor"] = round(out["first_sync_seconds"] / floor, 2)
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
