"""Collapse metrics and verdicts: the seed case, the shock-calibrated trace, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.errors import ScalerError, TraceError
from harness.quant.metrics import Band, analyze_scalers, band_metrics, calibrate
from harness.quant.verdict import COLLAPSED, DEGRADED, OK, VerdictThresholds, judge
from harness.signals.schema import axes_g
from harness.signals.synth import make_scenario


@pytest.fixture(scope="module")
def impact_g():
    return axes_g(make_scenario("impact", seconds=60, seed=1))


def test_seed_example_metrics():
    data = np.concatenate([np.linspace(0.2, 1.5, 100), [8.13]])
    scaler, params = calibrate("minmax", data)
    metrics = band_metrics(scaler, params, data)
    assert metrics.codes_used == 43 and metrics.band_samples == 100
    assert metrics.effective_bits == pytest.approx(math.log2(43))
    # one code is (8.13 - 0.2) / 255 g wide; the calibration range is 7.93 g for a 1.3 g band
    assert metrics.g_per_code == pytest.approx(7.93 / 255, rel=1e-6)
    assert metrics.range_ratio == pytest.approx(7.93 / 1.3, rel=1e-6)
    # uniform quantization of a ramp: SQNR = 10 log10(var / (step^2 / 12)), within a dB
    step = 7.93 / 255
    expected = 10 * math.log10(np.var(data[:100]) / (step ** 2 / 12))
    assert metrics.sqnr_db == pytest.approx(expected, abs=1.0)
    verdict = judge(metrics)
    assert verdict.status == COLLAPSED
    assert "uses 43 of 256 codes (5.4 bits)" in verdict.reason
    assert "calibration range 7.93 g vs band 1.3 g" in verdict.reason


def test_shock_in_calibration_collapses_minmax_not_robust_or_two_stage(impact_g):
    results = {spec: (m, judge(m)) for spec, _, _, m in
               analyze_scalers(["minmax", "zscore", "robust", "log1p", "two_stage"], impact_g)}
    assert results["minmax"][1].status == COLLAPSED
    assert results["minmax"][0].worst_axis == "az_g" and results["minmax"][0].codes_used < 64
    assert results["zscore"][1].status == COLLAPSED  # affine without clip: same as min-max
    assert results["robust"][1].status == OK and results["robust"][0].codes_used >= 128
    assert results["two_stage"][1].status == OK
    # log1p triples min-max's codes; the shock still owns half the code space, which the
    # default 6-bit line accepts (the log1p model keeps its float accuracy in INT8)
    assert results["log1p"][1].status == OK
    assert results["log1p"][0].codes_used > 2 * results["minmax"][0].codes_used


def test_without_the_shock_minmax_is_fine():
    g = axes_g(make_scenario("normal", seconds=30, seed=1))
    scaler, params = calibrate("minmax", g)
    assert judge(band_metrics(scaler, params, g)).status == OK


def test_tight_clip_is_flagged_as_saturation(impact_g):
    (_, _, _, metrics), = analyze_scalers(["robust:clip_lo=-1,clip_hi=1"], impact_g)
    verdict = judge(metrics)
    assert verdict.status == COLLAPSED
    assert metrics.saturation_rate > 0.5
    assert "saturate" in verdict.reasons[0] and "narrower than the band" in verdict.reasons[0]


def test_thresholds_are_configurable(impact_g):
    (_, _, _, metrics), = analyze_scalers(["log1p"], impact_g)
    assert judge(metrics).status == OK
    strict = VerdictThresholds(collapsed_bits=6.0, degraded_bits=7.0)
    verdict = judge(metrics, strict)
    assert verdict.status == DEGRADED and "(6.5 bits)" in verdict.reason


def test_two_stage_counts_code_tuples(impact_g):
    (_, scaler, _, metrics), = analyze_scalers(["two_stage"], impact_g)
    assert scaler.output_channels == 6
    assert metrics.codes_used > 128  # fine channel resolves the band


def test_metrics_to_dict_is_json_safe(impact_g):
    import json
    (_, _, _, metrics), = analyze_scalers(["minmax"], impact_g)
    d = json.loads(json.dumps(metrics.to_dict()))
    assert d["codes_used"] == metrics.codes_used and len(d["per_axis"]) == 3


# --- bad input --------------------------------------------------------------------------------

def test_calibration_without_the_band_saturates_it():
    rng = np.random.default_rng(0)
    quiet = rng.normal(0, 0.01, (5000, 3))                   # calibration: a ship in harbour
    busy = rng.uniform(-1.5, 1.5, (5000, 3))
    scaler, params = calibrate("minmax", quiet)
    metrics = band_metrics(scaler, params, busy)
    assert metrics.saturation_rate == 1.0
    verdict = judge(metrics)
    assert verdict.status == COLLAPSED and "saturate" in verdict.reason


def test_trace_without_band_samples_is_a_clear_error():
    g = np.full((100, 3), 0.05) + np.linspace(0, 0.01, 100)[:, None]
    scaler, params = calibrate("minmax", g)
    with pytest.raises(TraceError, match="no sample of the trace falls in the band 0.2-1.5 g"):
        band_metrics(scaler, params, g)


def test_constant_band_has_no_sqnr_but_a_verdict():
    g = np.column_stack([np.linspace(-1, 1, 200), np.linspace(-1, 1, 200), np.full(200, 1.0)])
    scaler, params = calibrate("log1p", g)
    metrics = band_metrics(scaler, params, g, Band(0.9, 1.1))
    z = next(a for a in metrics.per_axis if a.axis == "az_g")
    assert z.sqnr_db is None and z.codes_used == 1
    assert judge(metrics).status == COLLAPSED


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_trace_names_row_and_axis(bad):
    g = np.ones((10, 3))
    g[4, 2] = bad
    scaler, params = calibrate("log1p", np.random.default_rng(0).normal(size=(50, 3)))
    with pytest.raises(TraceError, match="row 4, column 'az_g'"):
        band_metrics(scaler, params, g)


def test_empty_trace_constant_calibration_unknown_scaler():
    scaler, params = calibrate("robust", np.random.default_rng(0).normal(size=(50, 3)))
    with pytest.raises(TraceError, match="empty"):
        band_metrics(scaler, params, np.empty((0, 3)))
    with pytest.raises(ScalerError, match="zero"):
        calibrate("minmax", np.ones((50, 3)))
    with pytest.raises(ScalerError, match="known scalers"):
        calibrate("minmix", np.ones((50, 3)))


def test_band_parsing():
    assert Band.parse("0.2:1.5") == Band(0.2, 1.5)
    for text in ["1.5:0.2", "abc", "0.2", "-1:1"]:
        with pytest.raises(TraceError, match="band"):
            Band.parse(text)
