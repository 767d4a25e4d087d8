"""The harness used from a team's own project: a built wheel (not editable) installed into a fresh
venv, run from an empty folder.

How it installs without a network, and fast: the wheel goes in with ``--no-deps --no-index`` through
this venv's pip (``pip --python``, so the fresh venv needs no pip of its own), and a ``.pth`` file
in the fresh venv points at this venv's site-packages for the dependencies (numpy, pandas, pytest,
pyOCD, tflite-micro...). Installing those again would need the network or minutes of copying; what
is under test is the harness's own package: its data, entry points and paths. A ``.pth`` line adds a
folder after the venv's own site-packages, so the installed ``harness`` wins, and that folder's own
``.pth`` files (the checkout's editable finder) are not processed.

The wheel is built from a copy of the sources: an in-tree setuptools build writes build/lib and
build/bdist.* into the checkout's build/, where the firmware builds of concurrent runs live.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# what a wheel is built from (setup.py copies firmware/ and fixtures/ in as harness/_data/)
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "harness", "firmware", "fixtures")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")

pytestmark = pytest.mark.timeout(600)


def run(cmd, cwd: Path, env: dict, timeout_s: float = 300) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout_s)
    assert proc.returncode == 0, f"{cmd} exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    source.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=IGNORED)
        else:
            shutil.copy2(REPO / name, source / name)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", work / "dist",
         source], cwd=work, env=os.environ.copy())
    (built,) = (work / "dist").glob("tinyml_hil-*.whl")
    return built


def test_wheel_carries_firmware_and_fixtures_not_test_tooling(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in ("harness/_data/firmware/Makefile", "harness/_data/firmware/boards/netduinoplus2/board.mk",
                    "harness/_data/firmware/src/engine/engine.mk", "harness/_data/firmware/agent/include/hil/link.h",
                    "harness/_data/fixtures/models/robust.json", "harness/_data/fixtures/models/robust.tflite",
                    "harness/_data/fixtures/field/false_alarm_minmax.json", "harness/paths.py",
                    "harness/engine/c/engine_run.c", "harness/suite/acceptance/test_acceptance.py"):
        assert shipped in names
    assert not [n for n in names if n.startswith("harness/_data/firmware/tests/")]
    assert not [n for n in names if n.startswith("harness/engine/") and ("fuzz" in n or "random_models" in n)]
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "hil = harness.cli.main:main" in text and "hil = harness.pytest_plugin" in text


@pytest.mark.hil_device
def test_installed_wheel_runs_from_an_empty_folder(wheel, tmp_path):
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path, env=os.environ.copy())
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel],
        cwd=tmp_path, env=os.environ.copy())
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    cwd=tmp_path, env=os.environ.copy()).stdout.strip())
    (site / "project-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    empty = tmp_path / "empty"
    empty.mkdir()
    cache = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HIL_")) and k != "PYTHONPATH"}
    env.update(HIL_CACHE_DIR=str(cache), PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}")
    hil = venv / "bin" / "hil"

    package = Path(run([python, "-c", "import harness, os; print(os.path.dirname(harness.__file__))"],
                       cwd=empty, env=env).stdout.strip())
    assert package == site / "harness", f"harness imported from {package}, not the installed wheel"
    shipped = files_under(package)

    info = run([hil, "info", "--target", "qemu"], cwd=empty, env=env).stdout
    fields = dict(line.split(": ", 1) for line in info.strip().splitlines() if ": " in line)
    assert fields.get("board") == "netduinoplus2" and fields.get("protocol_version") == "1", info

    built = run([hil, "build"], cwd=empty, env=env).stdout
    elf = Path(dict(line.split(": ", 1) for line in built.strip().splitlines())["elf"])
    assert elf.is_file() and elf.is_relative_to(cache), f"firmware built at {elf}, not under {cache}"
    assert (cache / "firmware" / "netduinoplus2-portable" / "firmware.elf").is_file()

    plugin_help = run([python, "-m", "pytest", "-p", "no:cacheprovider", "--help"], cwd=empty, env=env).stdout
    assert "--hil-target" in plugin_help

    fast = ["--windows", "8", "--sweep-windows", "1", "--no-progress"]
    run([hil, "run", "--bundle", package / "_data" / "fixtures" / "models" / "robust.json", *fast],
        cwd=empty, env=env, timeout_s=400)
    summary = empty / "reports" / "suite" / "summary.json"
    assert summary.is_file(), f"no {summary}; the empty folder holds {sorted(files_under(empty))}"
    model, = json.loads(summary.read_text())["models"]
    assert (model["model"], model["verdict"], model["exact_share"]) == ("robust", "OK", 1.0)
    assert sorted(p.name for p in empty.iterdir()) == ["reports"], "only the reports go in the user's folder"

    assert not (package / "build").exists()
    assert files_under(package) == shipped, f"written beside the package: {files_under(package) - shipped}"
