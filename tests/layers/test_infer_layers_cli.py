"""hil infer --layers: the same per-layer report from the command line, beside the windows' outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.hil_device, pytest.mark.timeout(300)]
REPO = Path(__file__).resolve().parents[2]


def test_hil_infer_layers_writes_the_report_and_the_plot(tmp_path):
    from harness.suite.suite_model import load_suite_model
    from harness.suite.scenarios import make_scenario_windows
    model = load_suite_model("minmax")
    windows = make_scenario_windows("normal", model.dataset_config, 3, 11, model.counts_per_g)
    np.save(tmp_path / "w.npy", windows.counts)
    result = subprocess.run([sys.executable, "-m", "harness", "infer", "--target", "qemu", "--bundle",
                             str(REPO / "fixtures" / "models" / "minmax.json"), "--input", str(tmp_path / "w.npy"),
                             "--output", str(tmp_path / "out.npz"), "--layers", "2"],
                            capture_output=True, text=True, timeout=280, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "out_layers.json").read_text())
    assert report["model"]["windows"] == 2 and len(report["model"]["layers"]) == 8   # the input + 7 ops
    assert (tmp_path / "out_layers.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "layers: " in result.stdout and "SOFTMAX #6" in result.stdout
    assert np.load(tmp_path / "out.npz")["outputs"].shape[0] == 3
