"""`caselog export` / `caselog import` on data a real sync stored: every format written with
private modes, and export -> import into an empty home -> export is byte-identical."""

from __future__ import annotations

import csv
import json
import os
import stat
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_export_import_round_trip(cli, site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("sync", "--all").returncode == 0
    site.admin.advance(days=1)
    assert cli("sync", "--all").returncode == 0

    first = tmp_path / "first"
    result = cli("export", "--out", str(first), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["cases"] > 40 and summary["formats"] == ["csv", "html", "json", "md"]
    for path in first.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path
    with (first / "cases.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == summary["cases"]
    assert (first / "html" / "index.html").is_file() and (first / "md" / "index.md").is_file()

    again = cli("export", "--out", str(first), "--json")
    assert json.loads(again.stdout)["written"] == []  # nothing changed: nothing rewritten

    fresh = tmp_path / "fresh-home"
    env = {**cli.env, "CASELOG_HOME": str(fresh)}
    cli.env = env
    imported = cli("import", str(first / "archive.json"), "--json")
    assert imported.returncode == 0, imported.stderr
    second = tmp_path / "second"
    assert cli("export", "--format", "json", "--out", str(second)).returncode == 0
    assert (second / "archive.json").read_bytes() == (first / "archive.json").read_bytes()

    refused = cli("import", str(first / "archive.json"))
    assert refused.returncode == 2 and "already has data" in refused.stderr
    assert os.listdir(fresh / "data")
