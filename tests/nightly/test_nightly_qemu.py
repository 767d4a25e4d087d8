"""Done-when of issue 8 part 6: two nightly runs against real QEMU, the second with a deliberately
worse model, report the regression and exit non-zero; hil history shows both runs.

The worse model is honest: a models folder whose ``robust`` is min-max's files renamed (the
metadata's name and file names adjusted, the sha256s unchanged), run with --models-dir under the
name ``robust``: it collapses on the device like min-max does.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from harness.paths import CHECKOUT_DIR as REPO_ROOT
from harness.suite.suite_model import MODELS_DIR

pytestmark = pytest.mark.hil_device

HIL = [sys.executable, "-m", "harness"]
FAST = ["--target", "qemu", "--models", "robust", "--windows", "8", "--sweep-windows", "1", "--no-progress"]


def hil(args, timeout_s=300) -> subprocess.CompletedProcess:
    return subprocess.run(HIL + [str(a) for a in args], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=timeout_s)


def worse_models(folder):
    """robust := minmax, renamed."""
    folder.mkdir()
    shutil.copy(MODELS_DIR / "minmax.tflite", folder / "robust.tflite")
    shutil.copy(MODELS_DIR / "minmax.float.tflite", folder / "robust.float.tflite")
    meta = json.loads((MODELS_DIR / "minmax.json").read_text())
    meta["name"] = "robust"
    meta["files"]["int8"]["name"], meta["files"]["float"]["name"] = "robust.tflite", "robust.float.tflite"
    (folder / "robust.json").write_text(json.dumps(meta, indent=2))
    return folder


def test_nightly_twice_on_qemu_second_with_a_worse_model(tmp_path):
    if shutil.which("qemu-system-arm") is None:
        pytest.skip("qemu-system-arm not on PATH")
    history, baseline = tmp_path / "history.parquet", tmp_path / "baseline.json"

    first = hil(["run", *FAST, "--out", tmp_path / "r1", "--nightly", "--history", history])
    assert first.returncode == 0, first.stdout + first.stderr
    assert "nightly: no regression" in first.stdout and "no previous run" in first.stdout
    pin = hil(["history", "--history", history, "--pin", baseline])
    assert pin.returncode == 0, pin.stdout + pin.stderr
    assert json.loads(baseline.read_text())["models"]["robust"]["verdict"] == "OK"

    second = hil(["run", *FAST, "--out", tmp_path / "r2", "--nightly", "--history", history, "--baseline", baseline,
                  "--models-dir", worse_models(tmp_path / "worse")])
    assert second.returncode == 1, second.stdout + second.stderr
    out = second.stdout
    assert "REGRESSION(S)" in out
    assert "robust: verdict OK -> COLLAPSED (worse than before) (vs previous run" in out
    assert f"robust: verdict OK -> COLLAPSED (worse than before) (vs baseline {baseline})" in out
    assert "robust: device recall of 'normal' fell from" in out
    # JUnit/HTML as usual
    assert (tmp_path / "r2" / "junit.xml").is_file() and (tmp_path / "r2" / "report.html").is_file()

    table = pd.read_parquet(history)
    assert table["run_id"].nunique() == 2 and list(table["verdict"]) == ["OK", "COLLAPSED"]
    assert table["model_sha256"].nunique() == 2          # the worse model's bytes are recorded
    assert (table["cost_unit"] == "instructions").all() and (table["cost_median"] > 0).all()
    assert table["firmware_build_id"].str.len().min() > 0

    shown = hil(["history", "--history", history, "--plot", tmp_path / "trend.png"])
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "2 run(s), 1 model(s)" in shown.stdout
    lines = [line for line in shown.stdout.splitlines() if "qemu/netduinoplus2" in line]
    assert len(lines) == 2
    assert "  OK " in lines[0] and "  COLLAPSED " in lines[1]
    assert (tmp_path / "trend.png").read_bytes()[:4] == b"\x89PNG"
