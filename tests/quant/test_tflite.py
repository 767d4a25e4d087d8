"""TFLite INT8 math: hand-computed cases from the spec, the TFLM runtime, and exact big-int oracles."""

from __future__ import annotations

import numpy as np
import pytest

from harness.errors import QuantizationError
from harness.quant.tflite import (
    QuantParams, choose_quantization_params, dequantize, fake_quantize, multiply_by_quantized_multiplier,
    quantize, quantize_multiplier, round_half_away_from_zero, rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul)


# --- choose_quantization_params: hand-computed from quantization_util.h ------------------------

@pytest.mark.parametrize("real_min, real_max, scale, zero_point", [
    # [0, 1]: scale 1/255; zero point from min: -128 - 0 = -128
    (0.0, 1.0, 1.0 / 255.0, -128),
    # [-1, 1]: scale 2/255; from max (smaller terms): 127 - 127.5 = -0.5 -> half away -> -1
    (-1.0, 1.0, 2.0 / 255.0, -1),
    # [-2, 6]: scale 8/255; from min: -128 + 63.75 = -64.25 -> -64
    (-2.0, 6.0, 8.0 / 255.0, -64),
    # [0.5, 2] extends to [0, 2]: zero must be exact, so the zero point is -128
    (0.5, 2.0, 2.0 / 255.0, -128),
    # [-3, -1] extends to [-3, 0]: zero point 127
    (-3.0, -1.0, 3.0 / 255.0, 127),
    # tie in the zero point: -128 + 1.5 = -126.5 -> -127 (numpy's half-to-even would say -126)
    (-1.5, 253.5, 1.0, -127),
])
def test_choose_quantization_params_hand_cases(real_min, real_max, scale, zero_point):
    params = choose_quantization_params(real_min, real_max)
    assert params.scale == float(np.float32(scale))
    assert params.zero_point == zero_point
    assert (params.qmin, params.qmax) == (-128, 127)


def test_narrow_range_drops_lowest_code():
    params = choose_quantization_params(-1.0, 1.0, narrow_range=True)
    assert params.qmin == -127
    assert params.scale == float(np.float32(2.0 / 254.0))
    assert params.zero_point == 0


def test_real_zero_is_exact_and_range_is_covered():
    for lo, hi in [(-0.37, 5.2), (-11.0, 0.3), (0.0, 8.13), (-16.0, 16.0)]:
        params = choose_quantization_params(lo, hi)
        assert quantize([0.0], params)[0] == params.zero_point
        assert dequantize(np.array([params.zero_point]), params)[0] == 0.0
        assert params.real_min <= min(lo, 0) + params.scale
        assert params.real_max >= max(hi, 0) - params.scale


@pytest.mark.parametrize("lo, hi", [(0.0, 0.0), (np.nan, 1.0), (0.0, np.inf), (2.0, 1.0)])
def test_choose_quantization_params_rejects_degenerate_ranges(lo, hi):
    with pytest.raises(QuantizationError):
        choose_quantization_params(lo, hi)


def test_quant_params_validate():
    with pytest.raises(QuantizationError):
        QuantParams(scale=0.0, zero_point=0)
    with pytest.raises(QuantizationError):
        QuantParams(scale=1.0, zero_point=200)
    assert QuantParams.from_dict(QuantParams(0.5, -3).to_dict()) == QuantParams(0.5, -3)


# --- quantize / dequantize --------------------------------------------------------------------

def test_round_half_away_from_zero_is_not_numpy_round():
    ties = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])
    assert round_half_away_from_zero(ties).tolist() == [-3, -2, -1, 1, 2, 3]
    assert np.round(ties).tolist() == [-2, -2, -0, 0, 2, 2]


def test_quantize_hand_cases():
    unit = QuantParams(scale=1.0, zero_point=0)
    values = [-2.5, -1.5, -1.3, -0.5, -0.49, 0.0, 0.49, 0.5, 1.3, 1.5, 2.5, 200.0, -200.0,
              np.inf, -np.inf]
    assert quantize(values, unit).tolist() == [-3, -2, -1, -1, 0, 0, 0, 1, 1, 2, 3, 127, -128,
                                               127, -128]
    assert quantize(values, unit).dtype == np.int8
    # zero point added after rounding: -0.5 -> -1 -> -1 + (-128) saturates at -128
    shifted = QuantParams(scale=1.0, zero_point=-128)
    assert quantize([-0.5, 0.5, 127.5, 254.4, 255.0], shifted).tolist() == [-128, -127, 0, 126, 127]


def test_quantize_divides_in_float32_like_the_kernel():
    # float32(0.25) / float32(0.1) is exactly 2.5 in float32 (-> 3) but 2.4999999627 in float64 (-> 2)
    params = QuantParams(scale=float(np.float32(0.1)), zero_point=0)
    assert quantize([0.25], params)[0] == 3
    assert int(np.round(0.25 / params.scale)) == 2


def test_quantize_rejects_nan():
    with pytest.raises(QuantizationError, match="NaN"):
        quantize([0.0, np.nan], QuantParams(1.0, 0))


def test_dequantize_and_fake_quantize():
    params = choose_quantization_params(0.0, 1.0)
    codes = np.array([-128, -1, 0, 127], dtype=np.int8)
    expected = np.float32(params.scale) * (codes.astype(np.float64) + 128)
    np.testing.assert_array_equal(dequantize(codes, params), expected.astype(np.float32))
    assert dequantize(codes, params).dtype == np.float32
    # float32(1/255) is slightly above 1/255, so 0.5 / scale is just below the 127.5 tie -> 127 - 128
    np.testing.assert_allclose(fake_quantize([0.5], params), [127 / 255], rtol=1e-6)
    with pytest.raises(QuantizationError):
        dequantize(np.array([0.5]), params)


# --- the TFLite Micro runtime as oracle --------------------------------------------------------

ORACLE_PARAMS = [(1.0, 0), (1.0 / 255.0, -128), (2.0 / 255.0, -1), (float(np.float32(0.1)), 0),
                 (0.0313725508749485, -64), (0.0117647061124444, 127), (0.0523, 17)]


@pytest.mark.parametrize("scale, zero_point", ORACLE_PARAMS)
def test_quantize_matches_tflm_reference_kernel(tflm_kernel, scale, zero_point):
    rng = np.random.default_rng(7)
    params = QuantParams(scale=float(np.float32(scale)), zero_point=zero_point)
    ties = (np.arange(-300, 300) + 0.5) * np.float32(scale)
    values = np.concatenate([rng.uniform(-200, 200, 2000) * scale, ties, [0.25, -0.25, 1e6, -1e6]])
    values = values.astype(np.float32)
    np.testing.assert_array_equal(quantize(values, params),
                                  tflm_kernel("QUANTIZE", values, params.scale, zero_point))


def test_quantize_beyond_int32_saturates_where_tflm_on_x86_wraps(tflm_kernel):
    # static_cast<int32_t>(1e30f) is undefined in C++: x86 gives INT32_MIN (-> code -128), the
    # Cortex-M4 VCVT saturates (-> 127). The mirror saturates, as the device does.
    params = QuantParams(scale=1.0, zero_point=0)
    assert quantize([1e30], params)[0] == 127
    assert tflm_kernel("QUANTIZE", np.array([1e30]), 1.0, 0)[0] in (-128, 127)


@pytest.mark.parametrize("scale, zero_point", ORACLE_PARAMS)
def test_dequantize_matches_tflm_reference_kernel(tflm_kernel, scale, zero_point):
    params = QuantParams(scale=float(np.float32(scale)), zero_point=zero_point)
    codes = np.arange(-128, 128, dtype=np.int8)
    np.testing.assert_array_equal(dequantize(codes, params),
                                  tflm_kernel("DEQUANTIZE", codes, params.scale, zero_point))


# --- fixed-point multipliers against exact big-int versions of the C code -----------------------

def _srdhm_exact(a: int, b: int) -> int:
    if a == b == -(1 << 31):
        return (1 << 31) - 1
    ab = a * b
    total = ab + ((1 << 30) if ab >= 0 else 1 - (1 << 30))
    return int(abs(total) // (1 << 31)) * (1 if total >= 0 else -1)  # C truncation


def _rdbpot_exact(x: int, exponent: int) -> int:
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def test_quantize_multiplier_hand_cases():
    assert quantize_multiplier(0.5) == (1 << 30, 0)
    assert quantize_multiplier(1.0) == (1 << 30, 1)
    assert quantize_multiplier(0.25) == (1 << 30, -1)
    assert quantize_multiplier(0.75) == (1610612736, 0)
    assert quantize_multiplier(1.0 - 2.0 ** -40) == (1 << 30, 1)  # rounds up to 2**31: renormalised
    assert quantize_multiplier(2.0 ** -40) == (0, 0)                # flushed, as TFLite does
    assert quantize_multiplier(0.0) == (0, 0)
    with pytest.raises(QuantizationError):
        quantize_multiplier(-1.0)


def test_quantize_multiplier_reconstructs_the_real_value():
    for real in np.geomspace(1e-6, 1e3, 200):
        multiplier, shift = quantize_multiplier(real)
        assert (1 << 30) <= multiplier < (1 << 31)
        assert abs(multiplier * 2.0 ** (shift - 31) - real) <= real * 2.0 ** -31


def test_srdhm_and_rounding_divide_match_exact_integers():
    rng = np.random.default_rng(3)
    a = rng.integers(-(1 << 31), 1 << 31, 4000)
    b = rng.integers(-(1 << 31), 1 << 31, 4000)
    a[:3] = [-(1 << 31), -3 * (1 << 30) // 3, 3]
    b[:3] = [-(1 << 31), 1 << 30, 1 << 30]
    got = saturating_rounding_doubling_high_mul(a, b)
    assert got.tolist() == [_srdhm_exact(int(x), int(y)) for x, y in zip(a, b)]
    assert got[0] == (1 << 31) - 1
    exponents = rng.integers(0, 32, 4000)
    got = rounding_divide_by_pot(a, exponents)
    assert got.tolist() == [_rdbpot_exact(int(x), int(e)) for x, e in zip(a, exponents)]
    # ties go away from zero
    assert rounding_divide_by_pot([5, -5, 6, -6, 7, -7], [1, 1, 2, 2, 2, 2]).tolist() == [3, -3, 2, -2, 2, -2]


def test_multiply_by_quantized_multiplier():
    # 0.5 = (2**30, 0): 3 * 0.5 = 1.5 -> 2; -3 * 0.5 -> -1 (gemmlowp's high-mul rounds ties up)
    assert multiply_by_quantized_multiplier([100, 3, -3], 1 << 30, 0).tolist() == [50, 2, -1]
    rng = np.random.default_rng(5)
    for real in [0.0001234, 0.37, 0.9999, 1.5, 7.25]:
        multiplier, shift = quantize_multiplier(real)
        x = rng.integers(-(1 << 20), 1 << 20, 2000)
        got = multiply_by_quantized_multiplier(x, multiplier, shift)
        left = max(shift, 0)
        expected = [_rdbpot_exact(_srdhm_exact(int(v) << left, multiplier), max(-shift, 0)) for v in x]
        assert got.tolist() == expected
        assert np.abs(got - x * real).max() <= 1.0
    with pytest.raises(QuantizationError, match="overflows"):
        multiply_by_quantized_multiplier([1 << 30], *quantize_multiplier(7.25))
