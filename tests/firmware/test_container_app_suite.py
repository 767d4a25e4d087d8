"""The team's own firmware through the main job: hil run --firmware app.elf --bundle b.json on the
product-style example (examples/container_app), built from its own Makefile. Its outlier-fitted
min-max is COLLAPSED; the variant with the field report's int8-wrap cast in its C is a
PREPROCESSING MISMATCH naming the first window and element; its robust variant is OK."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from test_container_app import APP_DIR, REPO

pytestmark = [
    pytest.mark.hil_device, pytest.mark.timeout(600),
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("make") is None,
                       reason="arm-none-eabi-gcc and make are needed to build the example"),
]
FAST = ["--windows", "16", "--sweep-windows", "1", "--no-progress"]


def judge(variant: str, bundle: str, tmp_path):
    build_dir = tmp_path / variant
    built = subprocess.run(["make", "-C", str(APP_DIR), "-j2", f"VARIANT={variant}", f"BUILD_DIR={build_dir}"],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout + built.stderr
    out = tmp_path / f"out_{variant}"
    result = subprocess.run([sys.executable, "-m", "harness", "run", "--firmware", str(build_dir / "app.elf"),
                             "--bundle", str(REPO / "fixtures" / "models" / f"{bundle}.json"), "--out", str(out), *FAST],
                            capture_output=True, text=True, timeout=500, cwd=tmp_path)
    model, = json.loads((out / "summary.json").read_text())["models"]
    return result, model


def test_the_app_s_outlier_fitted_min_max_is_collapsed(tmp_path):
    result, model = judge("minmax", "minmax", tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]     # the bundle expects COLLAPSED
    assert (model["verdict"], model["input_verdict"]) == ("COLLAPSED", "COLLAPSED"), model["reasons"]
    assert model["preprocessing"]["status"] == "OK" and model["preprocessing"]["max_lsb"] <= 1
    assert model["exact_share"] == 1.0 and "firmware " in result.stderr and "app.elf" in result.stderr


def test_the_field_report_s_int8_wrap_is_a_preprocessing_mismatch(tmp_path):
    result, model = judge("minmax_wrap", "minmax", tmp_path)
    assert result.returncode == 1
    assert model["verdict"] == "PREPROCESSING MISMATCH", model["reasons"]
    first = model["preprocessing"]["first"][0]
    assert (first["scenario"], first["window"], first["element"]) == ("normal", 0, 0)
    assert first["actual"] - first["expected"] == 128          # the missing zero point, as the seed's cast
    assert model["reasons"][0].startswith("PREPROCESSING MISMATCH: ")
    assert "normal window 0 element 0 (sample 0, channel 0)" in model["reasons"][0]
    assert "device_preprocessing_matches_the_bundle" in result.stdout
    assert model["device_status"] == "OK"                       # not a device fault


def test_the_app_s_robust_variant_is_ok(tmp_path):
    result, model = judge("robust", "robust", tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]
    assert (model["verdict"], model["device_status"], model["exact_share"]) == ("OK", "OK", 1.0)
    p = model["preprocessing"]
    assert p["status"] == "OK" and p["max_lsb"] <= 1 and p["differing"] <= 0.001 * p["elements"]


def test_a_firmware_carrying_another_model_is_refused_before_streaming(tmp_path):
    build_dir = tmp_path / "robust"
    built = subprocess.run(["make", "-C", str(APP_DIR), "-j2", "VARIANT=robust", f"BUILD_DIR={build_dir}"],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0
    result = subprocess.run([sys.executable, "-m", "harness", "run", "--firmware", str(build_dir / "app.elf"),
                             "--bundle", str(REPO / "fixtures" / "models" / "minmax.json"), "--out",
                             str(tmp_path / "out"), *FAST], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 2
    assert "runs its linked model (CRC-32" in result.stderr and "cannot take an upload" in result.stderr


def test_the_plugin_judges_the_same_firmware(pytester, tmp_path):
    """The pytest plugin's equivalent: --hil-firmware and a bundle path in --hil-models."""
    build_dir = tmp_path / "wrap"
    built = subprocess.run(["make", "-C", str(APP_DIR), "-j2", "VARIANT=minmax_wrap", f"BUILD_DIR={build_dir}"],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0
    pytester.makepyfile("from harness.suite.acceptance.test_acceptance import *  # noqa\n")
    result = pytester.runpytest("-p", "no:cacheprovider", f"--hil-firmware={build_dir / 'app.elf'}",
                                f"--hil-models={REPO / 'fixtures' / 'models' / 'minmax.json'}",
                                "--hil-windows=8", "--hil-sweep-windows=1")
    from harness.suite.checks import CHECKS
    result.assert_outcomes(passed=len(CHECKS) - 1, failed=1)   # one test per check; only the preprocessing one fails
    result.stdout.fnmatch_lines(["*PREPROCESSING MISMATCH: *", "*FAILED*test_device_preprocessing_matches_the_bundle*"])
