"""harness.suite.analysis on crafted arrays: output figures, recall drop, the verdict rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.quant.verdict import COLLAPSED, DEGRADED, OK
from harness.suite.analysis import candidate_specs, combine, output_figures, recall_drop

CLASSES = ["normal", "pre_failure", "impact"]


def test_identical_outputs_are_exact_and_agree():
    scores = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.0, 0.0, 1.0]], dtype=np.float32)
    codes = np.array([[102, -115, -115], [-102, 77, -102], [-128, -128, 127]], dtype=np.int8)
    figures = output_figures(scores, scores, codes, codes, np.array([0, 1, 2]), CLASSES)
    assert figures["exact_share"] == 1.0 and figures["within_1lsb_share"] == 1.0 and figures["max_lsb"] == 0
    assert figures["mae"] == 0.0 and figures["rmse"] == 0.0 and figures["l2r"] == 0.0
    assert figures["cosine"] == pytest.approx(1.0)
    assert figures["top1_agreement"] == 1.0
    assert figures["recall_device"] == {"normal": 1.0, "pre_failure": 1.0, "impact": 1.0}
    assert figures["confusion_device"] == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]


def test_one_lsb_and_errors_are_counted():
    float_scores = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=np.float32)
    device_scores = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]], dtype=np.float32)
    device = np.array([[0, 5, 0], [1, 6, 3]], dtype=np.int8)
    host = np.array([[0, 4, 0], [1, 6, 6]], dtype=np.int8)
    f = output_figures(float_scores, device_scores, device, host, np.array([0, 1]), CLASSES)
    assert f["exact_share"] == pytest.approx(4 / 6)
    assert f["within_1lsb_share"] == pytest.approx(5 / 6)
    assert f["max_lsb"] == 3
    assert f["mae"] == pytest.approx(2 / 6)
    assert f["rmse"] == pytest.approx(math.sqrt(2 / 6))
    assert f["l2r"] == pytest.approx(math.sqrt(2) / math.sqrt(2))
    assert f["cosine"] == pytest.approx(1 / 2)
    assert f["top1_agreement"] == 0.5
    assert f["recall_float"]["normal"] == 1.0 and f["recall_device"]["normal"] == 0.0
    assert f["recall_float"]["impact"] is None


def test_recall_drop_takes_the_worse_watched_class():
    outputs = {"recall_float": {"normal": 0.97, "pre_failure": 0.95, "impact": 1.0},
               "recall_device": {"normal": 0.25, "pre_failure": 1.0, "impact": 0.2}}
    drop, cls = recall_drop(outputs, ("normal", "pre_failure"))
    assert cls == "normal" and drop == pytest.approx(0.72)   # impact is not a watched class


@pytest.mark.parametrize("input_status, output_status, expected", [
    (OK, OK, OK),
    (DEGRADED, OK, DEGRADED),
    (COLLAPSED, OK, DEGRADED),           # latent: codes gone, outputs hold
    (COLLAPSED, DEGRADED, DEGRADED),     # minmax_qat
    (COLLAPSED, COLLAPSED, COLLAPSED),   # minmax
    (OK, COLLAPSED, COLLAPSED),          # outputs lost for another reason
])
def test_verdict_rule(input_status, output_status, expected):
    assert combine(input_status, output_status) == expected


def test_candidates_cover_every_registered_scaler_once():
    from harness.quant.scalers import scaler_names
    specs = candidate_specs()
    assert sorted(set(s.split(":")[0] for s in specs)) == scaler_names()
    assert len(specs) == len(set(specs))
    assert "robust:clip_lo=-8,clip_hi=8" in specs and "robust:clip_lo=-16,clip_hi=16" in specs   # wider clips
    assert "log1p:knee_g=1" in specs   # the committed variant's knee, not the default
