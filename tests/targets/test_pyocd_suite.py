"""The device suite (tests/integration/test_device.py) and the acceptance suite (hil run) through the
pyOCD backend on the emulated board: --hil-target pyocd --hil-inventory-board NAME --hil-inventory PATH, as a
user runs them on real boards. pyOCD's session, loader and reset flash and start every run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INVENTORY = ('[boards.ci-qemu]\nprobe = "qemu"\ntarget = "qemu_netduinoplus2"\nport = "auto"\n'
             'firmware_board = "netduinoplus2"\n')


@pytest.mark.timeout(300)
def test_device_suite_passes_through_pyocd(tmp_path):
    inventory = tmp_path / "boards.toml"
    inventory.write_text(INVENTORY)
    # the 1 MiB echo is the QEMU UART's speed again (~40 s); everything else runs
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "tests/integration/test_device.py", "-k", "not one_mebibyte",
                             "--hil-target", "pyocd", "--hil-inventory-board", "ci-qemu", "--hil-inventory", str(inventory)],
                            cwd=REPO, capture_output=True, text=True, timeout=280)
    tail = result.stdout[-3000:] + result.stderr[-2000:]
    assert result.returncode == 0, tail
    assert "13 passed, 1 deselected" in result.stdout, tail


@pytest.mark.timeout(600)
def test_acceptance_suite_passes_through_pyocd(tmp_path):
    """hil run --target pyocd: every committed model, the CI's window counts, every expectation."""
    from harness.bundle.load import list_bundles
    from harness.models.metadata import read_metadata
    from harness.paths import MODELS_DIR
    EXPECTED_VERDICTS = {p.stem: read_metadata(p).expectations["verdict"] for p in list_bundles(MODELS_DIR)}
    from harness.suite.outputs import read_summary
    inventory, out = tmp_path / "boards.toml", tmp_path / "out"
    inventory.write_text(INVENTORY)
    result = subprocess.run([sys.executable, "-m", "harness.cli.main", "run", "--target", "pyocd", "--inventory-board", "ci-qemu",
                             "--inventory", str(inventory), "--windows", "32", "--sweep-windows", "2",
                             "--out", str(out), "--no-progress"],
                            cwd=REPO, capture_output=True, text=True, timeout=580)
    tail = result.stdout[-4000:] + result.stderr[-2000:]
    assert result.returncode == 0, tail
    assert "expectations: all hold" in result.stdout, tail
    summary = read_summary(out)
    assert summary["target"] == "pyocd"
    verdicts = {m["model"]: m["verdict"] for m in summary["models"]}
    assert verdicts == {name: EXPECTED_VERDICTS[name] for name in verdicts} and set(verdicts) == set(EXPECTED_VERDICTS)
    assert all(m["exact_share"] == 1.0 and m["device_status"] == "OK" for m in summary["models"])


def test_plugin_explains_a_missing_inventory(tmp_path, monkeypatch):
    monkeypatch.delenv("HIL_INVENTORY", raising=False)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "tests/integration/test_device.py", "-k", "boot_info", "--rootdir", str(tmp_path),
                             "--hil-target", "pyocd", "--hil-inventory-board", "x"],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "needs a board inventory" in result.stdout + result.stderr
