"""What the acceptance suite asserts of each model's result, once: every reporter (``hil run``'s
own JUnit and HTML, the pytest acceptance module, a script) reads these.

Each check takes a SuiteResult (run + report) and returns its failures; an empty list passes.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.suite.expectations import input_verdict_failures, verdict_failures


def outputs_match_host_int8(result) -> list[str]:
    """Bit-exact engine: every output code equals the host INT8 reference's on the device's codes."""
    o = result.report.outputs
    if o["within_1lsb_share"] != 1.0:
        return [f"max difference {o['max_lsb']} LSB"]
    if o["exact_share"] != 1.0:
        return [f"{1 - o['exact_share']:.2%} of output codes differ (max {o['max_lsb']} LSB)"]
    return []


def device_answered_every_window(result) -> list[str]:
    """The device's health, apart from the model's: a window the device failed twice (reset and
    retried once in between) is a DEVICE FAULT and is left out of every model figure."""
    report = result.report
    if report.device_status == "OK":
        return []
    return [f"DEVICE FAULT (not a model fault) on {len(report.device_faults)} window(s): "
            + "; ".join(report.device_reasons())]


def float_reference_recognises_the_scenarios(result) -> list[str]:
    """The scored windows are in the model's distribution: float recall is high, so a device
    recall drop is evidence about INT8, not about the windows."""
    if result.run.model.float_reference is None:
        return []   # no float reference: the reasons say which figures are missing
    recall = result.report.outputs["recall_float"]
    low = {c: v for c, v in recall.items() if v is None or v < 0.8}
    return [f"float recall under 0.8: {low} (all: {recall})"] if low else []


def device_preprocessing_matches_the_bundle(result) -> list[str]:
    """A firmware that runs its own preprocessing feeds its model what the bundle declares."""
    check = result.report.preprocessing
    return [check.reason()] if check is not None and check.mismatch else []


def input_code_verdict(result) -> list[str]:
    return input_verdict_failures(result.report, result.run.model.expectations)


def model_verdict(result) -> list[str]:
    return verdict_failures(result.report, result.run.model.expectations)


def collapse_comes_with_computed_recommendations(result) -> list[str]:
    report = result.report
    if report.input_verdict.status == "OK":
        return [] if report.recommendations == [] else ["recommendations given for an OK input"]
    keeping = [r for r in report.recommendations if r.status == "OK"]
    if not keeping:
        return []   # said in the reasons ("no registered scaler keeps the band OK ..."): a finding, not a bug
    problems = []
    # the model's own scaler at 16x8 (input_dtype int16) is the one same-kind remedy meant
    if any(r.spec.split(":")[0] == report.scaler.split(":")[0] and r.input_dtype == report.band.input_dtype
           for r in keeping):
        problems.append("the model's own scaler kind is recommended against itself")
    if not any(r.spec in report.reason for r in keeping):
        problems.append(f"the reasons name none of the scalers that keep the band OK: {report.reason}")
    return problems


def recommendations_list_the_same_scaler_at_16x8(result) -> list[str]:
    """An INT8 model's recommendations name its own scaler at 16x8, with the cost measured on this
    device when the run holds its 16x8 sibling (harness.suite.remedy16)."""
    report = result.report
    if report.input_verdict.status == "OK" or report.band.input_dtype != "int8":
        return []
    remedies = [r for r in report.recommendations if r.input_dtype == "int16"]
    if [r.spec for r in remedies] != [f"{report.scaler} at 16x8"]:
        return [f"recommendations hold {[r.spec for r in remedies]} at 16x8, expected [{report.scaler} at 16x8]"]
    remedy = remedies[0]
    if not any(reason.startswith(remedy.spec) for reason in report.reasons):
        return [f"the reasons do not name {remedy.spec} and its device cost"]
    if remedy.cost is not None:
        missing = [k for k in ("instructions_median", "arena_bytes") if remedy.cost["at_16x8"].get(k) is None]
        if missing:
            return [f"{remedy.spec}: its device cost lacks {', '.join(missing)}"]
    return []


CHECKS = {
    "device_outputs_match_host_int8": outputs_match_host_int8,
    "device_answered_every_window": device_answered_every_window,
    "device_preprocessing_matches_the_bundle": device_preprocessing_matches_the_bundle,
    "float_reference_recognises_the_scenarios": float_reference_recognises_the_scenarios,
    "input_codes_collapse_verdict": input_code_verdict,
    "model_verdict": model_verdict,
    "collapse_comes_with_computed_recommendations": collapse_comes_with_computed_recommendations,
    "recommendations_list_the_same_scaler_at_16x8": recommendations_list_the_same_scaler_at_16x8,
}


@dataclass(frozen=True)
class CheckResult:
    check: str
    model: str
    failures: tuple[str, ...]
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.failures


def run_checks(result) -> list[CheckResult]:
    import time
    out = []
    for name, check in CHECKS.items():
        started = time.monotonic()
        out.append(CheckResult(name, result.report.name, tuple(check(result)), time.monotonic() - started))
    return out
