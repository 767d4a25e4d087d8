"""The team's own model of tests/data/activity as bundles, made the way a team makes them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ACTIVITY = REPO / "tests" / "data" / "activity"
CLASSES = "idle,walking,running,handling"
HIL = [sys.executable, "-m", "harness"]


def bundle_args(variant: str, out: Path, *extra: str) -> list[str]:
    args = ["bundle", "--int8", str(ACTIVITY / f"activity_{variant}.tflite"),
            "--float", str(ACTIVITY / f"activity_{variant}.float.tflite"),
            "--scaler", str(ACTIVITY / f"scaler_{variant}.pkl"), "--classes", CLASSES,
            "--calibration", str(ACTIVITY / "calibration.csv"), "--recording", str(ACTIVITY / "recording.csv"),
            "--label-column", "activity", "--columns", "acc_x,acc_y,acc_z", "--time-column", "t_s",
            "--rate-hz", "50", "--hop", "16", "--out", str(out)]
    if variant == "robust":
        args.append("--clip=-8:8")   # what make_activity_model.py applies after RobustScaler
    return args + list(extra)


def hil(args, cwd, timeout_s: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(HIL + list(args), cwd=cwd, capture_output=True, text=True, timeout=timeout_s)


def make_bundle(variant: str, folder: Path, *extra: str) -> Path:
    out = folder / f"activity_{variant}.json"
    result = hil(bundle_args(variant, out, *extra), folder)
    assert result.returncode == 0, result.stderr
    return out
