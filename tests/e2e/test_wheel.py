"""The wheel is complete: installed outside the checkout, the CLI, the selector maps and the
mock site (templates, static files, scenarios) all work from it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wheels = tmp_path_factory.mktemp("wheel")
    target = tmp_path_factory.mktemp("site")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    # No build isolation: the build uses this environment's setuptools and needs no network
    # (an isolated build would download setuptools and wheel first).
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(ROOT)],
        check=True,
    )
    (wheel,) = wheels.glob("caselog_agent-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True)
    return target


def run_installed(target: Path, code: str, cwd: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(target)}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.slow
def test_wheel_ships_package_maps_and_mock(installed: Path, tmp_path: Path) -> None:
    code = """
import agent, caselog_mock
from agent.site.selectormap import maps_dir, available_maps, load_map
print(agent.__file__)
print(caselog_mock.__file__)
print(maps_dir())
print(",".join(available_maps()))
for name in available_maps():
    load_map(name)
from caselog_mock import MockServer
import urllib.request
srv = MockServer(scenario="demo", port=0)
srv.start()
try:
    with urllib.request.urlopen(srv.url + "/ap/signin") as r:
        print(r.status)
finally:
    srv.stop()
"""
    lines = run_installed(installed, code, tmp_path).splitlines()
    assert lines[0].startswith(str(installed))
    assert lines[1].startswith(str(installed))
    assert lines[2].startswith(str(installed))
    assert {"classic-en-US", "classic-en-GB", "modern-en-US", "modern-zh-CN"} <= set(
        lines[3].split(",")
    )
    assert lines[4] == "200"
    for top in ("selectors", "fixtures", "snapshots", "tests"):
        assert not (installed / top).exists(), f"{top}/ must not be installed as a package"


@pytest.mark.slow
def test_installed_cli_runs_outside_checkout(installed: Path, tmp_path: Path) -> None:
    out = run_installed(
        installed,
        "import sys; sys.argv=['caselog','--help']; from agent.cli import main; main()",
        tmp_path,
    )
    assert "mock-site" in out and "sync" in out
