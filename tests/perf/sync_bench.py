"""Sync benchmark: the real ``caselog sync`` against a raw-HTTP floor. Prints figures and
asserts nothing.

    python -m tests.perf.sync_bench --cases 1000 --messages 6 --changed 10 --repeat 5
    python -m tests.perf.sync_bench --cases 200 --repeat 2 --warmup 0     # a quick look
    python -m tests.perf.sync_bench ... --json after.json --compare before.json

The mock (scenario ``large``) runs in its own process. Every agent figure is the command
``python -m agent sync --account bench [--full] --json`` in a prepared ``CASELOG_HOME``,
timed from process start to exit; the floor runs in this process (tests/perf/http_floor.py)
with the session the agent saved, at the same concurrency. Each timed run starts from the
same state: the mock reset to its start (plus one virtual day for the incremental runs), the
store and session copied back. Rounds are interleaved: each round runs every variant once,
starting one variant later than the round before, and the table shows min / median / max
over the rounds.

Variants: ``caselog --version`` (start-up), the same under ``python -X importtime``
(imports), the first sync (signs in with e-mail, password and TOTP, empty store), then per
``--concurrency``: full sync / full floor, incremental sync / incremental floor (after the
mock's clock runs a day, ``--changed`` cases have news), and the full browser floor
(tests/perf/browser_floor.py: the same reads inside the Chromium the agent launches, from a
shared worker, no agent code: what Chromium itself costs). Phases of a sync are read from
outside: the mock's request log (when each request arrived and how long it took), the store
file's modification time and the process's exit. Memory is sampled in runs of its own
(``--memory-runs``) so that sampling never slows a timed run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.perf.bench_home import ACCOUNT, MARKETPLACE, MERCHANT, SELECTOR_MAP, BenchHome
from tests.perf.browser_floor import BrowserFloor, BrowserFloorRun
from tests.perf.cli_runs import Commander, CommandRun
from tests.perf.figures import Report, add_output_options, run_bench
from tests.perf.http_floor import (
    ApiSpec,
    Floor,
    FloorRun,
    cookie_header_from_state,
    normalized,
)
from tests.perf.machine import chromium_version, describe, is_chromium
from tests.perf.mock_process import MockProcess
from tests.perf.proc_tree import cpu_seconds

REPO = Path(__file__).resolve().parents[2]

S_CMD = "Commands, end to end (process start to exit)"
S_FLOOR = "Raw-HTTP floor (this process; mock in its own; keep-alive; orjson)"
S_BROWSER = (
    "Browser floor: the same reads inside Chromium, from a shared worker, no agent code "
    "(landing page to last answer)"
)
S_MOCK_CPU = "CPU the mock's process spent serving each run (/proc)"
S_RATIO = "Sync / floor, paired within each round"
S_REQ = "Requests per run, counted by the mock"
S_MEM = "Memory of a full sync, c={c} (runs of their own, sampled every 50 ms)"
S_START = "Start of a full sync, c={c}, in the same sampled runs (to 50 ms)"
S_IMPORTS = "Imports (python -X importtime -m agent --version), by package, cumulative"

PHASES = (
    ("launch", "start-up, Chromium, context (to 1st request)"),
    ("signin", "sign-in check: lobby page load (to 1st list)"),
    ("list", "list pages (SearchForCases)"),
    ("details", "details (ViewCase, ViewContact)"),
    ("store", "snapshot, diff, store write (to the CURRENT switch)"),
    ("exit", "close browser, exit"),
)


@dataclass
class Outcome:
    """One run of one variant: its figures and, for the like-for-like check, the API
    requests the mock served."""

    values: dict[str, float] = field(default_factory=dict)
    api: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class Variant:
    key: str
    run: Callable[[], Outcome]
    outcomes: list[Outcome] = field(default_factory=list)


def api_requests(log: list[dict[str, Any]]) -> Counter[tuple[str, str, str]]:
    return Counter(normalized(e) for e in log if e["kind"] == "api")


def is_read(entry: dict[str, Any], spec: ApiSpec) -> bool:
    """One of the reads a sync makes (a list page, a case, a full contact), as opposed to
    the calls the lobby page's own script makes while it loads."""
    path = entry["path"].split("?")[0]
    if entry["method"] == "GET" and path in (spec.view, spec.contact):
        return True
    return is_agent_list(entry, spec)


def is_agent_list(entry: dict[str, Any], spec: ApiSpec) -> bool:
    """A SearchForCases of every case at the map's page size (the lobby's own script asks
    for its default view instead)."""
    if entry["method"] != "POST" or entry["path"].split("?")[0] != spec.search:
        return False
    try:
        body = json.loads(entry.get("body") or "{}")
    except ValueError:
        return False
    filters = body.get("caseFilters") or {}
    return (
        body.get("searchPageSize") == spec.page_size
        and filters.get("startDate") == 0
        and "searchText" not in filters
    )


def sync_phases(
    run: CommandRun, log: list[dict[str, Any]], spec: ApiSpec, store_mtime: float
) -> dict[str, float]:
    """Contiguous phases of one sync, from outside; they add up to the wall time."""
    if not log:
        return {}

    def end(e: dict[str, Any]) -> float:
        return float(e["t"]) + float(e["ms"]) / 1000

    first = min(float(e["t"]) for e in log)
    lists = [e for e in log if is_agent_list(e, spec)]
    details = [e for e in log if e["path"].split("?")[0] in (spec.view, spec.contact)]
    list_start = min((float(e["t"]) for e in lists), default=first)
    list_end = max((end(e) for e in lists), default=list_start)
    details_end = max((end(e) for e in details), default=list_end)
    stored = min(max(store_mtime, details_end), run.ended_at)
    return {
        "launch": first - run.started_at,
        "signin": list_start - first,
        "list": list_end - list_start,
        "details": details_end - list_end,
        "store": stored - details_end,
        "exit": run.ended_at - stored,
    }


def request_counts(traffic: dict[str, Any], spec: ApiSpec) -> dict[str, float]:
    log = traffic["log"]
    agent_api = sum(1 for e in log if e["kind"] == "api" and is_read(e, spec))
    kinds = Counter(e["kind"] for e in log)
    return {
        "req_total": float(traffic["total"]),
        "req_pages": float(kinds["page"]),
        "req_static": float(kinds["static"]),
        "req_signin": float(kinds["signin"]),
        "req_api_reads": float(agent_api),
        "req_api_page": float(kinds["api"] - agent_api),
    }


IMPORT_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( +)(\S+)")


def import_times(stderr: str) -> dict[str, float]:
    """Seconds by package from a ``-X importtime`` run: ``""`` is every import; a package's
    figure sums each place where code outside it first imported it (cumulative: with what
    it pulled in that was not loaded yet); ``agent`` is the agent's own modules' self time."""
    # The lines come children first, each indented two spaces deeper than its parent.
    stack: list[tuple[int, str, float, float, list[Any]]] = []
    for line in stderr.splitlines():
        m = IMPORT_LINE.match(line)
        if not m:
            continue
        depth = len(m.group(3)) // 2
        children: list[Any] = []
        while stack and stack[-1][0] > depth:
            children.insert(0, stack.pop())
        node = (depth, m.group(4), int(m.group(1)) / 1e6, int(m.group(2)) / 1e6, children)
        stack.append(node)
    out: dict[str, float] = {"": sum(n[3] for n in stack)}

    def walk(node: tuple[int, str, float, float, list[Any]], parent_root: str) -> None:
        _, name, own, cumulative, children = node
        root = name.split(".")[0]
        if root == "agent":
            out["agent"] = out.get("agent", 0.0) + own
        elif root != parent_root:
            out[root] = out.get(root, 0.0) + cumulative
        for child in children:
            walk(child, root)

    for top in stack:
        walk(top, "")
    return out


def _floor_values(
    run: FloorRun | BrowserFloorRun, traffic: dict[str, Any], mock_cpu: float | None
) -> dict[str, float]:
    """A floor run's figures, as a sync's are named."""
    values = {
        "wall": run.seconds,
        "cpu": run.cpu_seconds,
        "phase_signin": run.landing_seconds,
        "phase_list": run.list_seconds,
        "phase_details": run.details_seconds,
        "req_total": float(traffic["total"]),
        "req_client": float(run.total_requests),
    }
    if mock_cpu is not None:
        values["mock_cpu"] = mock_cpu
    return values


def _less(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else after - before


class SyncBench:
    def __init__(self, args: argparse.Namespace, root: Path) -> None:
        self.args = args
        self.concurrencies: list[int] = args.concurrency
        self.c0 = self.concurrencies[0]
        self.bh = BenchHome(root)
        self.spec = ApiSpec.from_map(SELECTOR_MAP, MERCHANT, MARKETPLACE)
        params = {"cases": args.cases, "messages": args.messages, "changed": args.changed}
        self.mock = MockProcess("large", params)
        self.report = Report(
            "sync",
            f"caselog sync benchmark: {args.cases} cases x {args.messages} messages, "
            f"{args.changed} changed after one virtual day; {args.repeat} interleaved rounds "
            f"after {args.warmup} warm-up",
            params={
                **params,
                "repeat": args.repeat,
                "warmup": args.warmup,
                "concurrency": ",".join(map(str, self.concurrencies)),
                "memory_runs": args.memory_runs,
            },
        )
        self.rows: dict[str, tuple[Any, ...]] = {}

    # -- set-up ----------------------------------------------------------------------------

    def setup(self) -> None:
        mock = self.mock.start()
        self.configs = self.bh.configure(mock.url, mock.login["email"], self.concurrencies)
        self.cmd = Commander(self.bh.env(mock.login), REPO, self.bh.scratch)
        version = self.cmd.run(["--version"]).check().stdout.strip()
        # The first sync signs in and fills the store: the state every later run starts from.
        mock.reset()
        first = self._sync_run(["--config", str(self.configs[self.c0])], sample=True)
        self.bh.save("base")
        executables = first.memory.executables if first.memory else set()
        self.report.machine = describe(REPO, version, chromium_version(executables))
        host = urlsplit(mock.url).hostname or "127.0.0.1"
        self.cookie = cookie_header_from_state(self.bh.state, host)
        # What the incremental floor compares its listing with: the listing at the start.
        mock.reset()
        self.rows = self.floor(self.c0).full().rows

    def floor(self, c: int) -> Floor:
        return Floor(self.mock.url, self.cookie, self.spec, concurrency=c)

    def _sync_run(self, extra: list[str], full: bool = False, sample: bool = False) -> CommandRun:
        args = ["sync", "--account", ACCOUNT, "--json", *extra] + (["--full"] if full else [])
        return self.cmd.run(args, sample_memory=sample).check()

    # -- the variants ----------------------------------------------------------------------

    def variants(self) -> list[Variant]:
        out = [
            Variant("startup", self.run_startup),
            Variant("imports", self.run_imports),
            Variant("first", partial(self.run_sync, "first", self.c0)),
        ]
        for c in self.concurrencies:
            out += [
                Variant(f"full_sync_c{c}", partial(self.run_sync, "full", c)),
                Variant(f"full_floor_c{c}", partial(self.run_floor, "full", c)),
                Variant(f"full_browser_c{c}", partial(self.run_browser_floor, c)),
                Variant(f"inc_sync_c{c}", partial(self.run_sync, "incremental", c)),
                Variant(f"inc_floor_c{c}", partial(self.run_floor, "incremental", c)),
            ]
        return out

    def run_startup(self) -> Outcome:
        run = self.cmd.run(["--version"]).check()
        return Outcome({"wall": run.wall_s, "cpu": run.cpu_s})

    def run_imports(self) -> Outcome:
        run = self.cmd.run(["--version"], python_flags=("-X", "importtime")).check()
        times = import_times(run.stderr)
        return Outcome({"wall": times[""]}, info={"imports": times})

    def _prepare(self, kind: str) -> None:
        self.mock.reset()
        self.bh.restore(None if kind == "first" else "base")
        if kind == "incremental":
            self.mock.admin.advance(days=1)
        self.mock.clear_traffic()

    def run_sync(self, kind: str, c: int) -> Outcome:
        self._prepare(kind)
        mock_cpu = cpu_seconds(self.mock.pid)
        run = self._sync_run(["--config", str(self.configs[c])], full=kind == "full")
        mock_cpu = _less(cpu_seconds(self.mock.pid), mock_cpu)
        summary = json.loads(run.stdout)
        if not summary.get("complete"):
            raise SystemExit(f"the {kind} sync was incomplete: {summary}")
        traffic = self.mock.traffic()
        values = {
            "wall": run.wall_s,
            "cpu": run.cpu_s,
            "own": float(summary["seconds"]),
            "outside_minus_own": run.wall_s - float(summary["seconds"]),
            "req_agent": float(summary["requests"]),
            "details_read": float(summary["details_read"]),
            **request_counts(traffic, self.spec),
        }
        if mock_cpu is not None:
            values["mock_cpu"] = mock_cpu
        phases = sync_phases(run, traffic["log"], self.spec, self.bh.store_written_at())
        values.update({f"phase_{k}": v for k, v in phases.items()})
        info = {
            "fetched_in": summary.get("fetched_in"),
            "server_pid": traffic["pid"],
            "page_calls": api_requests([e for e in traffic["log"] if not is_read(e, self.spec)]),
        }
        reads = api_requests([e for e in traffic["log"] if is_read(e, self.spec)])
        return Outcome(values, reads, info)

    def run_floor(self, kind: str, c: int) -> Outcome:
        self._prepare(kind)
        floor = self.floor(c)
        mock_cpu = cpu_seconds(self.mock.pid)
        run: FloorRun = floor.full() if kind == "full" else floor.incremental(self.rows)
        mock_cpu = _less(cpu_seconds(self.mock.pid), mock_cpu)
        traffic = self.mock.traffic()
        values = _floor_values(run, traffic, mock_cpu) | {"details_read": float(len(run.read))}
        info = {"pid": run.pid, "threads": len(run.threads), "server_pid": traffic["pid"]}
        return Outcome(values, api_requests(traffic["log"]), info)

    def run_browser_floor(self, c: int) -> Outcome:
        self._prepare("full")
        floor = BrowserFloor(self.mock.url, self.bh.state, self.spec, c, {self.mock.pid})
        mock_cpu = cpu_seconds(self.mock.pid)
        run = floor.full(pages=-(-len(self.rows) // self.spec.page_size))
        mock_cpu = _less(cpu_seconds(self.mock.pid), mock_cpu)
        if run.listed != len(self.rows):
            raise SystemExit(f"the browser floor listed {run.listed} cases, not {len(self.rows)}")
        traffic = self.mock.traffic()
        values = _floor_values(run, traffic, mock_cpu) | {"launch": run.launch_seconds}
        reads = api_requests([e for e in traffic["log"] if is_read(e, self.spec)])
        return Outcome(values, reads, {"server_pid": traffic["pid"]})

    def run_memory(self) -> list[tuple[CommandRun, float | None]]:
        """Sampled full syncs, each with when the mock saw its first request."""
        runs = []
        for _ in range(self.args.memory_runs):
            self._prepare("full")
            run = self._sync_run(["--config", str(self.configs[self.c0])], full=True, sample=True)
            log = self.mock.traffic()["log"]
            runs.append((run, min((float(e["t"]) for e in log), default=None)))
        return runs

    # -- running ---------------------------------------------------------------------------

    def stop(self) -> None:
        self.mock.stop()

    def run(self) -> Report:
        self.setup()
        variants = self.variants()
        rounds = self.args.warmup + self.args.repeat
        for r in range(rounds):
            shift = r % len(variants)
            for v in variants[shift:] + variants[:shift]:
                outcome = v.run()
                if r >= self.args.warmup:
                    v.outcomes.append(outcome)
            print(f"round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
        memory = self.run_memory() if self.args.memory_runs else []
        self.mock.stop()
        self.record({v.key: v for v in variants}, memory)
        self.report.machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        return self.report

    # -- figures ---------------------------------------------------------------------------

    def record(self, by: dict[str, Variant], memory: list[tuple[CommandRun, float | None]]) -> None:
        rep, c0 = self.report, self.c0

        def add(section: str, key: str, label: str, variant: str, value: str, unit: str = "s"):
            fig = rep.figure(section, key, label, unit)
            for o in by[variant].outcomes:
                fig.add(o.values.get(value))

        add(S_CMD, "startup", "start-up: caselog --version", "startup", "wall")
        add(S_CMD, "first_sync", "first sync: sign-in + empty store", "first", "wall")
        add(S_CMD, "first_sync.own", "  its own timer (sync --json seconds)", "first", "own")
        for c in self.concurrencies:
            for kind, name in (("full", "full sync --full"), ("inc", "incremental sync")):
                v = f"{kind}_sync_c{c}"
                add(S_CMD, f"{v}", f"{name}, c={c}", v, "wall")
                add(S_CMD, f"{v}.own", "  its own timer (sync --json seconds)", v, "own")
                add(S_CMD, f"{v}.cpu", "  CPU: command + reaped children", v, "cpu")
        for c in self.concurrencies:
            for kind, name in (("full", "full floor"), ("inc", "incremental floor")):
                v = f"{kind}_floor_c{c}"
                add(S_FLOOR, v, f"{name}, c={c}", v, "wall")
                add(S_FLOOR, f"{v}.cpu", "  CPU: this process while it ran", v, "cpu")
        for c in self.concurrencies:
            v = f"full_browser_c{c}"
            add(S_BROWSER, v, f"full browser floor, c={c}", v, "wall")
            add(S_BROWSER, f"{v}.cpu", "  CPU: Chromium and the driver while it ran", v, "cpu")
            add(S_BROWSER, f"{v}.launch", "  before it (not counted): launch, context", v, "launch")
        for c in self.concurrencies:
            for kind, name in (("full", "full"), ("inc", "incremental")):
                for who in ("sync", "floor"):
                    v = f"{kind}_{who}_c{c}"
                    add(S_MOCK_CPU, f"{v}.mock_cpu", f"{name} {who}, c={c}", v, "mock_cpu")
        for c in self.concurrencies:
            for kind in ("full", "inc"):
                sync, floor = by[f"{kind}_sync_c{c}"], by[f"{kind}_floor_c{c}"]
                for value, what in (("wall", "command"), ("own", "own timer")):
                    fig = rep.figure(
                        S_RATIO, f"ratio.{kind}_c{c}.{value}", f"{kind} c={c}: {what} / floor", "x"
                    )
                    for s, f in zip(sync.outcomes, floor.outcomes, strict=True):
                        if f.values["wall"] > 0:
                            fig.add(s.values[value] / f.values["wall"])
            sync, floor = by[f"full_sync_c{c}"], by[f"full_floor_c{c}"]
            browser = by[f"full_browser_c{c}"]
            for key, label, num, value, den in (
                ("browser_floor", "browser floor / floor", browser, "wall", floor),
                ("own_browser", "own timer / browser floor", sync, "own", browser),
            ):
                fig = rep.figure(S_RATIO, f"ratio.full_c{c}.{key}", f"full c={c}: {label}", "x")
                for n, d in zip(num.outcomes, den.outcomes, strict=True):
                    if d.values["wall"] > 0:
                        fig.add(n.values[value] / d.values["wall"])
        for variant, title in (
            ("first", "Phases of the first sync, seen from outside"),
            (f"full_sync_c{c0}", f"Phases of a full sync, c={c0}, seen from outside"),
            (f"inc_sync_c{c0}", f"Phases of an incremental sync, c={c0}, seen from outside"),
        ):
            for key, label in PHASES:
                add(title, f"{variant}.phase.{key}", label, variant, f"phase_{key}")
            twin = variant.replace("sync", "floor")  # the floor of the same kind
            if twin != variant:
                for key in ("signin", "list", "details"):
                    add(title, f"{twin}.phase.{key}", f"  floor: {key}", twin, f"phase_{key}")
            if variant.startswith("full_"):
                twin = variant.replace("sync", "browser")
                for key in ("signin", "list", "details"):
                    label = f"  browser floor: {key}"
                    add(title, f"{twin}.phase.{key}", label, twin, f"phase_{key}")
        for variant, label in (
            ("first", "first sync"),
            (f"full_sync_c{c0}", f"full sync c={c0}"),
            (f"inc_sync_c{c0}", f"incremental sync c={c0}"),
        ):
            add(S_REQ, f"{variant}.req_total", f"{label}: all", variant, "req_total", "requests")
            for value, what in (
                ("req_pages", "HTML pages"),
                ("req_static", "static files"),
                ("req_signin", "sign-in forms"),
                ("req_api_reads", "API: the reads"),
                ("req_api_page", "API: the page's own calls"),
                ("req_agent", "the agent's own count (--json)"),
            ):
                add(S_REQ, f"{variant}.{value}", f"  {what}", variant, value, "requests")
        for variant, label in ((f"full_floor_c{c0}", "full"), (f"inc_floor_c{c0}", "incremental")):
            add(
                S_REQ,
                f"{variant}.req_total",
                f"{label} floor c={c0}: all",
                variant,
                "req_total",
                "requests",
            )
        self._record_memory(memory)
        self._record_imports(by["imports"])
        self._checks(by)

    def _record_memory(self, sampled: list[tuple[CommandRun, float | None]]) -> None:
        runs = [run for run, _ in sampled]
        section = S_MEM.format(c=self.c0)
        rows = (
            ("mem.tree_pss", "whole tree, PSS (shared pages split)", "tree_pss_kb"),
            ("mem.tree_rss", "whole tree, RSS summed (counts shared twice)", "tree_rss_kb"),
            ("mem.agent", "agent process alone (VmHWM)", "main_hwm_kb"),
            ("mem.largest", "largest single process (RSS)", "largest_kb"),
        )
        for key, label, attr in rows:
            fig = self.report.figure(section, key, label, "MB")
            for run in runs:
                if run.memory is not None and run.memory.samples:
                    fig.add(getattr(run.memory, attr) / 1024)
            if not fig.runs:
                fig.na = "no /proc on this system" if runs else "--memory-runs 0"
        procs = self.report.figure(section, "mem.processes", "processes in the tree", "processes")
        for run in runs:
            if run.memory is not None and run.memory.samples:
                procs.add(run.memory.processes)
        if not procs.runs:
            procs.na = "no /proc on this system" if runs else "--memory-runs 0"
        self._record_start(sampled)

    def _record_start(self, sampled: list[tuple[CommandRun, float | None]]) -> None:
        """When the browser driver and Chromium appeared in the tree, from the sampled runs."""
        rows = (
            ("start.driver", "to the browser driver's start: Python, imports, Playwright"),
            ("start.chromium", "driver to Chromium's start"),
            ("start.request", "Chromium to the first request: launch, context, page"),
        )
        figs = [self.report.figure(S_START.format(c=self.c0), k, label) for k, label in rows]
        for run, first_request in sampled:
            seen = run.memory.first_seen if run.memory else {}
            driver = min((t for exe, t in seen.items() if Path(exe).name == "node"), default=None)
            chromium = min((t for exe, t in seen.items() if is_chromium(exe)), default=None)
            if driver is None or chromium is None or first_request is None:
                continue
            figs[0].add(driver - run.started_at)
            figs[1].add(chromium - driver)
            figs[2].add(first_request - chromium)
        for fig in figs:
            if not fig.runs:
                fig.na = "no sampled run saw the driver and Chromium start"

    def _record_imports(self, variant: Variant) -> None:
        runs = [o.info["imports"] for o in variant.outcomes]
        fig = self.report.figure(S_IMPORTS, "imports.all", "all imports", "s")
        for r in runs:
            fig.add(r[""])
        names = {n for r in runs for n in r if n}
        top = sorted(names, key=lambda n: -statistics.median(r.get(n, 0.0) for r in runs))[:10]
        for name in top:
            label = "  agent's own modules (self time)" if name == "agent" else f"  {name}"
            fig = self.report.figure(S_IMPORTS, f"imports.{name}", label, "s")
            for r in runs:
                fig.add(r.get(name, 0.0))

    def _checks(self, by: dict[str, Variant]) -> None:
        checks, c0 = self.report.checks, self.c0
        floor = by[f"full_floor_c{c0}"].outcomes[-1].info
        pids = {
            o.info["server_pid"] for v in by.values() for o in v.outcomes if "server_pid" in o.info
        }
        checks.append(
            f"mock: its own process, pid {self.mock.pid} (the server's log says {sorted(pids)}); "
            f"this harness and the floor: pid {os.getpid()} (floor ran on {floor['threads']} "
            "threads, one keep-alive connection each)"
        )
        syncs = [o for k, v in by.items() if "sync" in k or k == "first" for o in v.outcomes]
        where = sorted({str(o.info.get("fetched_in")) for o in syncs})
        checks.append(f"{len(syncs)} timed syncs, every one complete, exit 0; fetched_in: {where}")
        for kind in ("full", "inc"):
            for c in self.concurrencies:
                sync = by[f"{kind}_sync_c{c}"].outcomes[-1]
                fl = by[f"{kind}_floor_c{c}"].outcomes[-1]
                checks.append(f"{kind} c={c}: " + same_requests(sync.api, fl.api))
        for c in self.concurrencies:
            browser = by[f"full_browser_c{c}"].outcomes[-1]
            fl = by[f"full_floor_c{c}"].outcomes[-1]
            checks.append(f"browser floor c={c}: " + same_requests(browser.api, fl.api))
        page_calls = by[f"full_sync_c{c0}"].outcomes[-1].info["page_calls"]
        if page_calls:
            checks.append(
                f"besides its reads, each sync's lobby page load made {sum(page_calls.values())} "
                f"API call(s) of its own: {show_requests(page_calls)}"
            )
        changed = self.args.changed
        inc = by[f"inc_sync_c{c0}"].outcomes[-1].values
        inc_floor = by[f"inc_floor_c{c0}"].outcomes[-1].values
        checks.append(
            f"incremental: {changed} cases changed on the mock; the sync read "
            f"{inc['details_read']:.0f}, the floor {inc_floor['details_read']:.0f}"
        )
        self.report.notes += [
            "The floor's figures exclude process start-up; compare a sync's own timer with "
            "the floor, or its command time with floor + start-up.",
            "Ratios are taken within each round (sync and floor ran minutes apart at most), "
            "then summarised.",
            "Phases come from the mock's request log (arrival and service time of each "
            "request), the store's CURRENT switch and the process exit; they add up to the "
            "command.",
            "cpu is user+system of the command and the children it reaped (Playwright's driver, "
            "which reaps Chromium): on a shared machine it moves less than wall time.",
        ]


def show_requests(c: Counter[tuple[str, str, str]], most: int = 3) -> str:
    shown = list(c.items())[:most]
    items = [f"{n}x {m} {p[:70]} {body[:120]}".strip() for (m, p, body), n in shown]
    return "; ".join(items) + (" ..." if len(c) > most else "")


def same_requests(a: Counter[Any], b: Counter[Any]) -> str:
    """'the same N API requests' or what differs (sync side first)."""
    if a == b:
        return f"the sync's reads and the floor's are the same {sum(a.values())} API requests"
    only_a, only_b = a - b, b - a
    parts = []
    if only_a:
        parts.append(f"only the sync: {sum(only_a.values())} ({show_requests(only_a)})")
    if only_b:
        parts.append(f"only the floor: {sum(only_b.values())} ({show_requests(only_b)})")
    return f"API requests differ ({sum(a.values())} vs {sum(b.values())}): " + "; ".join(parts)


def concurrency_list(text: str) -> list[int]:
    values = [int(x) for x in text.split(",") if x.strip()]
    if not values or any(not 1 <= v <= 16 for v in values):
        raise argparse.ArgumentTypeError("give concurrencies 1-16, comma-separated, e.g. 4,8")
    return values


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m tests.perf.sync_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--messages", type=int, default=6)
    ap.add_argument("--changed", type=int, default=10, help="cases with news after one day")
    ap.add_argument("--repeat", type=int, default=5, help="timed rounds (default 5)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    ap.add_argument(
        "--concurrency",
        type=concurrency_list,
        default=[4, 8],
        help="the account's concurrency, each compared with a floor at the same (default 4,8)",
    )
    ap.add_argument("--memory-runs", type=int, default=1, help="sampled full syncs (default 1)")
    add_output_options(ap)
    ap.add_argument("--keep", type=Path, default=None, help="keep the home in this folder")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be 1 or more")
    if args.cases < 1 or args.warmup < 0 or args.memory_runs < 0:
        ap.error("--cases must be 1 or more; --warmup and --memory-runs 0 or more")
    return run_bench(args, args.keep, lambda root: SyncBench(args, root))


if __name__ == "__main__":
    raise SystemExit(main())
