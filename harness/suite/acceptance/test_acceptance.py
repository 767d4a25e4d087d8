"""Acceptance: every model through the scenario set on the device (any target), against the float
and host-INT8 references. Fixtures and options: harness.pytest_plugin (hil_suite_*).

The verdicts are asserted (harness.suite.expectations): a collapse detector that stops firing on
the min-max model, or a healthy model flagged, fails here.
"""

from __future__ import annotations

import html

import pytest

from harness.suite.expectations import EXPECTED_INPUT_VERDICTS, EXPECTED_VERDICTS
from harness.suite.plots import code_histograms, confusion_matrices, error_vs_amplitude, misclassified_traces


def _summary_html(report) -> str:
    rows = "".join(f"<li>{html.escape(r)}</li>" for r in report.reasons)
    o = report.outputs
    recalls = ", ".join(f"{c} {o['recall_float'][c]:.2f}/{o['recall_device'][c]:.2f}" for c in o["recall_float"])
    return (f"<div><b>{html.escape(report.name)}</b> ({html.escape(report.scaler)}, {report.method}): "
            f"<b>{report.status}</b> (input codes {report.input_verdict.status}, outputs {report.output_status})"
            f"<br>recall float/device: {recalls}; top-1 agreement with float {o['top1_agreement']:.3f}; "
            f"MAE {o['mae']:.4f}, RMSE {o['rmse']:.4f}, L2R {o['l2r']:.4f}, cosine {o['cosine']:.4f}; "
            f"device == host INT8: {o['exact_share']:.1%} exact, {o['within_1lsb_share']:.1%} within 1 LSB"
            f"<ul>{rows}</ul></div>")


def test_device_outputs_match_host_int8(hil_suite_result, hil_extras):
    """Bit-exact engine: every output code equals the host INT8 reference's on the device's codes."""
    o = hil_suite_result.report.outputs
    hil_extras.append(("html", _summary_html(hil_suite_result.report)))
    assert o["within_1lsb_share"] == 1.0, f"max difference {o['max_lsb']} LSB"
    assert o["exact_share"] == 1.0, f"{1 - o['exact_share']:.2%} of output codes differ (max {o['max_lsb']} LSB)"


def test_device_answered_every_window(hil_suite_result):
    """The device's health, apart from the model's: a window the device failed twice (reset and
    retried once in between) is a DEVICE FAULT here and is left out of every model figure."""
    report = hil_suite_result.report
    assert report.device_status == "OK", (
        f"DEVICE FAULT (not a model fault) on {len(report.device_faults)} window(s): " + "; ".join(report.device_reasons()))


def test_float_reference_recognises_the_scenarios(hil_suite_result):
    """The scenario set is in the models' distribution: float recall is high, so a device recall
    drop is evidence about INT8, not about the windows."""
    recall = hil_suite_result.report.outputs["recall_float"]
    assert all(value is not None and value >= 0.8 for value in recall.values()), recall


def test_input_codes_collapse_verdict(hil_suite_result, hil_model_name, hil_extras):
    report, run = hil_suite_result.report, hil_suite_result.run
    hil_extras.append(("png", f"{hil_model_name}: input code histograms", code_histograms(run, report)))
    expected = EXPECTED_INPUT_VERDICTS.get(hil_model_name)
    if expected is None:
        pytest.skip(f"no expectation for {hil_model_name}; input codes {report.input_verdict.status}")
    assert report.input_verdict.status == expected, report.input_verdict.reason


def test_model_verdict(hil_suite_result, hil_model_name, hil_extras):
    report, run = hil_suite_result.report, hil_suite_result.run
    hil_extras.append(("html", _summary_html(report)))
    hil_extras.append(("png", f"{hil_model_name}: confusion matrices", confusion_matrices(run, report)))
    for name, draw in (("misclassified windows", misclassified_traces), ("error vs shock amplitude", error_vs_amplitude)):
        png = draw(run, report)
        if png is not None:
            hil_extras.append(("png", f"{hil_model_name}: {name}", png))
    expected = EXPECTED_VERDICTS.get(hil_model_name)
    if expected is None:
        pytest.skip(f"no expectation for {hil_model_name}; verdict {report.status}: {report.reason}")
    assert report.status == expected, report.reason


def test_collapse_comes_with_computed_recommendations(hil_suite_result):
    report = hil_suite_result.report
    if report.input_verdict.status == "OK":
        assert report.recommendations == []
        return
    keeping = [r for r in report.recommendations if r.status == "OK"]
    assert keeping, "no scaler keeps the band OK on this calibration set"
    assert all(r.spec.split(":")[0] != report.scaler.split(":")[0] for r in keeping)
    assert any(r.spec in report.reason for r in keeping), report.reason
