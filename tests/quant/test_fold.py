"""The folded integer map (counts -> codes) against the float path, exhaustively over int16."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.errors import QuantizationError
from harness.quant.fold import (
    ALL_COUNTS, AffineFold, ThresholdFold, compare_to_float_path, float_path_codes, fold_affine,
    fold_from_export, fold_scaler, fold_thresholds)
from harness.quant.scalers import make_scaler
from harness.quant.tflite import choose_quantization_params

# LSB per g of a 16-bit sensor at +-16, +-8, +-4, +-2 g full scale
SENSITIVITIES = [2048.0, 4096.0, 8192.0, 16384.0]


def _calibration(seed=2):
    rng = np.random.default_rng(seed)
    g = rng.normal([0.0, 0.0, 1.0], [0.6, 0.4, 0.3], size=(5000, 3))
    g[100] = [1.0, -3.0, 9.13]
    return g


def _fitted(name, **params):
    scaler = make_scaler(name, **params).fit(_calibration())
    y = scaler.transform(_calibration())
    return scaler, choose_quantization_params(y.min(), y.max())


AFFINE_CASES = [("minmax", {}), ("robust", {}), ("robust", {"clip": "none"}), ("zscore", {}),
                ("zscore", {"clip": "clip"}), ("two_stage", {})]


@pytest.mark.parametrize("name, params", AFFINE_CASES)
@pytest.mark.parametrize("counts_per_g", SENSITIVITIES)
def test_affine_fold_equals_float_path_except_at_ties(name, params, counts_per_g):
    scaler, quant = _fitted(name, **params)
    comparison = compare_to_float_path(scaler, quant, counts_per_g, bias_counts=-37.0)
    assert comparison.evaluated == 65536 * scaler.output_channels
    # Differences are allowed only one code wide and only within 1e-4 of a rounding tie;
    # in practice there are none for these configurations.
    assert comparison.max_code_difference <= 1
    assert comparison.max_tie_distance < 1e-4
    assert comparison.mismatches <= 2


def test_fold_arithmetic_stays_inside_int64_and_int32_multiplier():
    for name, params in AFFINE_CASES:
        scaler, quant = _fitted(name, **params)
        for counts_per_g in SENSITIVITIES:
            fold = fold_affine(scaler, quant, counts_per_g, bias_counts=100.0)
            assert np.all(np.abs(fold.multiplier) < 2 ** 31)
            assert np.all((fold.shift >= 1) & (fold.shift <= 62))
            worst = 32768 * np.abs(fold.multiplier) + np.abs(fold.offset) + 2 ** (fold.shift - 1)
            assert np.all(worst < 2 ** 62)


def test_fold_keeps_precision():
    # the multiplier carries 31 significant bits: relative error of the gain < 2**-30
    scaler, quant = _fitted("robust")
    fold = fold_affine(scaler, quant, 2048.0)
    form = scaler.affine_form()
    exact = form.gain / (2048.0 * quant.scale)
    np.testing.assert_allclose(fold.multiplier / 2.0 ** fold.shift, exact, rtol=2 ** -30)


def test_clip_narrows_the_code_rails():
    scaler, _ = _fitted("robust", clip_lo=-1.0, clip_hi=1.0)
    wide = choose_quantization_params(-4.0, 4.0)  # quantizer wider than the clip
    fold = fold_affine(scaler, wide, 2048.0)
    # [-4, 4]: scale 8/255, zero point -1; +-1 / scale = +-31.875 -> +-32, minus 1
    assert fold.code_min.tolist() == [-33] * 3 and fold.code_max.tolist() == [31] * 3
    codes = fold.codes(np.repeat(ALL_COUNTS[:, None], 3, axis=1))
    assert codes.min() == -33 and codes.max() == 31
    np.testing.assert_array_equal(codes, float_path_codes(scaler, wide, np.repeat(ALL_COUNTS[:, None], 3, axis=1), 2048.0))


@pytest.mark.parametrize("counts_per_g", SENSITIVITIES)
def test_log1p_threshold_table_is_exact(counts_per_g):
    scaler, quant = _fitted("log1p")
    comparison = compare_to_float_path(scaler, quant, counts_per_g)
    assert comparison.mismatches == 0
    fold = fold_scaler(scaler, quant, counts_per_g)
    assert isinstance(fold, ThresholdFold)
    assert fold.thresholds.shape == (3, 255)
    assert np.all(np.diff(fold.thresholds, axis=1) >= 0)


def test_threshold_and_affine_folds_agree_on_affine_scalers():
    # two independent integer forms of the same map
    scaler, quant = _fitted("two_stage")
    grid = np.repeat(ALL_COUNTS[:, None], 3, axis=1)
    affine = fold_affine(scaler, quant, 4096.0).codes(grid)
    table = fold_thresholds(scaler, quant, 4096.0).codes(grid)
    assert np.count_nonzero(affine != table) <= 2


@pytest.mark.parametrize("name", ["minmax", "robust", "log1p", "two_stage"])
def test_fold_export_round_trip(name):
    scaler, quant = _fitted(name)
    fold = fold_scaler(scaler, quant, 2048.0)
    rebuilt = fold_from_export(json.loads(json.dumps(fold.export())))
    assert type(rebuilt) is type(fold)
    grid = np.repeat(ALL_COUNTS[::7, None], 3, axis=1)
    np.testing.assert_array_equal(rebuilt.codes(grid), fold.codes(grid))


def test_codes_keep_leading_shape():
    scaler, quant = _fitted("two_stage")
    fold = fold_scaler(scaler, quant, 2048.0)
    windows = np.zeros((4, 128, 3), dtype=np.int16)
    assert fold.codes(windows).shape == (4, 128, 6)
    assert isinstance(fold, AffineFold)


def test_bad_inputs():
    scaler, quant = _fitted("minmax")
    fold = fold_scaler(scaler, quant, 2048.0)
    with pytest.raises(QuantizationError, match="integers"):
        fold.codes(np.zeros((3, 3)))
    with pytest.raises(QuantizationError, match="int16"):
        fold.codes(np.full((1, 3), 40000))
    with pytest.raises(QuantizationError, match="3 axes"):
        fold.codes(np.zeros((3, 2), dtype=np.int16))
    with pytest.raises(QuantizationError, match="counts_per_g"):
        fold_scaler(scaler, quant, 0.0)
    with pytest.raises(QuantizationError, match="unknown fold kind"):
        fold_from_export({"kind": "spline", "channels": []})
