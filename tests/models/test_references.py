"""The two references on the committed fixtures, and the field report reproduced. No TensorFlow.

Figures are recalls on the held-out set the metadata names (200 windows per class).
"""

from __future__ import annotations

import numpy as np
import pytest
from model_cases import GOOD_MODELS, MODELS_DIR

from harness.errors import ModelError
from harness.bundle.load import load_bundle
from harness.models.references import (FloatReference, HostInt8Reference, Prediction,
                                       open_reference)
from harness.quant.tflite import QuantParams, quantize

NORMAL, PRE_FAILURE, IMPACT = "normal", "pre_failure", "impact"


def _normal_vs_pre(report, kind):
    per_class = report.accuracy[kind]["per_class"]
    return (per_class[NORMAL] + per_class[PRE_FAILURE]) / 2


def test_one_interface(held_out):
    bundle = load_bundle(MODELS_DIR / "robust.json")
    scaled = bundle.scaler.transform(held_out.windows_g[:5]).astype(np.float32)
    for reference in (FloatReference(bundle.float_path), HostInt8Reference(bundle.int8_path)):
        prediction = reference.predict(scaled)
        assert isinstance(prediction, Prediction)
        assert prediction.scores.shape == (5, 3) and prediction.scores.dtype == np.float32
        assert np.array_equal(prediction.argmax, prediction.scores.argmax(axis=1))
        assert np.allclose(prediction.scores.sum(axis=1), 1.0, atol=0.02)
        assert reference.window_len == 128 and reference.channels == 3
    assert type(open_reference(bundle.int8_path)) is HostInt8Reference
    assert type(open_reference(bundle.float_path)) is FloatReference


def test_int8_reference_quantizes_like_tflite(held_out):
    """The input codes are harness.quant's TFLite QUANTIZE, and the output dequantizes exactly."""
    bundle = load_bundle(MODELS_DIR / "minmax.json")
    reference = HostInt8Reference(bundle.int8_path)
    scaled = bundle.scaler.transform(held_out.windows_g[:3]).astype(np.float32)
    params = QuantParams(bundle.metadata.input["scale"], bundle.metadata.input["zero_point"])
    codes = quantize(scaled, params)
    prediction = reference.predict(scaled)
    assert np.array_equal(prediction.input_codes, codes)
    assert np.array_equal(reference.predict_codes(codes).codes, prediction.codes)
    out = bundle.metadata.output
    assert np.allclose(prediction.scores, out["scale"] * (prediction.codes.astype(np.int32)
                                                           - out["zero_point"]))


def test_references_reject_wrong_input(held_out):
    bundle = load_bundle(MODELS_DIR / "two_stage.json")
    reference = HostInt8Reference(bundle.int8_path)
    with pytest.raises(ModelError, match=r"shape \(2, 128, 3\).*\(n, 128, 6\)"):
        reference.predict(held_out.windows_g[:2])       # raw 3-axis g, not the 6-channel scaler
    with pytest.raises(ModelError, match="must be int8"):
        reference.predict_codes(np.zeros((1, 128, 6), dtype=np.int16))
    with pytest.raises(ModelError, match="float reference needs float32"):
        FloatReference(bundle.int8_path)
    with pytest.raises(ModelError, match="needs a quantized int8 input"):
        HostInt8Reference(bundle.float_path)


def test_figures_match_metadata(reports):
    """hil models --table recomputes exactly what hil train recorded (same confusion matrices)."""
    assert reports, "no committed models"
    for name, report in reports.items():
        assert report.matches_metadata, name


@pytest.mark.parametrize("name", ["minmax", *GOOD_MODELS])
def test_float_reference_is_accurate(reports, name):
    report = reports[name]
    assert report.accuracy["float"]["overall"] >= 0.88, report.accuracy["float"]
    assert report.accuracy["float"]["per_class"][IMPACT] >= 0.98


@pytest.mark.parametrize("name", GOOD_MODELS)
def test_int8_agrees_with_float_on_good_models(reports, held_out, name):
    """Host INT8 argmax vs float argmax, window by window."""
    bundle = load_bundle(MODELS_DIR / f"{name}.json")
    scaled = bundle.scaler.transform(held_out.windows_g).astype(np.float32)
    float_argmax = FloatReference(bundle.float_path).predict(scaled).argmax
    int8_argmax = HostInt8Reference(bundle.int8_path).predict(scaled).argmax
    assert (float_argmax == int8_argmax).mean() >= 0.95
    report = reports[name]
    assert _normal_vs_pre(report, "int8") >= _normal_vs_pre(report, "float") - 0.03


def test_minmax_collapses_in_int8(reports):
    """The field report on the host: float keeps it, INT8 loses normal vs pre-failure."""
    report = reports["minmax"]
    assert _normal_vs_pre(report, "float") >= 0.9
    assert _normal_vs_pre(report, "int8") <= _normal_vs_pre(report, "float") - 0.25
    # impacts (8.13 g) stay obvious in INT8: the collapse is in the normal band
    assert report.accuracy["int8"]["per_class"][IMPACT] >= 0.98
    # the mechanism: the shock-set range leaves the normal band few input codes
    assert report.normal_codes < 0.4 * reports["two_stage"].normal_codes


def test_recovery_beats_minmax(reports):
    collapsed = _normal_vs_pre(reports["minmax"], "int8")
    for name in GOOD_MODELS:
        assert _normal_vs_pre(reports[name], "int8") >= collapsed + 0.2, name


def test_minmax_int8_confuses_normal_and_pre_failure(reports):
    """Where the errors go: between normal and pre-failure, not into impact."""
    confusion = np.array(reports["minmax"].accuracy["int8"]["confusion"])
    errors = confusion.sum() - np.trace(confusion)
    assert errors > 0
    between = confusion[0, 1] + confusion[1, 0]
    assert between >= 0.9 * errors


def test_qat_on_minmax_recovers_only_partly(reports):
    """QAT trains against the coarse input codes, so it gets much of the way back, but it cannot
    restore resolution the input tensor never had: it stays below float (and below robust)."""
    qat, collapsed = reports["minmax_qat"], reports["minmax"]
    assert qat.normal_codes == pytest.approx(collapsed.normal_codes, abs=10)  # same squeezed input
    assert _normal_vs_pre(qat, "int8") >= _normal_vs_pre(collapsed, "int8") + 0.2
    assert _normal_vs_pre(qat, "int8") <= _normal_vs_pre(qat, "float") - 0.03
    assert _normal_vs_pre(qat, "int8") < _normal_vs_pre(reports["robust"], "int8")


@pytest.mark.parametrize("qat, ptq", [("minmax_qat", "minmax"), ("robust_qat", "robust")])
def test_qat_float_reference_is_the_model_qat_started_from(qat, ptq):
    """Same seed, same scaler: QAT fine-tunes the very float model its PTQ sibling converts."""
    assert (MODELS_DIR / f"{qat}.float.tflite").read_bytes() == \
        (MODELS_DIR / f"{ptq}.float.tflite").read_bytes()
