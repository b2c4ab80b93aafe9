"""Read-command benchmark: the real ``caselog`` read commands over a large store. Prints
figures and asserts nothing.

    python -m tests.perf.read_bench --cases 10000 --messages 6 --repeat 5
    python -m tests.perf.read_bench --cases 500 --repeat 2 --warmup 0      # a quick look
    python -m tests.perf.read_bench --home /tmp/rb10k ...   # build once, reuse the store

The store is built the way a seller's is: ``caselog sync`` against the mock (scenario
``large``, in its own process), then one virtual day later an incremental sync, so the store
holds two snapshots and the events of the cases that changed. (``caselog import`` of a
generated archive would be quicker but not the same store: an import writes no snapshots,
so the file the read commands load would be smaller than a synced one.) The mock is stopped
before anything is timed. ``--home DIR`` keeps the store there and reuses it while the
parameters match.

Then each command runs end to end, process start to exit, interleaved over ``--repeat``
rounds (each round starts one command later): ``cases --limit 50``, ``cases``, ``cases
--json``, ``show ID``, ``due``, ``changes --since 7d``, ``search WORD``, ``status``, ``export``
per format and all four into an empty folder, and all four again into an unchanged one. A
command or flag this version of the agent lacks is reported as ``n/a`` (found from its
``--help``), never failed. The table shows wall seconds, CPU seconds and the peak RSS of the
largest process (the command or one of its export workers).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.perf.bench_home import ACCOUNT, BenchHome
from tests.perf.cli_runs import Commander, CommandRun
from tests.perf.figures import Report, add_output_options, run_bench
from tests.perf.machine import chromium_version, describe
from tests.perf.mock_process import MockProcess

REPO = Path(__file__).resolve().parents[2]
S_WALL = "Read commands, end to end (process start to exit): wall seconds"
S_CPU = "The same runs: CPU seconds (user + system, with reaped workers)"
S_RSS = "The same runs: peak RSS of the largest process (wait4)"
S_BUILD = "Building the store (once, not interleaved)"
FORMATS = ("json", "csv", "md", "html")


@dataclass
class Command:
    key: str
    label: str
    args: list[str]
    needs: tuple[str, str | None] | None = None  # (command, flag) to look for in --help
    out_dir: Path | None = None  # export: emptied before each run unless keep_out
    keep_out: bool = False
    na: str = ""
    fine: tuple[int, ...] = (0,)  # exit codes that are an answer, not a failure
    runs: list[CommandRun] = field(default_factory=list)


class ReadBench:
    def __init__(self, args: argparse.Namespace, root: Path) -> None:
        self.args = args
        self.bh = BenchHome(root)
        self.params = {"cases": args.cases, "messages": args.messages, "changed": args.changed}
        self.mock = MockProcess("large", self.params)
        self.report = Report(
            "read",
            f"caselog read commands over {args.cases} cases x {args.messages} messages; "
            f"{args.repeat} interleaved rounds after {args.warmup} warm-up",
            params={
                **self.params,
                "repeat": args.repeat,
                "warmup": args.warmup,
                "search": args.search,
            },
        )
        self.marker = self.bh.root / "built-with.json"

    # -- the store -------------------------------------------------------------------------

    def build(self) -> dict[str, Any]:
        """Sync, one virtual day, sync again; return what the commands need to know."""
        if self.marker.exists() and self.bh.store.exists():
            built = json.loads(self.marker.read_text())
            if built.get("params") == self.params:
                self.report.notes.append(f"store reused from {self.bh.root} (built earlier)")
                self.cmd = Commander(self.bh.env(built["login"]), REPO, self.bh.scratch)
                return built
        mock = self.mock.start()
        self.bh.restore(None)
        self.bh.configure(mock.url, mock.login["email"], [4])
        self.cmd = Commander(self.bh.env(mock.login), REPO, self.bh.scratch)
        first = self.cmd.run(["sync", "--account", ACCOUNT, "--json"], sample_memory=True)
        first.check()
        events = mock.admin.advance(days=1)
        second = self.cmd.run(["sync", "--account", ACCOUNT, "--json"]).check()
        self.mock.stop()
        changed = sorted({e["case_id"] for e in events if e.get("case_id")})
        executables = first.memory.executables if first.memory else set()
        built = {
            "params": self.params,
            "login": mock.login,
            "show": changed[0] if changed else "",
            "chromium": chromium_version(executables),
            "first_sync_s": first.wall_s,
            "incremental_sync_s": second.wall_s,
            "first_sync": json.loads(first.stdout),
            "incremental_sync": json.loads(second.stdout),
        }
        self.marker.write_text(json.dumps(built, indent=2))
        return built

    # -- the commands ----------------------------------------------------------------------

    def commands(self, show_id: str) -> list[Command]:
        scratch = self.bh.scratch
        cmds = [
            Command("startup", "start-up: caselog --version", ["--version"]),
            Command(
                "cases_limit", "cases --limit 50", ["cases", "--limit", "50"], ("cases", "--limit")
            ),
            Command("cases", "cases (every case, table)", ["cases"]),
            Command("cases_json", "cases --json", ["cases", "--json"]),
            Command("show", f"show {show_id}", ["show", show_id]),
            Command("due", "due", ["due"]),
            Command("changes", "changes --since 7d", ["changes", "--since", "7d"]),
            Command("search", f"search {self.args.search}", ["search", self.args.search]),
            # 6: the account had no complete sync for a while (a reused --home): an answer too
            Command("status", "status", ["status"], ("status", None), fine=(0, 6)),
        ]
        exports = [
            (f"export_{f}", f"export --format {f} (empty folder)", ["--format", f], False)
            for f in FORMATS
        ]
        exports += [
            ("export_all", "export, all four (empty folder)", [], False),
            ("export_again", "export, all four (unchanged folder)", [], True),
        ]
        for key, label, flags, keep in exports:
            out = scratch / key
            args = ["export", *flags, "--out", str(out)]
            cmds.append(Command(key, label, args, out_dir=out, keep_out=keep))
        for c in cmds:
            c.na = self.missing(c.needs) if c.needs else ""
        if not show_id:
            next(c for c in cmds if c.key == "show").na = "no changed case to show"
        return cmds

    def missing(self, needs: tuple[str, str | None]) -> str:
        """'' if this agent has ``command`` (and ``flag``), else why not (from --help)."""
        command, flag = needs
        run = self.cmd.run([command, "--help"])
        if run.exit_code != 0:
            return f"no `{command}` command in this version"
        if flag and flag not in run.stdout:
            return f"flag missing: `{command} {flag}`"
        return ""

    def once(self, c: Command) -> CommandRun | None:
        if c.na:
            return None
        if c.out_dir is not None and not c.keep_out:
            shutil.rmtree(c.out_dir, ignore_errors=True)
        run = self.cmd.run(c.args)
        return run if run.exit_code in c.fine and not run.timed_out else run.check()

    # -- running ---------------------------------------------------------------------------

    def stop(self) -> None:
        self.mock.stop()

    def run(self) -> Report:
        built = self.build()
        version = self.cmd.run(["--version"]).check().stdout.strip()
        self.report.machine = describe(REPO, version, built.get("chromium", "unknown"))
        cmds = self.commands(built["show"])
        again = next(c for c in cmds if c.key == "export_again")
        self.once(Command("fill", "", again.args))  # the unchanged folder it re-exports into
        rounds = self.args.warmup + self.args.repeat
        for r in range(rounds):
            shift = r % len(cmds)
            for c in cmds[shift:] + cmds[:shift]:
                run = self.once(c)
                if run is not None and r >= self.args.warmup:
                    c.runs.append(run)
            print(f"round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
        self.record(cmds, built)
        self.report.machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        return self.report

    def record(self, cmds: list[Command], built: dict[str, Any]) -> None:
        rep = self.report
        for c in cmds:
            for section, what, unit, value in (
                (S_WALL, "wall", "s", lambda r: r.wall_s),
                (S_CPU, "cpu", "s", lambda r: r.cpu_s),
                (S_RSS, "rss", "MB", lambda r: r.max_rss_kb / 1024),
            ):
                fig = rep.figure(section, f"{c.key}.{what}", c.label, unit)
                fig.na = c.na
                for run in c.runs:
                    fig.add(value(run))
        for key, label in (
            ("first_sync_s", "first sync (sign-in, every case read)"),
            ("incremental_sync_s", "incremental sync, one virtual day later"),
        ):
            fig = rep.figure(S_BUILD, f"build.{key}", label, "s")
            fig.add(built.get(key))
        size = rep.figure(S_BUILD, "build.store_mb", f"store data/{ACCOUNT}/ (current)", "MB")
        size.add(self.bh.store_bytes() / 1e6)
        listed = next((c for c in cmds if c.key == "cases_json" and c.runs), None)
        if listed is not None:
            n = rep.figure(S_BUILD, "build.cases", "cases in the store (cases --json)", "cases")
            n.add(len(json.loads(listed.runs[-1].stdout)))
        searched = next((c for c in cmds if c.key == "search" and c.runs), None)
        if searched is not None:
            lines = searched.runs[-1].stdout.strip().splitlines()
            rep.checks.append(f"search {self.args.search}: {lines[-1] if lines else 'no output'}")
        inc = built.get("incremental_sync", {})
        rep.checks.append(
            f"store built by caselog sync: first {built['first_sync'].get('cases_seen')} cases "
            f"({built['first_sync'].get('requests')} requests), then "
            f"{inc.get('details_read')} changed cases read, {inc.get('events')} events"
        )
        rep.checks.append(
            f"every timed command exited 0; mock stopped before timing (pid "
            f"{self.mock.pid if self.mock.proc else 'not started: store reused'})"
        )
        rep.notes.append(
            "export runs write into a folder emptied before each run, except 'unchanged "
            "folder', which re-exports the same data over an earlier export"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m tests.perf.read_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--messages", type=int, default=6)
    ap.add_argument("--changed", type=int, default=10, help="cases with news on the 2nd sync")
    ap.add_argument("--search", default="documentation", help="the word `search` looks for")
    ap.add_argument("--repeat", type=int, default=5, help="timed rounds (default 5)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    ap.add_argument("--home", type=Path, default=None, help="build (or reuse) the store here")
    add_output_options(ap)
    args = ap.parse_args(argv)
    if args.repeat < 1 or args.cases < 1 or args.warmup < 0:
        ap.error("--repeat and --cases must be 1 or more, --warmup 0 or more")
    return run_bench(args, args.home, lambda root: ReadBench(args, root))


if __name__ == "__main__":
    raise SystemExit(main())
