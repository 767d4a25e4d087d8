"""The relative input-code rules against hand-computed cases: the band's share of the INT8 range
and the bits lost against the best scaler."""

from __future__ import annotations

import numpy as np
import pytest

from harness.quant.metrics import Band, band_metrics, band_share
from harness.quant.scalers import make_scaler
from harness.quant.tflite import QuantParams
from harness.quant.verdict import COLLAPSED, DEGRADED, OK, Best, VerdictThresholds, judge


def _minmax(lo_g: float, hi_g: float):
    return make_scaler("minmax").fit(np.array([[lo_g], [hi_g]]))


def test_band_share_of_an_affine_scaler_is_band_width_over_the_code_range():
    # min-max over [-1, 9] g onto [0, 1], int8 scale 1/255 zero point -128: the 256 codes span
    # 255/255 * 10 g = 10 g; the 0.2-1.5 g band is 1.3 g of it
    scaler, params = _minmax(-1.0, 9.0), QuantParams(1 / 255, -128)
    assert band_share(scaler, params, Band(0.2, 1.5), 0) == pytest.approx(0.13, rel=1e-6)
    # a range narrower than the band: the band cannot get more than all of it
    assert band_share(_minmax(0.0, 1.0), params, Band(0.2, 1.5), 0) == 1.0


def test_band_share_of_log1p_counts_the_codes_that_land_in_the_band():
    # log1p with centre 0 and knee 1 g: y = log1p(x); int8 scale s, zero point 0 -> code k is
    # y = k s, x = expm1(k s); codes with 0.2 <= x <= 1.5 are k in [log1p(0.2)/s, log1p(1.5)/s]
    scaler = make_scaler("log1p", knee_g=1.0, center="none").fit(np.array([[-8.0], [8.0]]))
    s = float(np.log1p(8.0)) / 127
    params = QuantParams(s, 0)
    k = np.arange(-128, 128)
    x = np.expm1(np.abs(k * np.float32(s))) * np.sign(k)
    expected = float(((x >= 0.2) & (x <= 1.5)).mean())
    assert band_share(scaler, params, Band(0.2, 1.5), 0) == pytest.approx(expected, abs=1 / 256)


def test_a_small_share_collapses_and_the_reason_says_it():
    scaler, params = _minmax(-1.0, 12.0), QuantParams(1 / 255, -128)   # share 1.3/13 = 0.10
    samples = np.linspace(-1.0, 1.5, 20_000)[:, None]
    metrics = band_metrics(scaler, params, samples)
    assert metrics.band_share == pytest.approx(0.1, rel=1e-6)
    # give the absolute rule nothing to say, so that the share alone decides
    lenient = VerdictThresholds(collapsed_bits=0, degraded_bits=0, collapsed_sqnr_db=0, degraded_sqnr_db=0)
    verdict = judge(metrics, lenient)
    assert verdict.status == COLLAPSED and "the band gets 10% of the INT8 range" in verdict.reason
    assert judge(metrics, VerdictThresholds(collapsed_bits=0, degraded_bits=0, collapsed_sqnr_db=0,
                                            degraded_sqnr_db=0, collapsed_band_share=0.05)).status == DEGRADED


def test_bits_lost_against_the_best_scaler():
    scaler, params = _minmax(-0.5, 2.0), QuantParams(1 / 255, -128)      # share 0.52: healthy
    samples = np.linspace(0.2, 1.5, 50_000)[:, None]
    metrics = band_metrics(scaler, params, samples)
    lenient = VerdictThresholds(collapsed_bits=0, degraded_bits=0)
    bits = metrics.effective_bits
    assert judge(metrics, lenient, best=Best("two_stage", bits + 1.0, 0)).status == OK
    lost_2 = judge(metrics, lenient, best=Best("two_stage", bits + 2.0, 256))
    assert lost_2.status == DEGRADED and "2.0 bits fewer than two_stage (256 codes)" in lost_2.reason
    assert judge(metrics, lenient, best=Best("two_stage", bits + 2.6, 0)).status == COLLAPSED


def test_remedies_are_named_only_when_given():
    scaler, params = _minmax(-1.0, 12.0), QuantParams(1 / 255, -128)
    metrics = band_metrics(scaler, params, np.linspace(-1.0, 1.5, 5000)[:, None])
    assert "try" not in judge(metrics).reason
    assert judge(metrics, remedies=["robust:clip_lo=-8,clip_hi=8"]).reason.endswith("- try robust:clip_lo=-8,clip_hi=8")
