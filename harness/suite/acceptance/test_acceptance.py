"""Acceptance: every model through the scenario set on the device (any target), against the float
and host-INT8 references. Fixtures and options: harness.pytest_plugin (hil_suite_*).

Each test is one check of harness.suite.checks, the checks hil run reports itself; the verdicts
are asserted against each bundle's own expectations (harness.suite.expectations): a
collapse detector that stops firing on the min-max model, or a healthy model flagged, fails here;
a bundle without expectations fails unless its verdict is OK.
"""

from __future__ import annotations

from harness.suite import checks
from harness.suite.report import model_summary_html
from harness.suite.plots import code_histograms, confusion_matrices, error_vs_amplitude, misclassified_traces


def _passes(check, hil_suite_result):
    """The check finds nothing wrong; else the test fails with the first finding."""
    failures = check(hil_suite_result)
    assert not failures, failures[0]


def test_device_outputs_match_host_int8(hil_suite_result, hil_extras):
    """Bit-exact engine: every output code equals the host INT8 reference's on the device's codes."""
    hil_extras.append(("html", model_summary_html(hil_suite_result.report)))
    _passes(checks.outputs_match_host_int8, hil_suite_result)


def test_device_answered_every_window(hil_suite_result):
    _passes(checks.device_answered_every_window, hil_suite_result)


def test_device_preprocessing_matches_the_bundle(hil_suite_result):
    """A team's firmware with its own preprocessing (no SET_PREPROCESS) feeds its model what the
    bundle declares; the harness's own firmware passes by its bit-exact fold check."""
    _passes(checks.device_preprocessing_matches_the_bundle, hil_suite_result)


def test_float_reference_recognises_the_scenarios(hil_suite_result):
    _passes(checks.float_reference_recognises_the_scenarios, hil_suite_result)


def test_input_codes_collapse_verdict(hil_suite_result, hil_model_name, hil_extras):
    report, run = hil_suite_result.report, hil_suite_result.run
    hil_extras.append(("png", f"{hil_model_name}: input code histograms", code_histograms(run, report)))
    _passes(checks.input_code_verdict, hil_suite_result)


def test_model_verdict(hil_suite_result, hil_model_name, hil_extras):
    report, run = hil_suite_result.report, hil_suite_result.run
    hil_extras.append(("html", model_summary_html(report)))
    hil_extras.append(("png", f"{hil_model_name}: confusion matrices", confusion_matrices(run, report)))
    for name, draw in (("misclassified windows", misclassified_traces), ("error vs shock amplitude", error_vs_amplitude)):
        png = draw(run, report)
        if png is not None:
            hil_extras.append(("png", f"{hil_model_name}: {name}", png))
    _passes(checks.model_verdict, hil_suite_result)


def test_collapse_comes_with_computed_recommendations(hil_suite_result):
    _passes(checks.collapse_comes_with_computed_recommendations, hil_suite_result)


def test_recommendations_list_the_same_scaler_at_16x8(hil_suite_result):
    """An INT8 model whose input codes are not OK is told what its own scaler at 16x8 would keep,
    and what that costs on the device when its 16x8 sibling ran in the same session."""
    _passes(checks.recommendations_list_the_same_scaler_at_16x8, hil_suite_result)
