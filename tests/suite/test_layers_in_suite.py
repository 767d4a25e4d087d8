"""Where in the network, in the suite: a non-OK model's reasons name the layer where its error
appears, with the figure (from the device's own per-layer dump); an OK model's carry none."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.hil_device, pytest.mark.timeout(400)]
REPO = Path(__file__).resolve().parents[2]


def test_minmax_names_the_layer_and_robust_none(tmp_path):
    result = subprocess.run([sys.executable, "-m", "harness", "run", "--models", "minmax,robust", "--windows", "8",
                             "--sweep-windows", "1", "--no-progress", "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=380, cwd=REPO)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    minmax, robust = json.loads((tmp_path / "summary.json").read_text())["models"]
    where = [r for r in minmax["reasons"] if r.startswith("where in the network")]
    assert len(where) == 1 and "the loss starts at the input" in where[0] and "CONV_2D #1 already has SQNR" in where[0]
    layers = minmax["layers"]
    assert layers["has_jump"] and layers["starts_at_input"]
    sqnr = {f["label"]: f["sqnr_db"] for f in layers["model"]["layers"]}
    assert layers["model"]["first_lossy"] == "CONV_2D #3" and layers["model"]["jump"]["layer"] == "FULLY_CONNECTED #5"
    assert sqnr["SOFTMAX #6"] < 20.0 < sqnr["input"]          # the figure behind the words
    assert robust["layers"] is None and not any(r.startswith("where in the network") for r in robust["reasons"])
    assert "SQNR per layer" in (tmp_path / "report.html").read_text()
