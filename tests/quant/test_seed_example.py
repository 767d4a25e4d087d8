"""The field report's example (../shared/seed) as a regression test."""

from __future__ import annotations

import numpy as np

from harness.quant.scalers import make_scaler
from harness.quant.tflite import choose_quantization_params, quantize


def _seed_data():
    normal_data = np.linspace(0.2, 1.5, 100)
    return np.concatenate([normal_data, np.array([8.13])])


def test_seed_minmax_collapses_normal_data_to_43_codes():
    data = _seed_data()
    normalized = make_scaler("minmax").fit(data).transform(data)
    params = choose_quantization_params(normalized.min(), normalized.max())
    assert params.zero_point == -128 and params.scale == float(np.float32(1 / 255))
    codes = quantize(normalized, params)
    assert len(np.unique(codes[:100])) == 43
    assert len(np.unique(codes)) == 44
    # the normal band 0.2-1.5 g occupies codes -128..-86; the spike alone takes the top code
    assert codes[:100].min() == -128 and codes[:100].max() == -86 and codes[-1] == 127


def test_seed_code_wraps_above_127_and_the_tflite_mapping_does_not():
    data = _seed_data()
    normalized = (data - data.min()) / (data.max() - data.min())
    # the report's own quantization: 0..255 cast straight to int8
    unsigned = np.round(normalized * 255)
    seed_codes = unsigned.astype(np.int8)
    assert unsigned[-1] == 255
    # 255 does not fit int8: numpy (x86-64, aarch64) wraps it modulo 256 to -1, so the 8.13 g
    # spike lands *below* every normal sample (codes 0..42)
    assert seed_codes[-1] == -1
    assert seed_codes[-1] < seed_codes[:100].min()
    assert len(np.unique(seed_codes[:100])) == 43 and len(np.unique(seed_codes)) == 44
    # with the zero point -128 of a [0, 1] INT8 tensor the order is kept
    codes = quantize(normalized, choose_quantization_params(0.0, 1.0))
    assert codes[-1] == 127 and np.all(np.diff(codes.astype(int)) >= 0)
    np.testing.assert_array_equal(codes.astype(int) + 128, unsigned.astype(int))
