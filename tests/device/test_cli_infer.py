"""hil infer / hil load on QEMU, in process (the CLI is a thin layer over harness.device)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.cli.main import main
from harness.device.synthetic_models import window_classifier
from harness.device.oracle import reference_outputs
from harness.link.frame import crc32
from harness.quant.fold import fold_scaler
from harness.quant.scalers import make_scaler
from harness.quant.tflite import QuantParams
from harness.signals.io import write_trace
from harness.signals.synth import make_scenario

from device_cases import COUNTS_PER_G

MODEL = window_classifier(3, seed=21)
INPUT_SCALE, INPUT_ZERO_POINT = 1.0 / 128, 0  # window_classifier's input quantization


@pytest.fixture
def files(tmp_path):
    model = tmp_path / "m.tflite"
    model.write_bytes(MODEL)
    scaler = make_scaler("robust").fit(make_scenario("normal", seconds=2.0, seed=1)[["ax_g", "ay_g", "az_g"]].to_numpy())
    (tmp_path / "scaler.json").write_text(json.dumps(scaler.export()))
    fold = fold_scaler(scaler, QuantParams(INPUT_SCALE, INPUT_ZERO_POINT), COUNTS_PER_G)
    return tmp_path, model, fold


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_infer_trace_file_to_npz(pipeline_image, files, capsys):
    tmp_path, model, fold = files
    trace = make_scenario("mixed", seconds=1.0, seed=3)
    write_trace(trace, tmp_path / "trace.parquet")
    status, out, err = run_cli(capsys, "infer", "--elf", str(pipeline_image.elf), "--model", str(model),
                               "--scaler-from", str(tmp_path / "scaler.json"), "--input",
                               str(tmp_path / "trace.parquet"), "--output", str(tmp_path / "out.npz"))
    assert status == 0, err
    assert f"model_crc32: {crc32(MODEL):08x}" in out and "equal to the host mirror" in out
    saved = np.load(tmp_path / "out.npz")
    n = len(trace) // 128
    assert saved["input_codes"].shape == (n, 1, 128, 1, 3) and saved["cost"].shape == (n,)
    assert str(saved["cost_unit"]) == "instructions"
    counts = np.clip(np.round(trace[["ax_g", "ay_g", "az_g"]].to_numpy()[:n * 128] * COUNTS_PER_G),
                     -32768, 32767).astype(np.int16).reshape(n, 128, 3)
    assert np.array_equal(saved["input_codes"].reshape(n, -1), fold.codes(counts).reshape(n, -1))
    assert np.array_equal(saved["outputs"], reference_outputs(MODEL, saved["input_codes"]))


def test_infer_input_codes_and_counts_npy(pipeline_image, files, capsys):
    tmp_path, model, fold = files
    codes = np.random.default_rng(0).integers(-128, 128, size=(5, 1, 128, 1, 3), dtype=np.int8)
    np.save(tmp_path / "codes.npy", codes)
    status, out, err = run_cli(capsys, "infer", "--elf", str(pipeline_image.elf), "--model", str(model),
                               "--input", str(tmp_path / "codes.npy"), "--input-codes",
                               "--output", str(tmp_path / "codes_out.npz"))
    assert status == 0, err
    saved = np.load(tmp_path / "codes_out.npz")
    assert np.array_equal(saved["input_codes"], codes)
    assert np.array_equal(saved["outputs"], reference_outputs(MODEL, codes))


def test_infer_bad_window_length_is_a_clear_error(pipeline_image, files, capsys):
    tmp_path, model, _ = files
    np.save(tmp_path / "short.npy", np.zeros((2, 100, 3), dtype=np.int16))
    status, _, err = run_cli(capsys, "infer", "--elf", str(pipeline_image.elf), "--model", str(model),
                             "--scaler-from", str(tmp_path / "scaler.json"), "--input", str(tmp_path / "short.npy"),
                             "--output", str(tmp_path / "x.npz"))
    assert status == 2 and "(n, 128, axes)" in err


def test_infer_without_scaler_says_what_to_pass(pipeline_image, files, capsys):
    tmp_path, model, _ = files
    np.save(tmp_path / "w.npy", np.zeros((1, 128, 3), dtype=np.int16))
    status, _, err = run_cli(capsys, "infer", "--elf", str(pipeline_image.elf), "--model", str(model),
                             "--input", str(tmp_path / "w.npy"), "--output", str(tmp_path / "x.npz"))
    assert status == 2 and "--scaler-from" in err


def test_load_prints_the_device_description(pipeline_image, files, capsys):
    _, model, _ = files
    status, out, err = run_cli(capsys, "load", "--elf", str(pipeline_image.elf), "--model", str(model))
    assert status == 0, err
    assert f"model_crc32: {crc32(MODEL):08x}" in out
    assert "input: int8 [1, 128, 1, 3]" in out and "model_source: uploaded" in out
