"""Figures, how they are printed, saved and compared.

A :class:`Figure` keeps every run's value, never only a summary: the table shows min, median
and max (the runs were interleaved, so a slow patch of a shared machine spreads over every
variant instead of landing on one), and ``--json FILE`` saves the runs themselves, so a
later ``--compare FILE`` (or ``python -m tests.perf.compare OLD NEW``) can put before and
after side by side with their spreads. A figure that could not be measured says why
(``n/a: ...``) instead of being left out.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tests.perf.machine import one_line

__all__ = [
    "Figure",
    "Report",
    "add_output_options",
    "compare",
    "load_report",
    "publish",
    "run_bench",
]

FORMAT_VERSION = 1


@dataclass
class Figure:
    key: str
    label: str
    unit: str
    runs: list[float] = field(default_factory=list)
    na: str = ""  # why there is no value

    def add(self, value: float | None) -> None:
        if value is not None:
            self.runs.append(float(value))

    @property
    def ok(self) -> bool:
        return bool(self.runs) and not self.na

    @property
    def min(self) -> float:
        return min(self.runs)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def max(self) -> float:
        return max(self.runs)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "unit": self.unit, "runs": self.runs}
        if self.ok:
            out.update(min=self.min, median=self.median, max=self.max)
        if self.na:
            out["na"] = self.na
        return out


def fmt(value: float, unit: str) -> str:
    if unit in ("requests", "processes", "cases", "n"):
        return f"{value:.0f}"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "MB":
        return f"{value:.1f}"
    if unit == "ms":
        return f"{value:.1f}"
    if abs(value) < 0.1:
        return f"{value:.3f}"
    return f"{value:.2f}"


@dataclass
class Report:
    bench: str
    title: str
    machine: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, list[Figure]] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def figure(self, section: str, key: str, label: str, unit: str = "s") -> Figure:
        """The figure ``key`` of ``section``, created on first use (order is kept). A key
        names one figure in the whole report (it is what ``--compare`` matches on)."""
        for other, figs in self.sections.items():
            for f in figs:
                if f.key == key:
                    if other != section:
                        raise ValueError(f"figure {key!r} is already in section {other!r}")
                    return f
        figures = self.sections.setdefault(section, [])
        f = Figure(key, label, unit)
        figures.append(f)
        return f

    def figures(self) -> dict[str, Figure]:
        return {f.key: f for figs in self.sections.values() for f in figs}

    # -- text ------------------------------------------------------------------------------

    def render(self) -> str:
        lines = [self.title, *one_line(self.machine)]
        lines.append("params: " + ", ".join(f"{k}={v}" for k, v in self.params.items()))
        width = max((len(f.label) for figs in self.sections.values() for f in figs), default=30)
        for section, figs in self.sections.items():
            lines += ["", section]
            lines.append(f"  {'':<{width}}  {'min':>9} {'median':>9} {'max':>9}  {'unit':<8} runs")
            for f in figs:
                if not f.ok:
                    lines.append(f"  {f.label:<{width}}  n/a: {f.na or 'not measured'}")
                    continue
                lines.append(
                    f"  {f.label:<{width}}  {fmt(f.min, f.unit):>9} {fmt(f.median, f.unit):>9} "
                    f"{fmt(f.max, f.unit):>9}  {f.unit:<8} {len(f.runs)}"
                )
        if self.checks:
            lines += ["", "checks"] + [f"  {c}" for c in self.checks]
        if self.notes:
            lines += ["", "notes"] + [f"  {n}" for n in self.notes]
        return "\n".join(lines)

    # -- files -----------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "bench": self.bench,
            "title": self.title,
            "machine": self.machine,
            "params": self.params,
            "sections": {s: [f.key for f in figs] for s, figs in self.sections.items()},
            "figures": {f.key: f.to_json() for f in self.figures().values()},
            "checks": self.checks,
            "notes": self.notes,
        }

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")


def load_report(path: Path) -> Report:
    data = json.loads(path.read_text())
    if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
        raise ValueError(f"{path} is not a benchmark file of format {FORMAT_VERSION}")
    report = Report(
        bench=data["bench"],
        title=data["title"],
        machine=data.get("machine", {}),
        params=data.get("params", {}),
        checks=data.get("checks", []),
        notes=data.get("notes", []),
    )
    for section, keys in data["sections"].items():
        for key in keys:
            raw = data["figures"][key]
            f = report.figure(section, key, raw["label"], raw["unit"])
            f.runs = [float(x) for x in raw.get("runs", [])]
            f.na = raw.get("na", "")
    return report


def _cell(f: Figure | None) -> str:
    if f is None:
        return "—"
    if not f.ok:
        return "n/a"
    return f"{fmt(f.median, f.unit)} [{fmt(f.min, f.unit)}–{fmt(f.max, f.unit)}]"


def compare(old: Report, new: Report) -> str:
    """Before and after, figure by figure: median [min–max] each, and after/before of the
    medians. Says first what differs between the two runs' machines and parameters."""
    lines = [f"before: {old.title}", f"after:  {new.title}"]
    for what, a, b in (("params", old.params, new.params), ("machine", old.machine, new.machine)):
        for key in sorted(set(a) | set(b)):
            if key.startswith("load_average") or key == "python_executable":
                continue
            if a.get(key) != b.get(key):
                lines.append(f"  {what} differ: {key}: {a.get(key)!r} -> {b.get(key)!r}")
    lines.append(
        "  load average before: "
        f"{old.machine.get('load_average_at_start')} -> {old.machine.get('load_average_at_end')}"
        f"; after: {new.machine.get('load_average_at_start')} -> "
        f"{new.machine.get('load_average_at_end')}"
    )
    before = old.figures()
    width = max((len(f.label) for f in new.figures().values()), default=30)
    seen: set[str] = set()
    for section, figs in new.sections.items():
        lines += ["", section]
        lines.append(f"  {'':<{width}}  {'before':>28}  {'after':>28}  after/before")
        for f in figs:
            seen.add(f.key)
            o = before.get(f.key)
            ratio = ""
            if o is not None and o.ok and f.ok and o.median:
                ratio = f"{f.median / o.median:.2f}"
            lines.append(f"  {f.label:<{width}}  {_cell(o):>28}  {_cell(f):>28}  {ratio}")
    gone = [f for k, f in before.items() if k not in seen]
    if gone:
        lines += ["", "only before"] + [f"  {f.label:<{width}}  {_cell(f):>28}" for f in gone]
    lines.append("")
    lines.append(
        "Overlapping [min–max] ranges mean the runs cannot tell before from after on this machine."
    )
    return "\n".join(lines)


def add_output_options(ap: argparse.ArgumentParser) -> None:
    """``--json FILE`` and ``--compare OLD.json``, as every benchmark takes them."""
    ap.add_argument("--json", type=Path, default=None, help="write every figure here")
    ap.add_argument("--compare", type=Path, default=None, help="an earlier --json file")


def publish(report: Report, args: argparse.Namespace, old: Report | None) -> None:
    """Print the table; save it (``--json``); print before and after (``--compare``)."""
    print(report.render())
    if args.json:
        report.save(args.json)
        print(f"\nfigures written to {args.json}")
    if old is not None:
        print("\n" + compare(old, report))


class Bench(Protocol):
    def run(self) -> Report: ...

    def stop(self) -> None: ...


def installed_bytecode() -> None:
    """Commands run as an installed caselog does: from compiled bytecode. An editable
    checkout has none until a first run writes it, and never with PYTHONDONTWRITEBYTECODE
    set, when every command would compile each module it imports again (measured: +0.1 s
    for `caselog due`). Compile the package and the mock once, and let children write
    bytecode."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    root = Path(__file__).resolve().parents[2]
    for package in ("agent", "fixtures"):
        compileall.compile_dir(root / package, quiet=1)


def run_bench(args: argparse.Namespace, folder: Path | None, make: Callable[[Path], Bench]) -> int:
    """Run a benchmark in ``folder`` (default: a temporary one), always stopping what it
    started, then :func:`publish` its report."""
    try:  # a file that cannot be compared fails before anything runs
        old = load_report(args.compare) if args.compare else None
    except (OSError, ValueError, KeyError) as exc:
        raise SystemExit(f"--compare {args.compare}: cannot be read ({exc})") from None
    installed_bytecode()
    with tempfile.TemporaryDirectory(prefix="caselog-bench-") as tmp:
        bench = make(folder or Path(tmp))
        try:
            report = bench.run()
        finally:
            bench.stop()
    publish(report, args, old)
    return 0
