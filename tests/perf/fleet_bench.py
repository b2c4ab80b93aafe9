"""Many accounts, one round: ``python -m tests.perf.fleet_bench``. Prints figures and asserts
nothing.

    python -m tests.perf.fleet_bench --accounts 50 --cases 300 --runs 3
    python -m tests.perf.fleet_bench --accounts 50 --cases 300 --runs 1     # a quick look
    python -m tests.perf.fleet_bench --accounts 8 --cases 30 --runs 1       # a smoke test

An agency's ``--accounts`` sellers (the mock's ``large`` scenario with that many merchants on
one login, ``--cases`` × ``--messages`` each) in one home, read three ways:

- **(a) sequential**: ``caselog sync --all --at-once 1``, one account after another (what
  ``sync --all`` did before accounts were read at once);
- **(b) at once**: ``caselog sync --all --at-once N``: one process, one Chromium, a context per
  account, N accounts at a time (``--at-once``, default ``[fleet] accounts_at_once``);
- **(c) Celery**: ``--workers`` × ``caselog worker`` and one ``caselog scheduler`` on a
  ``redis-server`` of the benchmark's own, from their start to the end of the last account's
  round (their first round is sent as the scheduler starts).

The round is the steady state of a watch: every account's store filled and its session
saved (by an untimed ``sync --all`` first), then the mock's clock a day further, so that
``--changed`` cases of each account have news; every timed run starts from that same state
(the stores and sessions copied back, the mock reset and advanced). Wall time from process
start to the end; peak memory of the whole process tree (PSS: shared pages split; and RSS
summed), sampled every 100 ms from ``/proc`` in the timed runs themselves; requests counted by
the mock, which runs in a process of its own (as does Redis: neither is in a measured tree).
Variants run interleaved, one later each run; min / median / max over ``--runs``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from agent.config import FleetSettings
from tests.perf.bench_home import BenchHome
from tests.perf.cli_runs import Commander
from tests.perf.figures import Report, add_output_options, run_bench
from tests.perf.fleet_parts import FleetLedger, account_name, agency_env, agency_toml
from tests.perf.machine import chromium_version, describe
from tests.perf.mock_process import MockProcess
from tests.perf.proc_tree import TreeMemory, TreeSampler, available, cpu_seconds
from tests.perf.redis_process import RedisProcess

REPO = Path(__file__).resolve().parents[2]
SAMPLE_S = 0.1

S_WALL = "One round of every account, process start to the end"
S_MEM = "Peak memory of the process tree (mock and Redis not in it)"
S_REQ = "Requests the mock served"
S_RATIO = "(b) against (a), paired within each run"
NOT_MEASURED = {
    "cpu": "no /proc on this system",
    "cores": "no /proc on this system",
    "pss_mb": "no /proc on this system",
    "rss_mb": "no /proc on this system",
    "processes": "no /proc on this system",
}


@dataclass
class Outcome:
    values: dict[str, float] = field(default_factory=dict)


@dataclass
class Variant:
    key: str
    label: str
    run: Callable[[], Outcome]
    outcomes: list[Outcome] = field(default_factory=list)


def memory_values(memory: TreeMemory | None) -> dict[str, float]:
    if memory is None or not memory.samples:
        return {}
    return {
        "pss_mb": memory.tree_pss_kb / 1024,
        "rss_mb": memory.tree_rss_kb / 1024,
        "processes": float(memory.processes),
    }


class FleetBench:
    def __init__(self, args: argparse.Namespace, root: Path) -> None:
        self.args = args
        self.bh = BenchHome(root)
        self.home = self.bh.home
        params = {
            "cases": args.cases,
            "messages": args.messages,
            "changed": args.changed,
            "merchants": args.accounts,
        }
        self.mock = MockProcess("large", params)
        self.redis = RedisProcess()
        self.report = Report(
            "fleet",
            f"caselog fleet benchmark: {args.accounts} accounts x {args.cases} cases x "
            f"{args.messages} messages, one round ({args.changed} changed cases per account "
            f"after a virtual day); {args.runs} interleaved run(s)",
            params={**params, "runs": args.runs, "at_once": args.at_once, "workers": args.workers},
        )

    # -- set-up ----------------------------------------------------------------------------

    def setup(self) -> None:
        mock = self.mock.start()
        self.redis.start()
        login = mock.login
        (self.home / "caselog.toml").write_text(
            agency_toml(
                mock.url,
                login["email"],
                self.args.accounts,
                # one round: the next one an hour away
                watch={"interval_minutes": 60, "jitter_seconds": 0},
                fleet={"redis_url": self.redis.url(), "accounts_at_once": self.args.at_once},
            )
        )
        self.env = agency_env(self.home, login, COLUMNS="120")
        self.cmd = Commander(self.env, REPO, self.bh.scratch, timeout=3600)
        version = self.cmd.run(["--version"]).check().stdout.strip()
        print("filling the stores (untimed) ...", file=sys.stderr, flush=True)
        mock.reset()
        first = self.cmd.run(self.sync_args(self.args.at_once), sample_memory=True).check()
        self.check_syncs(first.stdout)
        self.bh.save_folders("base")
        executables = first.memory.executables if first.memory else set()
        self.report.machine = describe(REPO, version, chromium_version(executables))

    def sync_args(self, at_once: int) -> list[str]:
        return ["sync", "--all", "--at-once", str(at_once), "--json"]

    def check_syncs(self, stdout: str) -> None:
        summaries = json.loads(stdout)
        incomplete = [s for s in summaries if not s.get("complete")]
        if len(summaries) != self.args.accounts or incomplete:
            raise SystemExit(f"a sync was incomplete: {incomplete[:3]}")

    def prepare(self) -> None:
        """The state every timed run starts from: the filled stores and saved sessions, the
        mock at its start and one virtual day later."""
        self.bh.restore_folders("base")
        self.mock.reset()
        self.mock.admin.advance(days=1)
        self.mock.clear_traffic()
        self.redis.client().flushall()

    # -- the variants ----------------------------------------------------------------------

    def variants(self) -> list[Variant]:
        n = self.args.at_once
        return [
            Variant("a", "(a) sequential: sync --all --at-once 1", lambda: self.run_sync(1)),
            Variant("b", f"(b) at once: sync --all --at-once {n}", lambda: self.run_sync(n)),
            Variant("c", f"(c) Celery: {self.args.workers} workers + scheduler", self.run_celery),
        ]

    def run_sync(self, at_once: int) -> Outcome:
        self.prepare()
        mock_cpu = cpu_seconds(self.mock.pid)
        run = self.cmd.run(self.sync_args(at_once), sample_memory=available()).check()
        self.check_syncs(run.stdout)
        return self._outcome(run.wall_s, run.memory, mock_cpu)

    def run_celery(self) -> Outcome:
        self.prepare()
        ledger = FleetLedger(self.redis.client())
        agent = f"{sys.executable} -m agent"
        workers = [f"{agent} worker -n w{i}@%h" for i in range(1, self.args.workers + 1)]
        script = " & ".join([*workers, f"{agent} scheduler"]) + " & wait"
        log = self.bh.scratch / "fleet.log"
        mock_cpu = cpu_seconds(self.mock.pid)
        started = time.perf_counter()
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                ["sh", "-c", script],
                env=self.env,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # one session: the tree sampled, then stopped
            )
        sampler = TreeSampler(proc.pid, SAMPLE_S) if available() else None
        if sampler is not None:
            sampler.start()
        names = [account_name(k) for k in range(self.args.accounts)]
        deadline = time.monotonic() + 3600
        try:
            while not all(ledger.rounds(n) for n in names):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the fleet stopped or stalled:\n{log.read_text()[-3000:]}")
                time.sleep(SAMPLE_S)
            wall = time.perf_counter() - started
        finally:
            memory = sampler.stop() if sampler is not None else None
            self._stop(proc)
        failed = [r for n in names for r in ledger.rounds(n) if r["result"] != "complete"]
        if failed:
            raise SystemExit(f"a round did not complete: {failed[:3]}")
        return self._outcome(wall, memory, mock_cpu)

    @staticmethod
    def _stop(proc: subprocess.Popen[bytes]) -> None:
        """SIGTERM to the fleet (each worker ends its round and closes its Chromium), then
        SIGKILL of what is left."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=60)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def _outcome(self, wall: float, memory: TreeMemory | None, mock_cpu: float | None) -> Outcome:
        traffic = self.mock.traffic(log=False)
        values = {"wall": wall, "requests": float(traffic["total"])}
        if memory is not None and memory.samples:
            values["cpu"] = memory.cpu_seconds
            values["cores"] = memory.cpu_seconds / wall
        after = cpu_seconds(self.mock.pid)
        if mock_cpu is not None and after is not None:
            values["mock_cpu"] = after - mock_cpu
        values.update(memory_values(memory))
        return Outcome(values)

    # -- running, figures ------------------------------------------------------------------

    def run(self) -> Report:
        self.setup()
        variants = self.variants()
        for r in range(self.args.runs):
            shift = r % len(variants)
            for v in variants[shift:] + variants[:shift]:
                v.outcomes.append(v.run())
                print(f"run {r + 1}/{self.args.runs}: {v.key} done", file=sys.stderr, flush=True)
        self.record({v.key: v for v in variants})
        self.report.machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        return self.report

    def stop(self) -> None:
        self.mock.stop()
        self.redis.stop()

    def record(self, by: dict[str, Variant]) -> None:
        rep = self.report
        rows = (
            (S_WALL, "wall", "{label}", "s"),
            (S_WALL, "cpu", "  ({key}) CPU of every process in its tree", "s"),
            (S_WALL, "cores", "  ({key}) cores kept busy: that CPU / wall", "cores"),
            (S_WALL, "mock_cpu", "  ({key}) CPU the mock spent serving it", "s"),
            (S_MEM, "pss_mb", "{label}: PSS", "MB"),
            (S_MEM, "rss_mb", "  ({key}) RSS summed (shared pages counted in each)", "MB"),
            (S_MEM, "processes", "  ({key}) processes", "processes"),
            (S_REQ, "requests", "{label}", "requests"),
        )
        for section, value, label, unit in rows:
            for v in by.values():
                fig = rep.figure(section, f"{v.key}.{value}", label.format(**vars(v)), unit)
                for o in v.outcomes:
                    fig.add(o.values.get(value))
                if not fig.runs:
                    fig.na = NOT_MEASURED.get(value, "not measured")
        a, b, c = by["a"].outcomes, by["b"].outcomes, by["c"].outcomes
        speed = rep.figure(S_RATIO, "b.speedup", "(a) wall / (b) wall (target: 3x or more)", "x")
        mem = rep.figure(S_RATIO, "b.memory", "(b) PSS / (a) PSS (target: under 0.60)", "x")
        celery = rep.figure(S_RATIO, "c.speedup", "(a) wall / (c) wall", "x")
        for x, y, z in zip(a, b, c, strict=True):
            speed.add(x.values["wall"] / y.values["wall"])
            celery.add(x.values["wall"] / z.values["wall"])
            if x.values.get("pss_mb") and y.values.get("pss_mb"):
                mem.add(y.values["pss_mb"] / x.values["pss_mb"])
        if speed.runs:
            met = "met" if speed.median >= 3 else "NOT met"
            rep.checks.append(f"(b) is {speed.median:.2f}x as fast as (a): target 3x {met}")
        if mem.runs:
            met = "met" if mem.median < 0.6 else "NOT met"
            rep.checks.append(
                f"(b)'s peak PSS is {mem.median:.0%} of (a)'s: target under 60% {met}"
            )
        rep.checks.append(
            f"every run: {self.args.accounts} accounts, each sync complete / each round "
            "'complete'; the mock in its own process (pid "
            f"{self.mock.pid}), Redis in its own"
        )
        rep.notes += [
            "(a) and (b) are `sync --all` (sync, then the calendar); (c)'s rounds are the "
            "watch's (sync, rules, notices, the journal), and its wall time includes starting "
            "the workers, each with its Chromium, and the scheduler.",
            "Memory and CPU are sampled in the timed runs (every 100 ms, by this harness's own "
            "thread): CPU is each process's user+system as last seen, Chromium's renderers "
            "included (a process ending between samples loses up to 100 ms of it).",
        ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m tests.perf.fleet_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--accounts", type=int, default=50)
    ap.add_argument("--cases", type=int, default=300)
    ap.add_argument("--messages", type=int, default=6)
    ap.add_argument("--changed", type=int, default=10, help="cases with news after one day")
    ap.add_argument("--runs", type=int, default=3, help="timed runs of each variant (default 3)")
    ap.add_argument(
        "--at-once",
        type=int,
        default=FleetSettings().accounts_at_once,
        help="(b): accounts at once (default: [fleet] accounts_at_once's default)",
    )
    ap.add_argument("--workers", type=int, default=2, help="(c): worker processes (default 2)")
    add_output_options(ap)
    ap.add_argument("--keep", type=Path, default=None, help="keep the home in this folder")
    args = ap.parse_args(argv)
    if args.runs < 1 or args.accounts < 1 or args.cases < 1:
        ap.error("--runs, --accounts and --cases must be 1 or more")
    return run_bench(args, args.keep, lambda root: FleetBench(args, root))


if __name__ == "__main__":
    raise SystemExit(main())
