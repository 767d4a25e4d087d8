"""The device suite (tests/integration/test_device.py) through the pyOCD backend on the emulated
board: --hil-target pyocd --hil-board NAME --hil-inventory PATH, as a user runs it on real boards."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(300)
def test_device_suite_passes_through_pyocd(tmp_path):
    inventory = tmp_path / "boards.toml"
    inventory.write_text('[boards.ci-qemu]\nprobe = "qemu"\ntarget = "qemu_netduinoplus2"\nport = "auto"\n'
                         'firmware_board = "netduinoplus2"\n')
    # the 1 MiB echo is the QEMU UART's speed again (~40 s); everything else runs
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "tests/integration/test_device.py", "-k", "not one_mebibyte",
                             "--hil-target", "pyocd", "--hil-board", "ci-qemu", "--hil-inventory", str(inventory)],
                            cwd=REPO, capture_output=True, text=True, timeout=280)
    tail = result.stdout[-3000:] + result.stderr[-2000:]
    assert result.returncode == 0, tail
    assert "13 passed, 1 deselected" in result.stdout, tail


def test_plugin_explains_a_missing_inventory(tmp_path, monkeypatch):
    monkeypatch.delenv("HIL_INVENTORY", raising=False)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "tests/integration/test_device.py", "-k", "boot_info", "--rootdir", str(tmp_path),
                             "--hil-target", "pyocd", "--hil-board", "x"],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "needs a board inventory" in result.stdout + result.stderr
