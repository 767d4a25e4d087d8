"""The fold to int16 codes (a 16x8 model's input) against two independent oracles, over all counts:

* the TFLite quantization spec's formula, ``q = round(x / scale) + zero_point`` clamped to
  [-32768, 32767] (zero point 0 for int16), written here from the spec in float64, not through
  harness.quant.tflite;
* tflite_micro's own QUANTIZE kernel (float32 -> int16) run on a one-op float model holding the
  scaler's float32 output: what TFLite would feed a 16x8 model.

and the int16 calibration (scale = max(|min|, |max|) / 32767) against the converter's choice.
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.errors import QuantizationError
from harness.quant.fold import (ALL_COUNTS, AffineFold, compare_to_float_path, float_path_codes,
                                fold_from_export, fold_scaler)
from harness.quant.scalers import make_scaler
from harness.quant.tflite import (INT16_MAX, INT16_MIN, QuantParams, choose_int16_quantization_params,
                                  choose_params_for)

SENSITIVITIES = [2048.0, 16384.0]
AFFINE_CASES = [("minmax", {}), ("robust", {}), ("robust", {"clip": "none"}), ("zscore", {}),
                ("two_stage", {})]


def _calibration(seed=2):
    rng = np.random.default_rng(seed)
    g = rng.normal([0.0, 0.0, 1.0], [0.6, 0.4, 0.3], size=(5000, 3))
    g[100] = [1.0, -3.0, 9.13]      # the shock that sets min-max's range
    return g


def _fitted16(name, **params):
    scaler = make_scaler(name, **params).fit(_calibration())
    y = scaler.transform(_calibration())
    return scaler, choose_int16_quantization_params(y.min(), y.max())


def _grid(channels: int) -> np.ndarray:
    return np.repeat(ALL_COUNTS[:, None], channels, axis=1)


def _spec_codes(y: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """The spec's formula in float64 (round half away from zero, zero point 0, int16 clamp), and
    the distance of each y / scale from a rounding tie."""
    ratio = np.asarray(y, dtype=np.float64) / float(scale)
    rounded = np.sign(ratio) * np.floor(np.abs(ratio) + 0.5)
    tie_distance = np.abs(np.abs(ratio - np.trunc(ratio)) - 0.5)
    return np.clip(rounded, -32768, 32767).astype(np.int64), tie_distance


@pytest.mark.parametrize("name, params", AFFINE_CASES)
@pytest.mark.parametrize("counts_per_g", SENSITIVITIES)
def test_int16_fold_equals_the_spec_formula_over_all_counts(name, params, counts_per_g):
    scaler, quant = _fitted16(name, **params)
    fold = fold_scaler(scaler, quant, counts_per_g)
    assert isinstance(fold, AffineFold) and fold.code_bits == 16 and fold.zero_point == 0
    grid = _grid(scaler.input_channels)
    codes = fold.codes(grid)
    assert codes.dtype == np.int16
    expected, tie_distance = _spec_codes(scaler.transform(grid / counts_per_g), quant.scale)
    differ = codes.astype(np.int64) != expected
    # The fold's 2**-shift fixed point is within ~1e-9 code of the exact map: it can differ from
    # the exact formula only at a tie, by one code.
    assert np.abs(codes.astype(np.int64) - expected).max() <= 1
    assert differ.sum() <= 2, f"{differ.sum()} codes differ from the spec formula"
    if differ.any():
        assert tie_distance[differ].max() < 1e-6
    # the int16 range is used, not int8's
    assert codes.min() < -128 or codes.max() > 127


def test_int16_codes_reach_the_rails_and_keep_the_clip():
    scaler, quant = _fitted16("robust")          # clip +-4 IQR: the rails are +-4 / scale
    fold = fold_scaler(scaler, quant, 2048.0)
    assert quant.scale == pytest.approx(4.0 / INT16_MAX, rel=1e-6)
    assert list(fold.code_min) == [-32767] * 3 and list(fold.code_max) == [32767] * 3
    scaler, quant = _fitted16("minmax")          # no clip: the int16 rails
    fold = fold_scaler(scaler, quant, 2048.0)
    assert list(fold.code_min) == [INT16_MIN] * 3 and list(fold.code_max) == [INT16_MAX] * 3
    codes = fold.codes(np.array([[-32768, 0, 32767]]))
    assert codes[0, 0] == INT16_MIN and codes[0, 2] == INT16_MAX


@pytest.fixture(scope="module")
def tflm_quantize():
    """QUANTIZE float32 -> int16 on tflite_micro: returns f(values, scale) -> int16 codes."""
    runtime = pytest.importorskip("tflite_micro", reason="tflite-micro (PyPI) not installed").runtime
    from harness.engine.tflite_builder import BuiltinOp, ModelBuilder, QuantizeOptions

    def run(values: np.ndarray, scale: float) -> np.ndarray:
        flat = np.ascontiguousarray(values, dtype=np.float32).reshape(-1)
        b = ModelBuilder()
        x = b.add_tensor("x", (1, flat.size), "float32")
        y = b.add_tensor("y", (1, flat.size), "int16", scale=scale, zero_point=0)
        b.add_op(BuiltinOp.QUANTIZE, [x], [y], QuantizeOptions())
        interpreter = runtime.Interpreter.from_bytes(b.build(inputs=[x], outputs=[y]),
                                                     arena_size=8 * flat.size + 64 * 1024)
        interpreter.set_input(flat[None], 0)
        interpreter.invoke()
        out = np.array(interpreter.get_output(0))
        assert out.dtype == np.int16
        return out.reshape(np.shape(values))
    return run


@pytest.mark.parametrize("name, params", AFFINE_CASES)
def test_int16_fold_against_tflite_micro_quantize(tflm_quantize, name, params):
    scaler, quant = _fitted16(name, **params)
    counts_per_g = 2048.0
    grid = _grid(scaler.input_channels)
    y32 = scaler.transform(grid / counts_per_g).astype(np.float32)
    tflm = tflm_quantize(y32, quant.scale).astype(np.int64)
    # the harness's float path (float32 division, as the kernel) is TFLM's QUANTIZE, exactly
    np.testing.assert_array_equal(float_path_codes(scaler, quant, grid, counts_per_g), tflm)
    codes = fold_scaler(scaler, quant, counts_per_g).codes(grid).astype(np.int64)
    differ = codes != tflm
    assert np.abs(codes - tflm).max() <= 1
    if differ.any():
        # float32 rounds y and y / scale (2**-24 relative each): near a tie TFLite's own codes
        # move by one; at |y / scale| <= 32768 that is within 32768 * 2**-22 of the tie
        ratio = y32.astype(np.float64) / quant.scale
        tie_distance = np.abs(np.abs(ratio - np.trunc(ratio)) - 0.5)
        assert tie_distance[differ].max() < 32768 * 2.0 ** -22
        assert differ.mean() < 1e-3


def test_int16_calibration_is_symmetric_as_the_converter_makes_it():
    params = choose_int16_quantization_params(-0.5, 2.0)
    assert params.zero_point == 0 and params.scale == float(np.float32(2.0 / 32767))
    assert (params.qmin, params.qmax, params.levels, params.dtype) == (-32768, 32767, 65536, "int16")
    assert choose_params_for(0.0, 1.0, "int16").scale == float(np.float32(1 / 32767))
    assert choose_params_for(0.0, 1.0, "int8") == QuantParams(float(np.float32(1 / 255)), -128)
    with pytest.raises(QuantizationError, match="single point 0"):
        choose_int16_quantization_params(0.0, 0.0)
    with pytest.raises(QuantizationError, match="int8 or int16"):
        choose_params_for(0.0, 1.0, "int4")
    with pytest.raises(QuantizationError, match="requires 0"):
        QuantParams.for_dtype(0.01, 3, "int16")


def test_int16_calibration_equals_the_committed_16x8_models():
    """The converter's input scale of minmax_16x8 and robust_16x8 is max(|min|, |max|) / 32767 of
    the scaled calibration set: the same parameters the suite's recommendations assume."""
    from harness.bundle.load import load_bundle
    from harness.models.dataset import DatasetConfig, make_dataset
    from harness.paths import MODELS_DIR
    names = [n for n in ("minmax_16x8", "robust_16x8") if (MODELS_DIR / f"{n}.json").is_file()]
    if not names:
        pytest.skip(f"no 16x8 bundle in {MODELS_DIR}")
    for name in names:
        bundle = load_bundle(MODELS_DIR / f"{name}.json")
        dataset = make_dataset(DatasetConfig(**bundle.metadata.training["dataset"]))
        y = bundle.scaler.transform(dataset.calibration_g).astype(np.float32)
        params = choose_int16_quantization_params(y.min(), y.max())
        assert (params.scale, params.zero_point) == (bundle.metadata.input["scale"],
                                                     bundle.metadata.input["zero_point"]), name


def test_int16_fold_export_round_trip_and_int8_export_unchanged():
    scaler, quant16 = _fitted16("robust")
    fold = fold_scaler(scaler, quant16, 4096.0)
    exported = fold.export()
    assert exported["code_bits"] == 16
    again = fold_from_export(exported)
    np.testing.assert_array_equal(again.codes(_grid(3)), fold.codes(_grid(3)))
    y = scaler.transform(_calibration())
    int8 = fold_scaler(scaler, choose_params_for(y.min(), y.max()), 4096.0).export()
    assert "code_bits" not in int8            # int8 exports keep their bytes
    with pytest.raises(QuantizationError, match="code_bits 12"):
        fold_from_export(dict(exported, code_bits=12))


def test_non_affine_scaler_at_int16_is_refused_by_name():
    scaler = make_scaler("log1p").fit(_calibration())
    y = scaler.transform(_calibration())
    with pytest.raises(QuantizationError, match="log1p.*not affine.*65535"):
        fold_scaler(scaler, choose_int16_quantization_params(y.min(), y.max()), 2048.0)


def test_compare_to_float_path_bounds_int16_ties():
    scaler, quant = _fitted16("minmax")
    comparison = compare_to_float_path(scaler, quant, 2048.0)
    assert comparison.evaluated == 3 * 65536
    assert comparison.max_code_difference <= 1
    assert comparison.max_tie_distance < 32768 * 2.0 ** -22
