"""Collapse on given codes equals harness.quant.metrics.band_metrics when the codes are the host's."""

from __future__ import annotations

import numpy as np
import pytest

from harness.quant.metrics import Band, band_metrics
from harness.quant.tflite import quantize
from harness.suite.collapse import codes_band_metrics, window_code_stats
from harness.suite.suite_model import load_suite_model
from harness.suite.scenarios import make_scenario_windows


@pytest.mark.parametrize("name", ["minmax", "log1p", "two_stage", "robust"])
def test_codes_band_metrics_equals_band_metrics_on_host_codes(name):
    model = load_suite_model(name)
    windows = make_scenario_windows("normal", model.dataset_config, 6, 11, 2048.0)
    g = windows.g.reshape(-1, 3)
    codes = quantize(model.scaler.transform(g), model.input_params)
    band = Band(0.2, 1.5)
    ours = codes_band_metrics(model.scaler, model.input_params, g, codes, band)
    host = band_metrics(model.scaler, model.input_params, g, band)
    assert ours.to_dict() == host.to_dict()


def test_min_max_band_is_squeezed_and_robust_is_not():
    minmax, robust = load_suite_model("minmax"), load_suite_model("robust")
    windows = make_scenario_windows("normal", minmax.dataset_config, 12, 5, 2048.0)
    g = windows.g.reshape(-1, 3)
    band = Band(0.2, 1.5)
    squeezed = codes_band_metrics(minmax.scaler, minmax.input_params, g,
                                  quantize(minmax.scaler.transform(g), minmax.input_params), band)
    spread = codes_band_metrics(robust.scaler, robust.input_params, g,
                                quantize(robust.scaler.transform(g), robust.input_params), band)
    assert squeezed.codes_used < 46 and squeezed.effective_bits < 5.5   # COLLAPSED line
    assert squeezed.range_g > 8.0                                      # the 8.13 g shock sets it
    assert spread.effective_bits > 6.5 and spread.range_g < 3.0


def test_window_code_stats():
    from harness.quant.tflite import QuantParams
    codes = np.array([[[-128, 0], [-128, 1], [5, 127]], [[3, 3], [3, 3], [3, 3]]], dtype=np.int8)
    stats = window_code_stats(codes, QuantParams(1 / 256, -128))
    assert stats["codes_distinct_min"].tolist() == [2, 1]
    assert stats["code_min"].tolist() == [-128, 3] and stats["code_max"].tolist() == [127, 3]
    assert stats["rail_share"].tolist() == pytest.approx([3 / 6, 0.0])
