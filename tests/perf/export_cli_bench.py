"""End-to-end export benchmark: ``python -m tests.perf.export_cli_bench --cases 10000``.

Measures the real command, ``python -m agent export``, as a seller runs it: a subprocess
that starts Python, reads the settings and the store (TinyDB), evaluates the rules as of the
data, builds the Today list with its drafts, and writes all four formats. The home is built
once through the archive path (:func:`tests.perf.export_bench.synthetic_archive` ->
``archive.json`` -> ``caselog import``), with a ``caselog.toml`` naming the account, so the
account is a configured one (its rules, business hours and Seller Central links apply).

Each run exports into a fresh folder (a first export: every file written); then one more
export into the last folder shows an unchanged re-export. Prints one JSON line: wall seconds
of each run with min / median / max, the CPU seconds of each run (user + system, worker
processes included: what the export itself cost, whatever else the machine runs), the
re-export's seconds, the store's size and the machine's load average. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from agent.export.archive import to_json_bytes
from tests.perf.export_bench import synthetic_archive
from tests.perf.figures import installed_bytecode

CONFIG = """\
[[accounts]]
name = "bench-seller"
base_url = "https://sellercentral.amazon.com"
timezone = "America/Los_Angeles"
signature = "Dana, Bench Outdoor Co"


[[accounts.marketplaces]]
id = "ATVPDKIKX0DER"
selector_map = "classic-en-US"
"""


CPU: list[float] = []  # CPU seconds (user + system, workers included) of each command


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _caselog(home: Path, *args: str) -> float:
    env = {**os.environ, "CASELOG_HOME": str(home)}
    cpu = _children_cpu()
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "agent", *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    seconds = time.perf_counter() - started
    CPU.append(_children_cpu() - cpu)
    if proc.returncode != 0:
        raise SystemExit(f"caselog {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=3, help="fresh-folder exports to time")
    parser.add_argument("--formats", default="json,csv,md,html")
    parser.add_argument("--keep", type=Path, help="build the home in this folder and keep it")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    installed_bytecode()
    with tempfile.TemporaryDirectory(prefix="caselog-export-cli-") as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        home = root / "home"
        home.mkdir(mode=0o700)
        (home / "caselog.toml").write_text(CONFIG)
        source = root / "archive.json"
        source.write_bytes(to_json_bytes(synthetic_archive(args.cases, args.messages)))
        import_s = _caselog(home, "import", str(source))
        store = home / "data" / "bench-seller"
        generation = store / (store / "CURRENT").read_text().strip()
        fmt_args = [a for f in args.formats.split(",") for a in ("--format", f)]
        runs, cpus = [], []
        for i in range(args.repeat):
            runs.append(_caselog(home, "export", *fmt_args, "--out", str(root / f"out{i}")))
            cpus.append(CPU[-1])
        again = _caselog(home, "export", *fmt_args, "--out", str(root / f"out{args.repeat - 1}"))
        result = {
            "bench": "export_cli",
            "cases": args.cases,
            "messages_per_case": args.messages,
            "formats": args.formats.split(","),
            "import_s": round(import_s, 2),
            "store_mb": round(sum(f.stat().st_size for f in generation.iterdir()) / 1e6, 1),
            "export_s": [round(s, 2) for s in runs],
            "export_min_s": round(min(runs), 2),
            "export_median_s": round(statistics.median(runs), 2),
            "export_max_s": round(max(runs), 2),
            "export_cpu_s": [round(c, 2) for c in cpus],
            "reexport_unchanged_s": round(again, 2),
            "loadavg": [round(x, 2) for x in os.getloadavg()],
            "cpus": os.cpu_count(),
        }
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
