"""The layers of agent/ are enforced, not just drawn: import contracts and a pure core."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

AGENT = Path(__file__).resolve().parents[2] / "agent"
ROOT = AGENT.parent

# Calls that touch the disk or the clock; the core takes data and an explicit `now`.
IO_NAMES = {"open", "read_text", "read_bytes", "write_text", "write_bytes", "mkdir", "unlink"}
IO_MODULES = {"os", "shutil", "pathlib", "tempfile", "subprocess", "socket", "io"}


def lint_imports() -> subprocess.CompletedProcess[str]:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is a test dependency: pip install -e '.[test]'"
    return subprocess.run(
        [exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_import_contracts_hold() -> None:
    proc = lint_imports()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_a_core_module_importing_the_app_breaks_the_contracts(tmp_path: Path) -> None:
    """The contracts can fail: a copy of the tree where the core imports a use case."""
    copy = tmp_path / "tree"
    shutil.copytree(AGENT, copy / "agent", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    bad = copy / "agent" / "core" / "rules.py"
    bad.write_text(bad.read_text() + "\nfrom agent.app import sync as _sync  # noqa\n")
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe
    proc = subprocess.run(
        [exe, "--no-cache"],
        cwd=copy,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(copy), "PATH": str(Path(sys.executable).parent)},
    )
    assert proc.returncode != 0, proc.stdout
    assert "agent.core.rules -> agent.app.sync" in proc.stdout


def _core_modules() -> list[Path]:
    return sorted((AGENT / "core").glob("*.py"))


@pytest.mark.parametrize("path", _core_modules(), ids=lambda p: p.name)
def test_core_does_no_io(path: Path) -> None:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            found += [n for n in names if n and n.split(".")[0] in IO_MODULES]
        elif isinstance(node, ast.Call):
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
            if name in IO_NAMES:
                found.append(f"{name}() on line {node.lineno}")
            if name == "now" and isinstance(fn, ast.Attribute):
                found.append(f"reads the clock on line {node.lineno}")
    allowed = {"models.py": ["reads the clock on line"]}  # utcnow(), for the edges to call
    found = [f for f in found if not any(f.startswith(a) for a in allowed.get(path.name, []))]
    assert found == [], f"{path.name} does I/O: {found}"


def test_no_module_outside_cli_talks_to_the_terminal() -> None:
    offenders = []
    for path in AGENT.rglob("*.py"):
        if "cli" in path.relative_to(AGENT).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                mods = (
                    [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
                )
                offenders += [
                    f"{path.name}: {m}" for m in mods if m and m.split(".")[0] in ("typer", "rich")
                ]
    assert offenders == []
