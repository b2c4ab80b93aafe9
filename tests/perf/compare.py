"""Before and after: ``python -m tests.perf.compare BEFORE.json AFTER.json``.

Both files are written by a benchmark's ``--json`` (``sync_bench``, ``read_bench``); each
figure is shown as median [min–max] before and after, with the ratio of the medians. A
benchmark run with ``--compare BEFORE.json`` prints the same after its own table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tests.perf.figures import compare, load_report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.perf.compare", description=__doc__)
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    args = ap.parse_args(argv)
    try:
        before, after = load_report(args.before), load_report(args.after)
    except (OSError, ValueError, KeyError) as exc:
        ap.error(f"cannot read the figures ({exc})")
    if before.bench != after.bench:
        ap.error(f"{args.before} is a {before.bench} benchmark, {args.after} a {after.bench} one")
    print(compare(before, after))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
