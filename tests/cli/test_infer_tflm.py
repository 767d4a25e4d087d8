"""hil infer --engine tflm: the TFLM tree comes from --tflm-dir (or HIL_TFLM_DIR / TFLM_DIR in the
environment), as for hil build and hil run; without one the command stops before any build,
naming both. The run against a real tree skips unless HIL_TFLM_DIR names one."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from harness.cli.main import main
from harness.paths import MODELS_DIR

MODEL = MODELS_DIR / "minmax.tflite"
TFLM_DIR = os.environ.get("HIL_TFLM_DIR")


def _codes(tmp_path, n: int = 3):
    from harness.models.inspect import read_model_info

    shape = read_model_info(MODEL.read_bytes()).inputs[0].shape
    codes = np.random.default_rng(5).integers(-128, 128, size=(n, *shape), dtype=np.int8)
    path = tmp_path / "codes.npy"
    np.save(path, codes)
    return path, codes


def _infer(tmp_path, *extra: str) -> list[str]:
    codes, _ = _codes(tmp_path)
    return ["infer", "--model", str(MODEL), "--input-codes", "--input", str(codes),
            "--output", str(tmp_path / "out.npz"), *extra]


def test_tflm_without_a_tree_names_the_option_and_the_variables(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("HIL_TFLM_DIR", raising=False)
    monkeypatch.delenv("TFLM_DIR", raising=False)
    assert main(_infer(tmp_path, "--engine", "tflm")) == 2
    err = capsys.readouterr().err
    assert "--engine tflm needs --tflm-dir DIR" in err
    assert "HIL_TFLM_DIR" in err and "TFLM_DIR" in err
    assert not (tmp_path / "out.npz").exists()


def test_hil_run_takes_the_same_option(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("HIL_TFLM_DIR", raising=False)
    monkeypatch.delenv("TFLM_DIR", raising=False)
    assert main(["run", "--engine", "tflm", "--models", "minmax", "--out", str(tmp_path / "out")]) == 2
    assert "--engine tflm needs --tflm-dir DIR" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # refused before any work


def test_tflm_dir_with_another_engine_is_refused(tmp_path, capsys):
    assert main(_infer(tmp_path, "--engine", "portable", "--tflm-dir", str(tmp_path))) == 2
    assert "--tflm-dir applies to --engine tflm only, not 'portable'" in capsys.readouterr().err


def test_the_tree_from_the_environment_reaches_the_build(tmp_path, capsys, monkeypatch):
    """TFLM_DIR in the environment is the tree when --tflm-dir is absent: make is asked for it (a
    tree without a library is make's error, naming the tree)."""
    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("make") is None:
        pytest.skip("arm-none-eabi-gcc or make not installed")
    monkeypatch.delenv("HIL_TFLM_DIR", raising=False)
    monkeypatch.setenv("TFLM_DIR", str(tmp_path / "no-tflm-here"))
    assert main(_infer(tmp_path, "--engine", "tflm")) == 2
    assert "no libtensorflow-microlite.a under " + str(tmp_path / "no-tflm-here") in capsys.readouterr().err


@pytest.mark.hil_device
@pytest.mark.skipif(not TFLM_DIR, reason="HIL_TFLM_DIR is not set: no TFLM tree to build the tflm engine against")
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm is not installed")
def test_infer_on_the_tflm_firmware_matches_the_oracle(tmp_path, capsys, monkeypatch):
    from harness.device.oracle import reference_outputs

    monkeypatch.delenv("HIL_TFLM_DIR", raising=False)  # the option alone carries the tree
    monkeypatch.delenv("TFLM_DIR", raising=False)
    assert main(_infer(tmp_path, "--engine", "tflm", "--tflm-dir", TFLM_DIR)) == 0
    assert "windows: 3" in capsys.readouterr().out
    _, codes = _codes(tmp_path)
    saved = np.load(tmp_path / "out.npz")
    assert np.array_equal(saved["input_codes"], codes)
    assert np.array_equal(saved["outputs"], reference_outputs(MODEL.read_bytes(), codes))
