"""Band metrics and verdicts on int16 input codes (16x8 models), against figures computed by hand.

The trace: one channel, min-max fitted on [-8, 8] g, so y = (g + 8) / 16 in [0, 1]. Band samples:
2000 values evenly spaced over 0.2..1.5 g (step 1.3 / 1999 = 0.00065 g).

* int8 (scale 1/255, zero point -128): code = round((g + 8) / 16 * 255) - 128; 0.2 g -> 130.69 -> 3,
  1.5 g -> 151.41 -> 23: codes 3..23, 21 of them (4.39 bits). g per code 16 / 255 = 0.0627 g.
  The band's share of the range: 1.3 g of the 16 g the 256 codes span = 0.08125.
* int16 (scale 1/32767, zero point 0): g per code 16 / 32767 = 0.000488 g, finer than the samples'
  step, so each of the 2000 samples has its own code (10.97 bits). The 65536 codes span
  65535 / 32767 * 16 = 32.0005 g: the share is 1.3 / 32.0005 = 0.040624 (min-max uses only the
  positive half of a symmetric int16 input).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.quant.metrics import Band, _distinct_rows, analyze_scalers, band_metrics, calibrate
from harness.quant.scalers import make_scaler
from harness.quant.tflite import INT16_MAX, QuantParams, choose_quantization_params
from harness.quant.verdict import judge

BAND = Band(0.2, 1.5)


@pytest.fixture(scope="module")
def scaler():
    return make_scaler("minmax").fit(np.array([[-8.0], [8.0]]))


def _band_trace():
    return np.linspace(0.2, 1.5, 2000)[:, None]


def test_int8_band_by_hand(scaler):
    params = choose_quantization_params(0.0, 1.0)
    assert (params.scale, params.zero_point) == (float(np.float32(1 / 255)), -128)
    m = band_metrics(scaler, params, _band_trace(), BAND)
    assert m.levels == 256 and m.input_dtype == "int8"
    assert m.codes_used == 21
    assert m.effective_bits == pytest.approx(math.log2(21))
    assert m.g_per_code == pytest.approx(16 / 255, rel=1e-6)
    assert m.band_share == pytest.approx(1.3 / 16, rel=1e-6)
    assert judge(m).status == "COLLAPSED"


def test_int16_band_by_hand(scaler):
    params = QuantParams(float(np.float32(1 / INT16_MAX)), 0, -32768, 32767)
    m = band_metrics(scaler, params, _band_trace(), BAND)
    assert m.levels == 65536 and m.input_dtype == "int16"
    assert m.codes_used == 2000
    assert m.effective_bits == pytest.approx(math.log2(2000))
    assert m.g_per_code == pytest.approx(16 / 32767, rel=1e-6)
    assert m.band_share == pytest.approx(1.3 / (65535 / 32767 * 16), rel=1e-6)
    assert m.saturation_rate == 0.0
    verdict = judge(m)
    # 4 % of int16's range is 2662 codes of capacity: the share rule (38 codes of an 8-bit input
    # at COLLAPSED) does not call it collapsed; bits and SQNR are absolute and pass
    assert verdict.status == "OK", verdict.reason
    assert "2000 of 65536 codes" in verdict.reason


def test_share_rule_still_fires_at_int16_when_the_capacity_is_gone(scaler):
    """A band with under 38 codes of int16 capacity (the 8-bit COLLAPSED share, 0.15 x 256) is
    COLLAPSED by the share rule, and the reason names the int16 range."""
    wide = make_scaler("minmax").fit(np.array([[-20000.0], [20000.0]]))   # 40000 g over 65536 codes
    params = QuantParams(float(np.float32(1 / INT16_MAX)), 0, -32768, 32767)
    m = band_metrics(wide, params, _band_trace(), BAND)
    capacity = m.band_share * m.levels
    assert capacity == pytest.approx(1.3 / (65535 / 32767 * 40000) * 65536, rel=1e-6)
    assert capacity < 0.15 * 256
    verdict = judge(m)
    assert verdict.status == "COLLAPSED"
    assert "of the int16 range" in verdict.reason and "the outliers set the int16 range" in verdict.reason


def test_distinct_rows_counts_int16_tuples():
    # (0, 256) and (1, 0) were one key in base 256 (int8 digits); int16 tuples must stay apart
    rows = np.array([[0, 256], [1, 0], [1, 0], [-32768, 32767], [32767, -32768]], dtype=np.int16)
    assert _distinct_rows(rows) == 4
    assert _distinct_rows(np.zeros((0, 2), dtype=np.int16)) == 0


def test_calibrate_int16_and_analyze_at_16x8():
    rng = np.random.default_rng(1)
    calibration = rng.normal([0.0, 0.0, 1.0], [0.5, 0.4, 0.3], size=(4000, 3))
    calibration[7] = [1.0, -2.0, 9.13]
    scaler, params = calibrate("minmax", calibration, input_dtype="int16")
    y = scaler.transform(calibration)
    assert params.zero_point == 0 and params.scale == float(np.float32(max(abs(y.min()), abs(y.max())) / 32767))
    (spec8, _, p8, m8), = analyze_scalers(["minmax"], calibration, band=BAND)
    (spec16, _, p16, m16), = analyze_scalers(["minmax"], calibration, band=BAND, input_dtype="int16")
    assert (p8.dtype, p16.dtype) == ("int8", "int16")
    assert m16.codes_used > 10 * m8.codes_used
    assert judge(m8).status == "COLLAPSED" and judge(m16).status == "OK"
